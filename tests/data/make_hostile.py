#!/usr/bin/env python3
"""Builds a folder of hostile files: small files whose headers declare huge sizes (chunks,
strips, tiles, dimensions, scans, frames, samples) or lie about offsets. Every decoder must
refuse them, or decode them, without allocating what they declare (issue #21).

    tests/data/make_hostile.py OUT_DIR        # writes OUT_DIR/<name>, prints the names

Deterministic (no randomness, no time), Python 3 standard library only. Some files start from
the small fixtures next to this script (photo.jpg, photo_progressive.jpg, photo.heic, clip.mp4)
and patch their length fields."""
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fixture_tools import chunk  # noqa: E402  (PNG chunk with its CRC)

HUGE = 0x7FFFFFF0  # a length near 2^31


def fixture(name):
    with open(os.path.join(HERE, name), "rb") as f:
        return f.read()


# ---------------------------------------------------------------- PNG

def png_ihdr(width, height, bit_depth=8, color_type=2, interlace=0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace))


def png_small_idat(width=16, height=16):
    return chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + bytes(width * 3) for _ in range(height)), 9))


def png_huge_chunk(kind):
    """A valid 16x16 image whose ancillary chunk before IDAT declares ~2 GiB (the file ends
    inside it): libpng read the whole declared length into memory (2.3 GB peak RSS)."""
    head = struct.pack(">I", HUGE) + kind + b"A" * 3000
    return b"\x89PNG\r\n\x1a\n" + png_ihdr(16, 16) + head + png_small_idat()


def png_huge_idat():
    """10000x10000 (at the 100 MP limit) with an IDAT declaring ~2 GiB that holds 2 KB."""
    data = zlib.compress(b"\x00" * 60000, 9)
    return b"\x89PNG\r\n\x1a\n" + png_ihdr(10000, 10000) + struct.pack(">I", HUGE) + b"IDAT" + data + b"\x00" * 2000


def png_huge_dims():
    """100000x1000 (100 MP): whole, valid chunks, but far too few image bytes for the size."""
    data = zlib.compress(b"\x00" * 3000, 9)
    return b"\x89PNG\r\n\x1a\n" + png_ihdr(100000, 1000) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def png_many_text_chunks():
    """300 small tEXt chunks (over libpng's chunk cache limit of 128 that mediadex sets)."""
    text = b"".join(chunk(b"tEXt", b"k\x00" + b"v" * 100) for _ in range(300))
    return b"\x89PNG\r\n\x1a\n" + png_ihdr(16, 16) + text + png_small_idat() + chunk(b"IEND", b"")


# ---------------------------------------------------------------- TIFF

def tiff(entries, extra=b""):
    """Little-endian classic TIFF: header, one IFD at offset 8 (entries: (tag, type, count,
    value-or-offset)), then `extra` right after the IFD (offsets into it: tiff_extra_at)."""
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in sorted(entries):
        ifd += struct.pack("<HHII", tag, typ, count, value)
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + extra


def tiff_extra_at(n_entries):
    return 8 + 2 + 12 * n_entries + 4


SHORT, LONG = 3, 4


def tiff_rgb(width, height, rows_per_strip, strip_offset, strip_bytes, extra_entries=(), extra=b""):
    entries = [(256, LONG, 1, width), (257, LONG, 1, height), (258, SHORT, 1, 8), (259, SHORT, 1, 1),
               (262, SHORT, 1, 2), (273, LONG, 1, strip_offset), (277, SHORT, 1, 3), (278, LONG, 1, rows_per_strip),
               (279, LONG, 1, strip_bytes), (284, SHORT, 1, 1)]
    entries += list(extra_entries)
    return tiff(entries, extra)


def tiff_huge_strip_bytes():
    """16x16 RGB in one strip whose StripByteCounts says ~2 GiB."""
    pixels = bytes(16 * 16 * 3)
    return tiff_rgb(16, 16, 16, tiff_extra_at(10), HUGE, extra=pixels)


