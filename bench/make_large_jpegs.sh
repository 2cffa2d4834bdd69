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
for ((i = 0; i < count; i++)); do
  p="${photos[i % ${#photos[@]}]}"
  dst="$out/$(printf '%05d' "$i")-$(basename "${p%.*}").jpg"
  [ -f "$dst" ] && continue
  # -strip: no EXIF/ICC; a slight rotation per copy keeps copies from being byte-identical.
  convert "$p" -strip -resize '4000x3000!' -rotate "$((i / ${#photos[@]} % 3))" -gravity center \
    -extent 4000x3000 -quality 90 -sampling-factor 4:2:0 "$dst"
done
echo "$out: $(ls "$out" | wc -l) JPEGs of 4000x3000"
