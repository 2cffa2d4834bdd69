#!/usr/bin/python3
"""Builds the accuracy sets from coco128-train (../shared/testdata/coco128-train, YOLO labels):

  single/    the photos as they are (~640x480)
  mosaic2/   2x2 grids of consecutive photos in a 4000x3000 canvas (12 MP), 32 of them
  mosaic3/   3x3 grids, 14 of them (126 photos)
  stretched/ each photo scaled up so its longer side is 4000 (12 MP for 4:3): large objects only

A photo is scaled to fit its cell (aspect kept, centred on grey); its boxes go with it. Each set
has gt.json: {"images": {file: {"width", "height", "boxes": [[class, x1, y1, x2, y2, crowd]],
"sources": [photo ids]}}}. JPEG quality 92, 4:2:0, as a camera writes.

  make_sets.py --coco ../shared/testdata/coco128-train --out /tmp/acc [--limit N]
"""
import argparse
import json
import os

from PIL import Image

CANVAS = (4000, 3000)


def load(coco):
    img_dir = os.path.join(coco, "images", "train2017")
    lab_dir = os.path.join(coco, "labels", "train2017")
    photos = []
    for name in sorted(os.listdir(img_dir)):
        if not name.endswith(".jpg"):
            continue
        stem = name[:-4]
        boxes = []
        lab = os.path.join(lab_dir, stem + ".txt")
        if os.path.exists(lab):
            for line in open(lab):
                p = line.split()
                if len(p) == 5:
                    boxes.append((int(p[0]), *map(float, p[1:])))
        photos.append((stem, os.path.join(img_dir, name), boxes))
    return photos


def abs_boxes(boxes, x0, y0, w, h):
    """YOLO (class, cx, cy, w, h normalised) -> [class, x1, y1, x2, y2, 0] in a w x h placement at x0, y0."""
    return [[c, x0 + (cx - bw / 2) * w, y0 + (cy - bh / 2) * h, x0 + (cx + bw / 2) * w, y0 + (cy + bh / 2) * h, 0]
            for c, cx, cy, bw, bh in boxes]


def save(out, name, image, boxes, sources, gt):
    image.save(os.path.join(out, name), quality=92, subsampling=2)
    gt[name] = {"width": image.width, "height": image.height, "boxes": boxes, "sources": sources}


def mosaic(photos, n, out):
    os.makedirs(out, exist_ok=True)
    gt = {}
    cw, ch = CANVAS[0] // n, CANVAS[1] // n
    for k in range(len(photos) // (n * n)):
        group = photos[k * n * n:(k + 1) * n * n]
        canvas = Image.new("RGB", CANVAS, (114, 114, 114))
        boxes = []
        for i, (stem, path, labels) in enumerate(group):
            im = Image.open(path).convert("RGB")
            s = min(cw / im.width, ch / im.height)
            w, h = round(im.width * s), round(im.height * s)
            x0 = (i % n) * cw + (cw - w) // 2
            y0 = (i // n) * ch + (ch - h) // 2
            canvas.paste(im.resize((w, h), Image.BILINEAR), (x0, y0))
            boxes += abs_boxes(labels, x0, y0, w, h)
        save(out, "mosaic%d_%03d.jpg" % (n, k), canvas, boxes, [p[0] for p in group], gt)
    return gt


def singles(photos, out, stretch):
    os.makedirs(out, exist_ok=True)
    gt = {}
    for stem, path, labels in photos:
        im = Image.open(path).convert("RGB")
        if stretch:
            s = CANVAS[0] / max(im.width, im.height)
            im = im.resize((round(im.width * s), round(im.height * s)), Image.BICUBIC)
            save(out, stem + ".jpg", im, abs_boxes(labels, 0, 0, im.width, im.height), [stem], gt)
        else:
            os.symlink(path, os.path.join(out, stem + ".jpg"))  # the original bytes
            gt[stem + ".jpg"] = {"width": im.width, "height": im.height,
                                 "boxes": abs_boxes(labels, 0, 0, im.width, im.height), "sources": [stem]}
    return gt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coco", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--limit", type=int, default=0, help="use the first N photos only")
    ap.add_argument("--sets", default="single,mosaic2,mosaic3,stretched")
    a = ap.parse_args()
    photos = load(a.coco)
    if a.limit:
        photos = photos[:a.limit]
    for s in a.sets.split(","):
        out = os.path.join(a.out, s)
        if s == "single":
            gt = singles(photos, out, False)
        elif s == "stretched":
            gt = singles(photos, out, True)
        else:
            gt = mosaic(photos, int(s[-1]), out)
        with open(os.path.join(out, "gt.json"), "w") as f:
            json.dump({"images": gt}, f)
        print("%s: %d images, %d boxes" % (s, len(gt), sum(len(v["boxes"]) for v in gt.values())))


if __name__ == "__main__":
    main()
