#!/usr/bin/env bash
# Regenerates the decoder fixtures in tests/data (committed; rerun only to change them).
# Needs ImageMagick 6 (`convert`, JPEG via libjpeg-turbo, WebP via libwebp) and python3 (stdlib).
# *.rgb files are the expected 8-bit RGB pixels (no header), made independently of mediadex:
# by ImageMagick's own decode, or by construction in fixture_tools.py.
set -euo pipefail
cd "$(dirname "$0")"
T=fixture_tools.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
IM_READ="-define jpeg:dct-method=islow -define jpeg:fancy-upsampling=true"

# --- photo-like JPEGs (a seeded plasma fractal) and ImageMagick's decode of each ----------
convert -seed 7 -size 160x120 plasma:red-blue -blur 0x1 -depth 8 "$tmp/photo.png"
convert "$tmp/photo.png" -quality 90 -sampling-factor 2x2 photo.jpg
convert "$tmp/photo.png" -quality 90 -interlace Plane photo_progressive.jpg
convert "$tmp/photo.png" -quality 90 -colorspace Gray photo_gray.jpg
convert "$tmp/photo.png" -quality 95 -colorspace CMYK photo_cmyk.jpg
for f in photo photo_progressive photo_gray; do
  convert $IM_READ "$f.jpg" -depth 8 "rgb:$f.rgb"
done
convert $IM_READ photo_cmyk.jpg -colorspace sRGB -depth 8 rgb:photo_cmyk.rgb
# DCT-scaled decode at 1/2 and 1/4 by libjpeg itself (jpeg:size picks the same scale rule).
convert $IM_READ -define jpeg:size=80x60 photo.jpg -depth 8 rgb:photo_half.rgb
convert $IM_READ -define jpeg:size=40x30 photo.jpg -depth 8 rgb:photo_quarter.rgb
test "$(stat -c %s photo_half.rgb)" = $((80 * 60 * 3))
test "$(stat -c %s photo_quarter.rgb)" = $((40 * 30 * 3))

# --- EXIF orientation: stored pixels that each orientation turns into the upright quadrants -
python3 $T quad_ppm "$tmp/quad.ppm"
convert "$tmp/quad.ppm" -depth 8 rgb:quadrants.rgb
for o in 1 2 3 4 5 6 7 8; do
  python3 $T stored_ppm $o "$tmp/stored$o.ppm"
  convert "$tmp/stored$o.ppm" -quality 95 -sampling-factor 1x1 "$tmp/stored$o.jpg"
  le=$((o % 2))  # odd orientations little-endian ("II"), even big-endian ("MM")
  python3 $T jpeg_exif "$tmp/stored$o.jpg" $o $le "exif_orientation_$o.jpg"
  # Independent check: ImageMagick's -auto-orient must give back the upright quadrants.
  got=$(convert "exif_orientation_$o.jpg" -auto-orient -format '%wx%h %[pixel:p{8,8}] %[pixel:p{56,8}] %[pixel:p{8,40}]' info:)
  re='^64x48 srgb\(25[0-9],[0-4],[0-4]\) srgb\([0-4],25[0-9],[0-4]\) srgb\([0-4],[0-4],25[0-9]\)$'
  if ! [[ "$got" =~ $re ]]; then
    echo "orientation $o: ImageMagick sees '$got'" >&2
    exit 1
  fi
done
python3 $T png_exif 6 exif_orientation_6.png
python3 $T stored_ppm 8 "$tmp/stored8.ppm"
convert "$tmp/stored8.ppm" -define webp:lossless=true "$tmp/stored8.webp"
python3 $T webp_exif "$tmp/stored8.webp" 8 exif_orientation_8.webp 48 64

# --- PNGs written byte by byte with known pixels -------------------------------------------
python3 $T pngs .
convert "$tmp/photo.png" -resize 80x60 -strip -interlace PNG photo_interlaced.png
convert photo_interlaced.png -depth 8 rgb:photo_interlaced.rgb

# --- WebP ------------------------------------------------------------------------------------
convert "$tmp/photo.png" -define webp:lossless=true photo_lossless.webp
convert "$tmp/photo.png" -depth 8 rgb:photo_lossless.rgb   # lossless: the source pixels
convert "$tmp/photo.png" -quality 80 photo_lossy.webp
convert photo_lossy.webp -depth 8 rgb:photo_lossy.rgb

# --- broken and hostile files ---------------------------------------------------------------
head -c $(($(stat -c %s photo.jpg) / 2)) photo.jpg > truncated.jpg
: > empty.jpg
python3 $T random random.jpg 2048
printf 'This is a text file, not an image.\n' > not_an_image.txt
convert -size 16x16 xc:gray -quality 50 "$tmp/small.jpg"
python3 $T jpeg_bomb "$tmp/small.jpg" bomb_30000x30000.jpg 30000 30000
python3 $T png_bomb bomb_30000x30000.png 30000 30000
ls -l --block-size=1 | awk 'NR > 1 && $5 > 100000 { print "fixture over 100 KB: " $9; bad = 1 } END { exit bad }'
echo "fixtures written to $(pwd)"
