#!/usr/bin/python3
"""Runs `mediadex detect --json` over the sets of make_sets.py with each --tiles setting and
prints mAP@[.5:.95], AP50, recall (AR@100), passes per photo and images/s as a Markdown table.

  run_eval.py --mediadex build/mediadex --sets /tmp/acc [--tiles off,auto] [--names single,mosaic2,...]

The mosaics also get "of single": their mAP over the mAP that the same photos score one by one
with --tiles off (the single set, restricted to the photos the mosaics use). images/s is the
whole command's wall time (model load included, ~0.5 s) over its photos, on this machine.
Fairness: coco128 is COCO train2017, which the model was trained on; compare settings, not
absolute scores.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coco_eval as ce  # noqa: E402


def detect(mediadex, folder, tiles, extra):
    files = sorted(f for f in os.listdir(folder) if f.endswith(".jpg"))
    cmd = [mediadex, "detect", "--json", "--tiles", tiles] + extra + [os.path.join(folder, f) for f in files]
    start = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - start
    if p.returncode != 0:
        sys.exit("mediadex detect failed (%d): %s" % (p.returncode, p.stderr[-2000:]))
    dets = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        dets[os.path.basename(r["file"])] = [(d["class"], d["score"], d["box"]) for d in r.get("detections", [])]
    m = re.search(r"\(([\d.]+) per photo\)", p.stderr)
    passes = float(m.group(1)) if m else 1.0
    return dets, len(files), wall, passes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mediadex", default="build/mediadex")
    ap.add_argument("--sets", required=True)
    ap.add_argument("--names", default="single,mosaic2,mosaic3,stretched")
    ap.add_argument("--tiles", default="off,auto")
    ap.add_argument("--extra", default="", help="more detect flags, space-separated")
    ap.add_argument("--json-out", default="")
    a = ap.parse_args()
    extra = a.extra.split()
    rows = []
    single_gt = ce.load_gt(os.path.join(a.sets, "single", "gt.json")) if "single" in a.names else None
    single_dets = None
    print("| set | tiles | mAP | AP50 | recall | of single | passes/photo | images/s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in a.names.split(","):
        folder = os.path.join(a.sets, name)
        gt = ce.load_gt(os.path.join(folder, "gt.json"))
        meta = json.load(open(os.path.join(folder, "gt.json")))["images"]
        for tiles in a.tiles.split(","):
            dets, n, wall, passes = detect(a.mediadex, folder, tiles, extra)
            r = ce.evaluate(gt, dets, images=sorted(gt))
            if name == "single" and tiles == "off":
                single_dets = dets
            of_single = ""
            if name.startswith("mosaic") and single_dets is not None:
                used = sorted({s + ".jpg" for im in meta.values() for s in im["sources"]})
                base = ce.evaluate(single_gt, single_dets, images=used)["map"]
                of_single = "%.0f%%" % (100 * r["map"] / base) if base > 0 else ""
            row = {"set": name, "tiles": tiles, "images": n, "wall_s": wall, "passes": passes,
                   "of_single": of_single, **{k: r[k] for k in ("map", "ap50", "recall", "recall50")}}
            rows.append(row)
            print("| %s (%d) | %s | %.3f | %.3f | %.3f | %s | %.2f | %.2f |" %
                  (name, n, tiles, r["map"], r["ap50"], r["recall"], of_single, passes, n / wall), flush=True)
    if a.json_out:
        json.dump(rows, open(a.json_out, "w"), indent=1)


if __name__ == "__main__":
    main()
