#!/usr/bin/python3
"""COCO-style box evaluation, computed the way pycocotools' COCOeval does it (bbox, area "all").

- IoU thresholds 0.50:0.05:0.95; per image and class, detections by descending score (at most
  max_dets per image over all classes, pycocotools' maxDets=100) are matched greedily, each to
  the unmatched ground-truth box of highest IoU >= the threshold; regular boxes are tried before
  crowd boxes, and a detection matched to a crowd box (IoU = intersection / detection area)
  is ignored, as are crowd boxes themselves.
- Per class, all images' detections are sorted by score (stable), precision is made monotone
  from the right and read at 101 recall points (0, 0.01, ..., 1): the first point whose recall
  reaches each; none reaches it -> 0. AP is their mean.
- mAP = mean over the classes that have ground truth (others are left out) of the mean over the
  ten thresholds; AP50 the same at 0.5; recall = the recall at the end of each class's list,
  averaged the same way (pycocotools' AR@max_dets), and recall50 at 0.5.

Boxes are [x1, y1, x2, y2] in pixels. gt: {image: [(class, box, crowd), ...]},
dets: {image: [(class, score, box), ...]}.
"""
import json
import sys

import numpy as np

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def _iou(det, gt, crowd):
    """IoU of each detection box with each ground-truth box; for crowd ones, over the detection's area."""
    ious = np.zeros((len(det), len(gt)))
    for i, d in enumerate(det):
        da = max(0.0, d[2] - d[0]) * max(0.0, d[3] - d[1])
        for j, g in enumerate(gt):
            iw = min(d[2], g[2]) - max(d[0], g[0])
            ih = min(d[3], g[3]) - max(d[1], g[1])
            if iw <= 0 or ih <= 0:
                continue
            inter = iw * ih
            ga = max(0.0, g[2] - g[0]) * max(0.0, g[3] - g[1])
            union = da if crowd[j] else da + ga - inter
            ious[i, j] = inter / union if union > 0 else 0.0
    return ious


def _match(det_boxes, gt_boxes, gt_crowd):
    """-> (matched [T, D] bool, ignored [T, D] bool) for detections sorted by score."""
    order = sorted(range(len(gt_boxes)), key=lambda j: gt_crowd[j])  # regular first, stable
    gt_boxes = [gt_boxes[j] for j in order]
    crowd = [gt_crowd[j] for j in order]
    ious = _iou(det_boxes, gt_boxes, crowd)
    T, D, G = len(IOU_THRESHOLDS), len(det_boxes), len(gt_boxes)
    matched = np.zeros((T, D), bool)
    ignored = np.zeros((T, D), bool)
    for t, thr in enumerate(IOU_THRESHOLDS):
        gt_taken = np.zeros(G, bool)
        for d in range(D):
            best = min(thr, 1 - 1e-10)
            m = -1
            for g in range(G):
                if gt_taken[g] and not crowd[g]:
                    continue
                if m > -1 and not crowd[m] and crowd[g]:
                    break  # a regular match beats any crowd box
                if ious[d, g] < best:
                    continue
                best = ious[d, g]
                m = g
            if m == -1:
                continue
            gt_taken[m] = True
            matched[t, d] = True
            ignored[t, d] = crowd[m]
    return matched, ignored


def evaluate(gt, dets, max_dets=100, images=None):
    """-> dict with map, ap50, recall, recall50, classes (count), per_class {class: ap}."""
    if images is None:
        images = sorted(set(gt) | set(dets))
    classes = sorted({c for i in images for (c, _, _) in gt.get(i, [])} |
                     {c for i in images for (c, _, _) in dets.get(i, [])})
    per_class = {}
    aps, ap50s, recalls, recall50s = [], [], [], []
    kept = {}
    for i in images:
        d = sorted(dets.get(i, []), key=lambda x: -x[1])[:max_dets]
        kept[i] = d
    for c in classes:
        scores, tps, ign = [], [], []
        n_gt = 0
        for i in images:
            g = [x for x in gt.get(i, []) if x[0] == c]
            n_gt += sum(1 for x in g if not x[2])
            d = sorted([x for x in kept[i] if x[0] == c], key=lambda x: -x[1])
            if not d:
                continue
            matched, ignored = _match([x[2] for x in d], [x[1] for x in g], [bool(x[2]) for x in g])
            scores.extend(x[1] for x in d)
            tps.append(matched)
            ign.append(ignored)
        if n_gt == 0:
            continue  # pycocotools: -1, left out of the mean
        T = len(IOU_THRESHOLDS)
        ap_t = np.zeros(T)
        rc_t = np.zeros(T)
        if scores:
            order = np.argsort(-np.array(scores), kind="mergesort")
            tp_all = np.concatenate(tps, axis=1)[:, order]
            ig_all = np.concatenate(ign, axis=1)[:, order]
            for t in range(T):
                keep = ~ig_all[t]
                tp = np.cumsum(tp_all[t][keep]).astype(float)
                fp = np.cumsum(~tp_all[t][keep]).astype(float)
                if len(tp) == 0:
                    continue
                rc = tp / n_gt
                pr = tp / np.maximum(tp + fp, np.spacing(1))
                for k in range(len(pr) - 1, 0, -1):
                    pr[k - 1] = max(pr[k - 1], pr[k])
                idx = np.searchsorted(rc, RECALL_POINTS, side="left")
                q = np.array([pr[k] if k < len(pr) else 0.0 for k in idx])
                ap_t[t] = q.mean()
                rc_t[t] = rc[-1]
        per_class[c] = float(ap_t.mean())
        aps.append(ap_t.mean())
        ap50s.append(ap_t[0])
        recalls.append(rc_t.mean())
        recall50s.append(rc_t[0])
    mean = lambda v: float(np.mean(v)) if v else 0.0
    return {"map": mean(aps), "ap50": mean(ap50s), "recall": mean(recalls), "recall50": mean(recall50s),
            "classes": len(aps), "per_class": per_class}


def load_gt(path):
    """gt.json from make_sets.py: {"images": {name: {"width", "height", "boxes": [[class, x1, y1, x2, y2, crowd]]}}}."""
    with open(path) as f:
        data = json.load(f)
    return {name: [(int(b[0]), b[1:5], bool(b[5]) if len(b) > 5 else False) for b in im["boxes"]]
            for name, im in data["images"].items()}


if __name__ == "__main__":
    print("use run_eval.py; this module is imported", file=sys.stderr)
    sys.exit(2)