def tiff_huge_dims():
    """Claims 10000x10000 RGB (100 MP, 300 MB uncompressed) in one strip of 768 bytes."""
    return tiff_rgb(10000, 10000, 10000, tiff_extra_at(10), 768, extra=bytes(768))


def tiff_many_strips():
    """1 x 100,000,000 pixels, one row per strip: 10^8 strips declared, one offset present
    (libtiff would size its strip arrays, 800 MB each, from the image)."""
    return tiff_rgb(1, 100_000_000, 1, tiff_extra_at(10), 3, extra=bytes(3))


def tiff_huge_tile():
    """A 16x16 image in tiles of 65536x65536 (a 12 GiB tile buffer)."""
    entries = [(256, LONG, 1, 16), (257, LONG, 1, 16), (258, SHORT, 1, 8), (259, SHORT, 1, 1),
               (262, SHORT, 1, 2), (277, SHORT, 1, 3), (284, SHORT, 1, 1),
               (322, LONG, 1, 65536), (323, LONG, 1, 65536), (324, LONG, 1, tiff_extra_at(11)), (325, LONG, 1, 768)]
    return tiff(entries, bytes(768))


# ---------------------------------------------------------------- JPEG

def jpeg_segments(data):
    """[(marker, start, end)] of the segments before the first SOS, then ('scan', start, len)."""
    out, pos = [], 2
    while pos + 4 <= len(data):
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        out.append((marker, pos, pos + 2 + length))
        if marker == 0xDA:
            break
        pos += 2 + length
    return out


def jpeg_with_size(data, width, height):
    """The same JPEG with its SOF's dimensions replaced."""
    for marker, start, _ in jpeg_segments(data):
        if marker in (0xC0, 0xC1, 0xC2):
            return data[:start + 5] + struct.pack(">HH", height, width) + data[start + 9:]
    raise ValueError("no SOF")


def jpeg_many_scans():
    """The progressive fixture (160x120) with its last scan repeated 1000 times: a CPU-time
    bomb (every scan is a pass over all coefficients) of 1 MB."""
    data = fixture("photo_progressive.jpg")
    last = data.rfind(b"\xff\xda")
    eoi = data.rfind(b"\xff\xd9")
    return data[:eoi] + data[last:eoi] * 1000 + b"\xff\xd9"


def jpeg_scans_over_the_cap():
    """The progressive fixture with 102 scans, just over mediadex's cap of 100 (100 KB)."""
    data = fixture("photo_progressive.jpg")
    last = data.rfind(b"\xff\xda")
    eoi = data.rfind(b"\xff\xd9")
    return data[:eoi] + data[last:eoi] * 92 + b"\xff\xd9"


def jpeg_huge_dims():
    """Baseline JPEG claiming 10000x10000 (100 MP) whose scan holds a few KB."""
    return jpeg_with_size(fixture("photo.jpg"), 10000, 10000)


def jpeg_huge_dims_progressive():
    """Progressive JPEG claiming 10000x10000: libjpeg keeps every coefficient (600 MB)."""
    return jpeg_with_size(fixture("photo_progressive.jpg"), 10000, 10000)


def jpeg_lying_exif():
    """photo.jpg with an APP1 EXIF block whose IFD entries point past its end and declare
    huge counts."""
    data = fixture("photo.jpg")
    tiff_block = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 3)
    tiff_block += struct.pack("<HHII", 0x0112, 3, 0x40000000, 0x7FFFFF00)  # Orientation, huge count
    tiff_block += struct.pack("<HHII", 0x8769, 4, 1, 0xFFFFFFF0)           # ExifIFD past the end
    tiff_block += struct.pack("<HHII", 0x010F, 2, 0x7FFFFFFF, 0x20)        # Make: 2 GiB of text
    tiff_block += struct.pack("<I", 0x7FFFFFF0)                            # next IFD past the end
    payload = b"Exif\x00\x00" + tiff_block
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + app1 + data[2:]


