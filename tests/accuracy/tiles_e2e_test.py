#!/usr/bin/python3
"""End to end, through the real binary and real coco128 photos: a 3x3 mosaic of nine photos in
a 12 MP canvas (bench/accuracy/make_sets.py), detected with --tiles off and auto.

- auto finds small objects (longer side under 200 of 4000 px) that off misses, and more objects overall;
- --tiles off prints exactly what no flag prints (the default), on the mosaic and on a photo;
- MEDIADEX_TILES=auto is --tiles auto; `config` shows the setting and where it came from.

  tiles_e2e_test.py BUILD_DIR COCO128_DIR MODEL_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench", "accuracy"))


def iou(a, b):
    iw, ih = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    i = iw * ih
    return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i)


def main():
    build, coco, models = sys.argv[1:4]
    mediadex = os.path.join(build, "mediadex")
    failures = []
    for need in (mediadex, os.path.join(coco, "images", "train2017"), os.path.join(models, "centernet.json")):
        if not os.path.exists(need):
            print("FAIL: missing " + need)
            return 1
    env = dict(os.environ, MEDIADEX_MODEL_DIR=models)
    env.pop("MEDIADEX_TILES", None)

    def run(args, extra_env=None):
        p = subprocess.run([mediadex] + args, capture_output=True, text=True, env=dict(env, **(extra_env or {})))
        if p.returncode != 0:
            raise SystemExit("FAIL: mediadex %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr[-1500:]))
        return p.stdout

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "..", "..", "bench", "accuracy", "make_sets.py"),
                        "--coco", coco, "--out", tmp, "--limit", "9", "--sets", "mosaic3"], check=True,
                       capture_output=True)
        mosaic = os.path.join(tmp, "mosaic3", "mosaic3_000.jpg")
        gt = json.load(open(os.path.join(tmp, "mosaic3", "gt.json")))["images"]["mosaic3_000.jpg"]["boxes"]
        photo = os.path.join(coco, "images", "train2017", "000000000009.jpg")

        default = run(["detect", "--json", mosaic, photo])
        off = run(["detect", "--json", "--tiles", "off", mosaic, photo])
        if off != default:
            failures.append("--tiles off changed the answers of the default")
        auto = run(["detect", "--json", "--tiles", "auto", mosaic, photo])
        by_env = run(["detect", "--json", mosaic, photo], {"MEDIADEX_TILES": "auto"})
        if by_env != auto:
            failures.append("MEDIADEX_TILES=auto differs from --tiles auto")
        off_m, auto_m = json.loads(off.splitlines()[0]), json.loads(auto.splitlines()[0])
        if json.loads(off.splitlines()[1]) != json.loads(auto.splitlines()[1]):
            failures.append("auto changed the answers for a 640x480 photo (it must not tile it)")

        def found(result, box):
            return [d for d in result["detections"] if d["class"] == box[0] and iou(d["box"], box[1:5]) >= 0.5]

        small = [b for b in gt if max(b[3] - b[1], b[4] - b[2]) < 200]
        small_auto_only = [b for b in small if found(auto_m, b) and not found(off_m, b)]
        n_off = sum(1 for b in gt if found(off_m, b))
        n_auto = sum(1 for b in gt if found(auto_m, b))
        print("mosaic3_000: %d objects (%d small); matched off %d, auto %d; small ones only auto found: %d" %
              (len(gt), len(small), n_off, n_auto, len(small_auto_only)))
        if not small_auto_only:
            failures.append("auto found no small object that off missed")
        if n_auto <= n_off:
            failures.append("auto matched %d objects, off %d" % (n_auto, n_off))

        config = run(["config"], {"MEDIADEX_TILES": "2x2"})
        line = [l for l in config.splitlines() if l.startswith("tiles ")]
        if not line or "2x2" not in line[0] or "MEDIADEX_TILES" not in line[0]:
            failures.append("config does not show tiles=2x2 from MEDIADEX_TILES: %r" % line)
        p = subprocess.run([mediadex, "detect", "--tiles", "4", photo], capture_output=True, text=True, env=env)
        if p.returncode == 0 or "tiles must be" not in p.stderr:
            failures.append("--tiles 4 was not refused with a reason: %r" % p.stderr)
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
