#!/usr/bin/env python3
"""make_library.py SRC OUT COUNT: COUNT 4000x3000 JPEGs (quality 90) from the photos in SRC, made
in parallel with Pillow (the GPU machine has Pillow, not ImageMagick). Cached: existing files stay."""
import os
import sys
from concurrent.futures import ProcessPoolExecutor

from PIL import Image


def make(job):
    src, dst, angle = job
    if os.path.exists(dst):
        return
    img = Image.open(src).convert("RGB").resize((4000, 3000), Image.BILINEAR)
    if angle:
        img = img.rotate(angle, resample=Image.BILINEAR)
    img.save(dst, "JPEG", quality=90)


def main():
    src, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    photos = sorted(os.path.join(src, f) for f in os.listdir(src) if f.lower().endswith((".jpg", ".png")))
    os.makedirs(out, exist_ok=True)
    jobs = []
    for i in range(count):
        p = photos[i % len(photos)]
        name = "%05d-%s.jpg" % (i, os.path.splitext(os.path.basename(p))[0])
        jobs.append((p, os.path.join(out, name), (i // len(photos)) % 3))
    with ProcessPoolExecutor() as pool:
        list(pool.map(make, jobs, chunksize=8))
    print(f"{out}: {count} JPEGs of 4000x3000")


if __name__ == "__main__":
    main()