# ---------------------------------------------------------------- GIF

def gif(screen_w, screen_h, frame_w, frame_h, left=0, top=0):
    out = b"GIF89a" + struct.pack("<HHBBB", screen_w, screen_h, 0xF0, 0, 0)  # 2-colour global table
    out += b"\x00\x00\x00\xff\xff\xff"
    out += b"," + struct.pack("<HHHHB", left, top, frame_w, frame_h, 0)
    out += b"\x02" + b"\x02\x4c\x01" + b"\x00"  # LZW min size 2, one tiny block (clear, 0, end)
    return out + b";"


def gif_frame_larger_than_screen():
    """A 16x16 screen with a 9000x9000 frame (81 MP, under --max-pixels) of one LZW block."""
    return gif(16, 16, 9000, 9000)


def gif_huge_screen():
    """A 65535x65535 screen (4.3 GP) with a 1x1 frame."""
    return gif(65535, 65535, 1, 1)


# ---------------------------------------------------------------- BMP

def bmp(width, height, bpp=24, pixel_offset=54, file_size=None, dib_size=40, body=b""):
    dib = struct.pack("<IiiHHIIiiII", dib_size, width, height, 1, bpp, 0, 0, 2835, 2835, 0, 0)
    dib += bytes(max(0, dib_size - 40))
    total = 14 + len(dib) + len(body)
    head = b"BM" + struct.pack("<IHHI", file_size if file_size is not None else total, 0, 0, pixel_offset)
    return head + dib + body


def bmp_huge_dims():
    """Claims 10000x10000 24-bit (300 MB of pixel data) in a 1 KB file."""
    return bmp(10000, 10000, body=bytes(1000))


def bmp_lying_offset():
    """A 16x16 image whose pixel data offset points 4 GiB - 16 into a 1 KB file."""
    return bmp(16, 16, pixel_offset=0xFFFFFFF0, body=bytes(16 * 16 * 3))


def bmp_negative_height():
    """Top-down INT32_MIN + 1 rows."""
    return bmp(1, -0x7FFFFFFF, body=bytes(64))


# ---------------------------------------------------------------- WebP

def riff(kind_chunks):
    body = b"WEBP" + kind_chunks
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_chunk(kind, payload, declared=None):
    size = len(payload) if declared is None else declared
    return kind + struct.pack("<I", size) + payload + (b"\x00" if len(payload) & 1 else b"")


def vp8l_header(width, height):
    bits = (width - 1) | ((height - 1) << 14)  # alpha 0, version 0
    return b"\x2f" + struct.pack("<I", bits)


def webp_huge_chunk():
    """VP8X + an EXIF chunk declaring ~4 GiB (and a RIFF size that lies too)."""
    vp8x = webp_chunk(b"VP8X", struct.pack("<I", 0x08) + (15).to_bytes(3, "little") + (15).to_bytes(3, "little"))
    exif = b"EXIF" + struct.pack("<I", 0xFFFFFFF0) + b"MM\x00*" + bytes(200)
    body = b"WEBP" + vp8x + exif
    return b"RIFF" + struct.pack("<I", 0xFFFFFFF0) + body


def webp_huge_dims():
    """A lossless bitstream claiming 16384x6000 (98 MP) followed by 2 KB of junk."""
    payload = vp8l_header(16384, 6000) + bytes(range(256)) * 8
    return riff(webp_chunk(b"VP8L", payload))


# ---------------------------------------------------------------- HEIF

def heif_huge_ispe():
    """photo.heic with its image spatial extents (ispe) saying 30000x30000 and 9000x9000."""
    data = bytearray(fixture("photo.heic"))
    pos, n = 0, 0
    while True:
        pos = data.find(b"ispe", pos)
        if pos < 0:
            break
        side = 30000 if n == 0 else 9000
        data[pos + 8:pos + 16] = struct.pack(">II", side, side)  # after version/flags
        pos += 4
        n += 1
    return bytes(data)


