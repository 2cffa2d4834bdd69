#!/usr/bin/env python3
"""make_library.py [--camera] [--unique U] SRC OUT COUNT: COUNT 4000x3000 JPEGs from the photos in SRC, made in
parallel with Pillow and NumPy (the GPU machine has both, not ImageMagick). Cached: existing files
stay. Prints the library's mean file size and its mix, which every figure must quote.

Flat (default): the photos upscaled to 4000x3000 and saved at q90, ~1 MB each. Smooth upscaled
pixels flatter every decoder, because JPEG decoding costs grow with the compressed bytes.

--camera: like real 12 MP camera photos, 2.5-5 MB each. Sensor grain (per-pixel noise, stronger in
luma than chroma) and fine detail (the photo's own texture, sharpened) on top of the upscale; a mix
of the encodings cameras and phones write:
  - q90 4:2:0 baseline (most files),  q95 for every 5th,  4:4:4 chroma for every 7th,
  - restart markers (one per MCU row) for every 6th, where this Pillow can write them,
  - progressive for every 9th (the hardware JPEG engine refuses those),
  - EXIF orientation 6, 8 or 3 for every 4th (portrait and upside-down phones)."""
import argparse
import io
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image, ImageFilter

W, H = 4000, 3000


def camera_variant(i):
    """The encoding of library file i (the mix in the docstring)."""
    v = {"quality": 95 if i % 5 == 4 else 90, "subsampling": 0 if i % 7 == 6 else 2, "restart": i % 6 == 5,
         "progressive": i % 9 == 8, "orientation": (6, 8, 3)[(i // 4) % 3] if i % 4 == 3 else 1}
    if v["progressive"]:
        v["restart"] = False  # one oddity a file: a progressive file with restarts is rare
    return v


def grain(img, seed):
    """Sensor-like noise and detail: what makes a 12 MP camera JPEG 2.5-5 MB rather than 1."""
    rng = np.random.default_rng(seed)
    sharp = img.filter(ImageFilter.UnsharpMask(radius=2, percent=160, threshold=0))
    a = np.asarray(sharp, dtype=np.int16)
    luma = rng.normal(0, 7.0, size=(H, W, 1))
    chroma = rng.normal(0, 3.0, size=(H, W, 3))
    a = np.clip(a + luma + chroma, 0, 255).astype(np.uint8)
    return Image.fromarray(a, "RGB")


def save_kwargs(v):
    kw = {"quality": v["quality"], "subsampling": v["subsampling"], "progressive": v["progressive"]}
    if v["restart"]:
        kw["restart_marker_rows"] = 1  # Pillow >= 10.2; older ones ignore it (counted below)
    if v["orientation"] != 1:
        exif = Image.Exif()
        exif[0x0112] = v["orientation"]
        kw["exif"] = exif.tobytes()
    return kw


def make(job):
    src, dst, i, round_, camera = job  # round_: how many times the source photos were used before
    if os.path.exists(dst):
        return
    img = Image.open(src).convert("RGB")
    if camera:
        img = img.resize((W, H), Image.BICUBIC)
        if round_ % 2:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)  # distinct files from one source photo
        img = grain(img, seed=i)
        data = io.BytesIO()
        img.save(data, "JPEG", **save_kwargs(camera_variant(i)))
        data = data.getvalue()
    else:
        img = img.resize((W, H), Image.BILINEAR)
        angle = round_ % 3
        if angle:
            img = img.rotate(angle, resample=Image.BILINEAR)
        data = io.BytesIO()
        img.save(data, "JPEG", quality=90)
        data = data.getvalue()
    tmp = dst + ".part"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, dst)


def describe(out, names):
    sizes, restarts, progressive, oriented = [], 0, 0, 0
    for n in names:
        path = os.path.join(out, n)
        sizes.append(os.path.getsize(path))
        with open(path, "rb") as f:
            head = f.read(1 << 16)
        restarts += b"\xff\xdd" in head  # DRI: a restart interval is defined
        progressive += b"\xff\xc2" in head
        with Image.open(path) as im:
            oriented += im.getexif().get(0x0112, 1) != 1
    mb = np.array(sizes) / 1e6
    return (f"{len(names)} JPEGs of {W}x{H}, mean {mb.mean():.2f} MB (min {mb.min():.2f}, max {mb.max():.2f}); "
            f"progressive {progressive}, restart markers {restarts}, EXIF-rotated {oriented}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--camera", action="store_true", help="camera-like grain and encodings (2.5-5 MB)")
    ap.add_argument("--unique", type=int, default=0,
                    help="make only this many distinct files; the rest are hard links to them (grain is slow)")
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("count", type=int)
    args = ap.parse_args()
    photos = sorted(os.path.join(args.src, f) for f in os.listdir(args.src) if f.lower().endswith((".jpg", ".png")))
    if not photos:
        sys.exit(f"make_library.py: no .jpg or .png photos in {args.src}")
    os.makedirs(args.out, exist_ok=True)
    unique = args.unique if 0 < args.unique < args.count else args.count
    jobs, names = [], []
    for i in range(args.count):
        p = photos[i % unique % len(photos)]
        name = "%05d-%s.jpg" % (i, os.path.splitext(os.path.basename(p))[0])
        names.append(name)
        if i < unique:
            jobs.append((p, os.path.join(args.out, name), i, i // len(photos), args.camera))
    with ProcessPoolExecutor() as pool:
        list(pool.map(make, jobs, chunksize=4))
    for i in range(unique, args.count):
        dst = os.path.join(args.out, names[i])
        if not os.path.exists(dst):
            os.link(os.path.join(args.out, names[i % unique]), dst)
    distinct = f", {unique} distinct" if unique < args.count else ""
    print(f"{args.out}: {'camera-like' if args.camera else 'flat'} library{distinct}: {describe(args.out, names)}")


if __name__ == "__main__":
    main()
