#!/usr/bin/env bash
# Regenerates the decoder fixtures in tests/data (committed; rerun only to change them).
# Needs ImageMagick 6 (`convert`, JPEG via libjpeg-turbo, WebP via libwebp) and python3 (stdlib);
# the second part (new formats, videos) also heif-enc (libheif-examples) and the ffmpeg CLI.
#   make_fixtures.sh           everything
#   make_fixtures.sh formats   only HEIF/TIFF/GIF/BMP, EXIF capture time and video fixtures
# *.rgb files are the expected 8-bit RGB pixels (no header), made independently of mediadex:
# by ImageMagick's own decode, or by construction in fixture_tools.py.
set -euo pipefail
cd "$(dirname "$0")"
T=fixture_tools.py
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
IM_READ="-define jpeg:dct-method=islow -define jpeg:fancy-upsampling=true"

only="${1:-all}"
convert -seed 7 -size 160x120 plasma:red-blue -blur 0x1 -depth 8 "$tmp/photo.png"
if [ "$only" = all ]; then
# --- photo-like JPEGs (a seeded plasma fractal) and ImageMagick's decode of each ----------
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
python3 $T png_exif_first_intact exif_png_first_intact.png
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
fi  # only = all

# === second part: TIFF, GIF, BMP, HEIF, EXIF capture time, videos ===========================
python3 $T quad_ppm "$tmp/quad.ppm"
python3 $T stored_ppm 6 "$tmp/stored6.ppm"
convert "$tmp/photo.png" -depth 8 rgb:"$tmp/photo.rgb"
cmp "$tmp/photo.rgb" photo_lossless.rgb  # the source pixels every lossless fixture must give back

# --- TIFF (first page; ImageMagick writes, libtiff-independent expectations) ---------------
convert "$tmp/photo.png" -compress LZW photo.tif                     # RGB 8-bit strips
convert "$tmp/photo.png" -compress Zip -define tiff:tile-geometry=64x64 photo_tiled.tif
convert "$tmp/photo.png" -colorspace Gray -depth 16 -compress None gray16.tif
convert gray16.tif -depth 8 rgb:gray16_tif.rgb
convert "$tmp/photo.png" -colors 32 -type Palette -compress LZW palette.tif
convert palette.tif -depth 8 rgb:palette_tif.rgb
convert "$tmp/photo.png" -colorspace CMYK -depth 8 -compress LZW cmyk.tif
convert cmyk.tif -depth 8 cmyk:"$tmp/cmyk.raw"
python3 $T cmyk_to_rgb "$tmp/cmyk.raw" cmyk_tif.rgb
convert "$tmp/stored6.ppm" -orient RightTop tiff_orientation_6.tif   # TIFF tag, not EXIF
convert "$tmp/photo.png" "$tmp/quad.ppm" -compress LZW multipage.tif  # 2 pages
head -c 3000 photo.tif > truncated.tif

# --- GIF: first frame only --------------------------------------------------------------------
convert "$tmp/photo.png" -colors 64 photo.gif
convert photo.gif -depth 8 rgb:photo_gif.rgb
convert "$tmp/photo.png" -colors 64 -interlace GIF photo_interlaced.gif
convert photo_interlaced.gif -depth 8 rgb:photo_interlaced_gif.rgb
convert -delay 10 -size 32x24 xc:red xc:blue anim.gif             # 2 frames: expect red
head -c $(($(stat -c %s photo.gif) / 2)) photo.gif > truncated.gif

# --- BMP ----------------------------------------------------------------------------------------
convert "$tmp/photo.png" BMP3:photo.bmp                                # 24-bit bottom-up
convert "$tmp/photo.png" -colors 16 -type Palette BMP3:palette.bmp
convert palette.bmp -depth 8 rgb:palette_bmp.rgb
for k in topdown24 pal8 bitfields32 odd24; do python3 $T bmp $k bmp_$k.bmp; done
convert "$tmp/photo.png" -colors 16 -compress RLE BMP3:rle8.bmp        # RLE: Unsupported
head -c $(($(stat -c %s photo.bmp) / 2)) photo.bmp > truncated.bmp

# --- HEIF (HEVC) and AVIF (AV1) through libheif's encoder -----------------------------------
heif-enc -q 90 -o photo.heic "$tmp/photo.png" > /dev/null
convert photo.heic -depth 8 rgb:photo_heic.rgb
heif-enc -A -q 90 -o photo.avif "$tmp/photo.png" > /dev/null
head -c $(($(stat -c %s photo.heic) / 2)) photo.heic > truncated.heic
# heif_size_mismatch.heic is a decode_heif_fuzz find (kept as is, not regenerated here).

# --- EXIF DateTimeOriginal (capture time) -------------------------------------------------------
python3 $T jpeg_exif_time photo.jpg 6 "2021:07:04 12:34:56" exif_time.jpg
python3 $T jpeg_exif_time photo.jpg 1 "0000:00:00 00:00:00" exif_time_zero.jpg
python3 $T png_exif_time "2000:02:29 23:59:59" exif_time.png

# --- videos (5 s; H.264 mp4 with the index first, VP9 webm, one rotated, damaged copies) ----
FF="ffmpeg -nostdin -loglevel error -y"
$FF -f lavfi -i testsrc=size=160x120:rate=10:duration=5 -c:v libx264 -pix_fmt yuv420p -crf 30 \
  -movflags +faststart clip.mp4
$FF -f lavfi -i testsrc=size=160x120:rate=10:duration=5 -c:v libvpx-vp9 -b:v 100k clip.webm
# The rotate tag becomes a display matrix only on a stream copy with ffmpeg 5.1; it then means
# "turn 90 degrees counter-clockwise", so the stored frames are those of EXIF orientation 8.
# Independent check: the ffmpeg CLI's own autorotate must show the upright quadrants.
python3 $T stored_ppm 8 "$tmp/stored8.ppm"
$FF -loop 1 -framerate 10 -i "$tmp/stored8.ppm" -t 5 -c:v libx264 -pix_fmt yuv444p -qp 0 "$tmp/stored8.mp4"
$FF -i "$tmp/stored8.mp4" -c copy -metadata:s:v:0 rotate=90 -movflags +faststart rotated90.mp4
$FF -i rotated90.mp4 -frames:v 1 -f rawvideo -pix_fmt rgb24 "$tmp/rotated.rgb"
python3 $T check_quadrants "$tmp/rotated.rgb"
head -c $(($(stat -c %s clip.mp4) / 2)) clip.mp4 > truncated.mp4
cp not_an_image.txt not_a_video.mp4
ls -l --block-size=1 | awk 'NR > 1 && $5 > 200000 { print "fixture over 200 KB: " $9; bad = 1 } END { exit bad }'
echo "fixtures written to $(pwd)"