def heif_huge_extent():
    """photo.heic whose iloc extent lengths all say ~2 GiB."""
    data = bytearray(fixture("photo.heic"))
    pos = data.find(b"iloc")
    version = data[pos + 4]
    sizes = data[pos + 8]
    offset_size, length_size, base_size = sizes >> 4, sizes & 15, data[pos + 9] >> 4
    index_size = data[pos + 9] & 15 if version in (1, 2) else 0
    p = pos + 10
    count = struct.unpack(">H", data[p:p + 2])[0] if version < 2 else struct.unpack(">I", data[p:p + 4])[0]
    p += 2 if version < 2 else 4
    for _ in range(count):
        p += 2 if version < 2 else 4           # item id
        if version in (1, 2):
            p += 2                              # construction method
        p += 2 + base_size                      # data reference index, base offset
        extents = struct.unpack(">H", data[p:p + 2])[0]
        p += 2
        for _ in range(extents):
            p += index_size + offset_size
            if length_size == 4:
                data[p:p + 4] = struct.pack(">I", HUGE)
            elif length_size == 8:
                data[p:p + 8] = struct.pack(">Q", HUGE)
            p += length_size
    return bytes(data)


# ---------------------------------------------------------------- MP4

def mp4_huge_samples():
    """clip.mp4 whose sample sizes (stsz) all say ~2 GiB."""
    data = bytearray(fixture("clip.mp4"))
    pos = data.find(b"stsz")
    sample_size, count = struct.unpack(">II", data[pos + 8:pos + 16])
    if sample_size != 0:
        data[pos + 8:pos + 12] = struct.pack(">I", HUGE)
    else:
        for i in range(count):
            at = pos + 16 + 4 * i
            data[at:at + 4] = struct.pack(">I", HUGE)
    return bytes(data)


FILES = {
    "png_huge_text.png": lambda: png_huge_chunk(b"tEXt"),
    "png_huge_ztxt.png": lambda: png_huge_chunk(b"zTXt"),
    "png_huge_private.png": lambda: png_huge_chunk(b"prIv"),
    "png_huge_exif.png": lambda: png_huge_chunk(b"eXIf"),  # a chunk libpng keeps: allocated first
    "png_huge_idat.png": png_huge_idat,
    "png_huge_dims.png": png_huge_dims,
    "png_many_text.png": png_many_text_chunks,
    "tiff_huge_strip_bytes.tif": tiff_huge_strip_bytes,
    "tiff_huge_dims.tif": tiff_huge_dims,
    "tiff_many_strips.tif": tiff_many_strips,
    "tiff_huge_tile.tif": tiff_huge_tile,
    "jpeg_many_scans.jpg": jpeg_many_scans,
    "jpeg_scans_over_the_cap.jpg": jpeg_scans_over_the_cap,
    "jpeg_huge_dims.jpg": jpeg_huge_dims,
    "jpeg_huge_dims_progressive.jpg": jpeg_huge_dims_progressive,
    "jpeg_lying_exif.jpg": jpeg_lying_exif,
    "gif_frame_larger_than_screen.gif": gif_frame_larger_than_screen,
    "gif_huge_screen.gif": gif_huge_screen,
    "bmp_huge_dims.bmp": bmp_huge_dims,
    "bmp_lying_offset.bmp": bmp_lying_offset,
    "bmp_negative_height.bmp": bmp_negative_height,
    "webp_huge_chunk.webp": webp_huge_chunk,
    "webp_huge_dims.webp": webp_huge_dims,
    "heif_huge_ispe.heic": heif_huge_ispe,
    "heif_huge_extent.heic": heif_huge_extent,
    "mp4_huge_samples.mp4": mp4_huge_samples,
}


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: make_hostile.py OUT_DIR\n")
        return 2
    os.makedirs(argv[1], exist_ok=True)
    for name, make in FILES.items():
        with open(os.path.join(argv[1], name), "wb") as f:
            f.write(make())
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
