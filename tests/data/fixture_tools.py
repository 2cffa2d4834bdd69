#!/usr/bin/env python3
"""Byte-level fixture helpers for make_fixtures.sh (stdlib only): PNG writing with exact known
pixels, EXIF insertion (JPEG APP1, PNG eXIf, WebP EXIF chunk), header-only bombs."""
import random
import struct
import sys
import zlib

W, H = 64, 48  # quadrant test image: red TL, green TR, blue BL, white BR
QUAD = {(0, 0): (255, 0, 0), (1, 0): (0, 255, 0), (0, 1): (0, 0, 255), (1, 1): (255, 255, 255)}


def quadrants():
    return [[QUAD[(int(x >= W // 2), int(y >= H // 2))] for x in range(W)] for y in range(H)]


def stored_for(orientation, img):
    """The stored pixels that orientation `orientation` turns into upright `img`."""
    h, w = len(img), len(img[0])
    if orientation == 1:
        return img
    if orientation == 2:
        return [row[::-1] for row in img]
    if orientation == 3:
        return [row[::-1] for row in img[::-1]]
    if orientation == 4:
        return img[::-1]
    # Axis-swapping cases: stored is h wide, w tall; s[sy][sx].
    out = [[None] * h for _ in range(w)]
    for y in range(h):
        for x in range(w):
            if orientation == 5:    # upright(x,y) = s(y, x)
                sx, sy = y, x
            elif orientation == 6:  # upright(x,y) = s(y, h'-1-x), stored height = w
                sx, sy = y, w - 1 - x
            elif orientation == 7:  # upright(x,y) = s(w'-1-y, h'-1-x)
                sx, sy = h - 1 - y, w - 1 - x
            else:                   # 8: upright(x,y) = s(w'-1-y, x)
                sx, sy = h - 1 - y, x
            out[sy][sx] = img[y][x]
    return out


def chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def write_png(path, width, height, bit_depth, color_type, raw_rows, extra_chunks=()):
    """raw_rows: list of bytes, one per row, already in the PNG sample layout (no filter byte)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    data = zlib.compress(b"".join(b"\x00" + r for r in raw_rows), 9)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for kind, payload in extra_chunks:
        out += chunk(kind, payload)
    out += chunk(b"IDAT", data) + chunk(b"IEND", b"")
    open(path, "wb").write(out)


def tiff_orientation(orientation, little_endian):
    e = "<" if little_endian else ">"
    head = (b"II" if little_endian else b"MM") + struct.pack(e + "HI", 42, 8)
    ifd = struct.pack(e + "H", 1) + struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(e + "I", 0)
    return head + ifd


def write_rgb(path, img):
    open(path, "wb").write(bytes(c for row in img for px in row for c in px))


def cmd_quad_ppm(path):
    img = quadrants()
    open(path, "wb").write(b"P6 %d %d 255\n" % (W, H) + bytes(c for row in img for px in row for c in px))


def cmd_stored_ppm(orientation, path):
    img = stored_for(int(orientation), quadrants())
    open(path, "wb").write(b"P6 %d %d 255\n" % (len(img[0]), len(img)) + bytes(c for row in img for px in row for c in px))


def cmd_jpeg_exif(src, orientation, little_endian, dst):
    data = open(src, "rb").read()
    assert data[:2] == b"\xff\xd8"
    payload = b"Exif\x00\x00" + tiff_orientation(int(orientation), little_endian == "1")
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    open(dst, "wb").write(data[:2] + app1 + data[2:])


def cmd_png_exif(orientation, dst):
    img = stored_for(int(orientation), quadrants())
    rows = [bytes(c for px in row for c in px) for row in img]
    write_png(dst, len(img[0]), len(img), 8, 2, rows, [(b"eXIf", tiff_orientation(int(orientation), False))])


def cmd_png_exif_first_intact(dst):
    """eXIf chunks as a damaged file may hold them: orientation 6 with a broken CRC, then 8, then 3.
    libpng keeps the first intact one (8); the probe must agree."""
    img = stored_for(8, quadrants())
    rows = [bytes(c for px in row for c in px) for row in img]
    broken = tiff_orientation(6, False)
    write_png(dst, len(img[0]), len(img), 8, 2, rows,
              [(b"eXIf", broken), (b"eXIf", tiff_orientation(8, False)), (b"eXIf", tiff_orientation(3, True))])
    data = bytearray(open(dst, "rb").read())
    crc_at = data.index(b"eXIf") + 4 + len(broken)
    data[crc_at] ^= 0xFF
    open(dst, "wb").write(bytes(data))


def cmd_webp_exif(src, orientation, dst):
    """Wraps a simple-format WebP (one VP8/VP8L chunk) into the extended format with EXIF."""
    data = open(src, "rb").read()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    image_chunk = data[12:]
    assert image_chunk[:4] in (b"VP8 ", b"VP8L"), image_chunk[:4]
    w, h = [int(v) for v in sys.argv[5:7]]
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x08, 0, 0, 0]) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
    exif = tiff_orientation(int(orientation), True)
    exif_chunk = b"EXIF" + struct.pack("<I", len(exif)) + exif + (b"\x00" if len(exif) % 2 else b"")
    body = b"WEBP" + vp8x + image_chunk + exif_chunk
    open(dst, "wb").write(b"RIFF" + struct.pack("<I", len(body)) + body)


def cmd_pngs(outdir):
    rnd = random.Random(2)
    w, h = 40, 30
    # 16-bit RGB with random samples; expected = high byte (png_set_strip_16).
    px16 = [[tuple(rnd.randrange(65536) for _ in range(3)) for _ in range(w)] for _ in range(h)]
    write_png(outdir + "/rgb16.png", w, h, 16, 2, [b"".join(struct.pack(">HHH", *p) for p in row) for row in px16])
    write_rgb(outdir + "/rgb16.rgb", [[tuple(v >> 8 for v in p) for p in row] for row in px16])
    # 16-bit gray.
    g16 = [[rnd.randrange(65536) for _ in range(w)] for _ in range(h)]
    write_png(outdir + "/gray16.png", w, h, 16, 0, [b"".join(struct.pack(">H", v) for v in row) for row in g16])
    write_rgb(outdir + "/gray16.rgb", [[(v >> 8,) * 3 for v in row] for row in g16])
    # Gray + alpha (8-bit): alpha varies, gray must come through untouched.
    ga = [[(rnd.randrange(256), rnd.randrange(256)) for _ in range(w)] for _ in range(h)]
    write_png(outdir + "/gray_alpha.png", w, h, 8, 4, [bytes(c for p in row for c in p) for row in ga])
    write_rgb(outdir + "/gray_alpha.rgb", [[(p[0],) * 3 for p in row] for row in ga])
    # RGBA, including fully transparent pixels whose colour must survive (dropped, not composited).
    rgba = [[tuple(rnd.randrange(256) for _ in range(3)) + ((0, 128, 255)[(x + y) % 3],) for x in range(w)] for y in range(h)]
    write_png(outdir + "/rgba.png", w, h, 8, 6, [bytes(c for p in row for c in p) for row in rgba])
    write_rgb(outdir + "/rgba.rgb", [[p[:3] for p in row] for row in rgba])
    # Palette (4-bit) with tRNS: entry 1 fully transparent but coloured.
    palette = [(10, 20, 30), (200, 10, 30), (0, 255, 0), (250, 250, 5)]
    idx = [[(x // 10 + y // 10) % 4 for x in range(w)] for y in range(h)]
    rows = []
    for row in idx:
        packed = bytearray()
        for i in range(0, w, 2):
            packed.append((row[i] << 4) | (row[i + 1] if i + 1 < w else 0))
        rows.append(bytes(packed))
    write_png(outdir + "/palette_trns.png", w, h, 4, 3, rows,
              [(b"PLTE", bytes(c for p in palette for c in p)), (b"tRNS", bytes([255, 0, 128]))])
    write_rgb(outdir + "/palette_trns.rgb", [[palette[i] for i in row] for row in idx])
    # 8-bit gray and RGB with a tRNS colour key: the keyed colour is kept, not made transparent.
    g8 = [[(x * 9 + y * 5) % 256 for x in range(w)] for y in range(h)]
    write_png(outdir + "/gray_trns.png", w, h, 8, 0, [bytes(row) for row in g8], [(b"tRNS", struct.pack(">H", g8[0][0]))])
    write_rgb(outdir + "/gray_trns.rgb", [[(v,) * 3 for v in row] for row in g8])
    c8 = [[((x * 9) % 256, (y * 7) % 256, (x + y) % 256) for x in range(w)] for y in range(h)]
    write_png(outdir + "/rgb_trns.png", w, h, 8, 2, [bytes(c for p in row for c in p) for row in c8],
              [(b"tRNS", struct.pack(">HHH", *c8[0][0]))])
    write_rgb(outdir + "/rgb_trns.rgb", c8)
    # 16-bit RGBA.
    px = [[tuple(rnd.randrange(65536) for _ in range(4)) for _ in range(w)] for _ in range(h)]
    write_png(outdir + "/rgba16.png", w, h, 16, 6, [b"".join(struct.pack(">HHHH", *p) for p in row) for row in px])
    write_rgb(outdir + "/rgba16.rgb", [[tuple(v >> 8 for v in p[:3]) for p in row] for row in px])
    # 1-bit gray.
    bits = [[(x * 7 + y * 3) % 5 == 0 for x in range(w)] for y in range(h)]
    rows = []
    for row in bits:
        packed = bytearray((w + 7) // 8)
        for x, b in enumerate(row):
            if b:
                packed[x // 8] |= 0x80 >> (x % 8)
        rows.append(bytes(packed))
    write_png(outdir + "/gray1.png", w, h, 1, 0, rows)
    write_rgb(outdir + "/gray1.rgb", [[(255,) * 3 if b else (0,) * 3 for b in row] for row in bits])


def cmd_png_bomb(dst, w, h):
    row = b"\x00" + b"\x00" * 3  # whatever: the header alone must be refused
    ihdr = struct.pack(">IIBBBBB", int(w), int(h), 8, 2, 0, 0, 0)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(row)) + chunk(b"IEND", b"")
    open(dst, "wb").write(out)


def cmd_jpeg_bomb(src, dst, w, h):
    """Rewrites the frame size in the SOF marker of a small JPEG."""
    data = bytearray(open(src, "rb").read())
    pos = 2
    while pos + 4 <= len(data):
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[pos + 5:pos + 9] = struct.pack(">HH", int(h), int(w))
            open(dst, "wb").write(bytes(data))
            return
        pos += 2 + length
    raise SystemExit("no SOF marker in " + src)


def cmd_random(dst, n):
    rnd = random.Random(1)
    data = bytes(rnd.randrange(256) for _ in range(int(n)))
    assert data[:2] != b"\xff\xd8"
    open(dst, "wb").write(data)


def exif_with_time(orientation, little_endian, when):
    """TIFF block: IFD0 (Orientation, ExifIFD pointer) -> Exif IFD (DateTimeOriginal)."""
    e = "<" if little_endian else ">"
    text = when.encode() + b"\x00"
    head = (b"II" if little_endian else b"MM") + struct.pack(e + "HI", 42, 8)
    exif_ifd_at = 8 + 2 + 2 * 12 + 4
    ifd0 = struct.pack(e + "H", 2) + struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0) + \
        struct.pack(e + "HHII", 0x8769, 4, 1, exif_ifd_at) + struct.pack(e + "I", 0)
    text_at = exif_ifd_at + 2 + 12 + 4
    exif = struct.pack(e + "H", 1) + struct.pack(e + "HHII", 0x9003, 2, len(text), text_at) + struct.pack(e + "I", 0)
    return head + ifd0 + exif + text


def cmd_jpeg_exif_time(src, orientation, when, dst):
    data = open(src, "rb").read()
    payload = b"Exif\x00\x00" + exif_with_time(int(orientation), True, when)
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    open(dst, "wb").write(data[:2] + app1 + data[2:])


def cmd_png_exif_time(when, dst):
    img = quadrants()
    rows = [bytes(c for px in row for c in px) for row in img]
    write_png(dst, W, H, 8, 2, rows, [(b"eXIf", exif_with_time(1, False, when))])


def bmp_bytes(img, kind):
    """BMPs by construction from `img`: top-down 24-bit, 4-colour 8-bit palette, 32-bit BI_BITFIELDS."""
    h, w = len(img), len(img[0])
    if kind == "topdown24":
        bpp, palette, masks, rows = 24, b"", b"", [bytes(c for px in row for c in px[::-1]) for row in img]
        height = -h
    elif kind == "pal8":
        colours = sorted({px for row in img for px in row})
        bpp, masks = 8, b""
        palette = b"".join(bytes((b, g, r, 0)) for (r, g, b) in colours)
        rows = [bytes(colours.index(px) for px in row) for row in img[::-1]]
        height = h
    else:  # bitfields32: 0x00RRGGBB stored as BGRX little-endian, with explicit masks
        bpp, palette = 32, b""
        masks = struct.pack("<III", 0xFF0000, 0x00FF00, 0x0000FF)
        rows = [b"".join(struct.pack("<I", (r << 16) | (g << 8) | b) for (r, g, b) in row) for row in img[::-1]]
        height = h
    stride = ((w * bpp + 31) // 32) * 4
    pixels = b"".join(r + b"\x00" * (stride - len(r)) for r in rows)
    compression = 3 if kind == "bitfields32" else 0
    colours_used = len(palette) // 4
    dib = struct.pack("<IiiHHIIiiII", 40, w, height, 1, bpp, compression, len(pixels), 2835, 2835, colours_used, 0)
    offset = 14 + len(dib) + len(masks) + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + dib + masks + palette + pixels


def cmd_bmp(kind, dst):
    img = quadrants()
    if kind == "odd24":  # 63 wide: every row padded
        img = [row[:63] for row in img]
        data = bmp_bytes(img, "topdown24")
    else:
        data = bmp_bytes(img, kind)
    open(dst, "wb").write(data)


def cmd_cmyk_to_rgb(src, dst):
    """libtiff's separated->RGB rule (TIFFRGBAImage): R = (255-K)*(255-C)/255, integer."""
    raw = open(src, "rb").read()
    out = bytearray()
    for i in range(0, len(raw), 4):
        c, m, y, k = raw[i:i + 4]
        out += bytes(((255 - k) * (255 - c) // 255, (255 - k) * (255 - m) // 255, (255 - k) * (255 - y) // 255))
    open(dst, "wb").write(out)



def cmd_check_quadrants(path):
    """Exits non-zero unless the raw 64x48 RGB frame in `path` shows the upright quadrants."""
    d = open(path, "rb").read()
    assert len(d) == W * H * 3, len(d)
    for (qx, qy), want in QUAD.items():
        x, y = qx * (W // 2) + W // 4, qy * (H // 2) + H // 4
        got = d[(y * W + x) * 3:(y * W + x) * 3 + 3]
        assert all(abs(a - b) <= 20 for a, b in zip(got, want)), (x, y, tuple(got), want)


if __name__ == "__main__":
    globals()["cmd_" + sys.argv[1]](*sys.argv[2:] if sys.argv[1] != "webp_exif" else sys.argv[2:5])
