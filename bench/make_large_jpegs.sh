#!/usr/bin/env bash
# bench/make_large_jpegs.sh SRC_DIR OUT_DIR [COUNT]
# Makes COUNT (default: one per source photo) 4000x3000 JPEGs at quality 90 from the photos in
# SRC_DIR, cycling through them, the way a 12-megapixel camera library looks. Needs ImageMagick.
set -euo pipefail
src="$1"; out="$2"; count="${3:-0}"
command -v convert >/dev/null || { echo "make_large_jpegs: ImageMagick's convert is required" >&2; exit 1; }
mkdir -p "$out"
mapfile -t photos < <(find "$src" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.png' \) | sort)
[ "${#photos[@]}" -gt 0 ] || { echo "make_large_jpegs: no photos in $src" >&2; exit 1; }
[ "$count" -gt 0 ] || count=${#photos[@]}
# Three distinct renderings of each photo (rotated by 0, 1, 2 degrees); past those, files are
# hard links to them under new names: each costs the same to decode and detect, and making
# hundreds of 12 MP JPEGs with ImageMagick would take longer than the benchmark itself.
distinct=$(( ${#photos[@]} * 3 ))
name_of() { local p="${photos[$1 % ${#photos[@]}]}"; echo "$out/$(printf '%05d' "$1")-$(basename "${p%.*}").jpg"; }
for ((i = 0; i < count; i++)); do
  dst=$(name_of "$i")
  [ -f "$dst" ] && continue
  if (( i >= distinct )); then
    ln "$(name_of $(( i % distinct )))" "$dst"
    continue
  fi
  p="${photos[i % ${#photos[@]}]}"
  # -strip: no EXIF/ICC.
  convert "$p" -strip -resize '4000x3000!' -rotate "$((i / ${#photos[@]} % 3))" -gravity center \
    -extent 4000x3000 -quality 90 -sampling-factor 4:2:0 "$dst"
done
echo "$out: $(ls "$out" | wc -l) JPEGs of 4000x3000"
