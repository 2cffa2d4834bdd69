#!/usr/bin/env python3
"""Scripts tiny TorchScript detectors laid out as Ultralytics exports them, for the YOLO tests.

Each model ignores the picture except for a few "probe" boxes whose score is one input pixel,
so the C++ test can check both the post-processing (boxes, classes, NMS, un-letterboxing) and
the pre-processing (RGB order, /255, 114-gray padding, where the letterbox puts the image).
The tables below are what yolo_detector_test.cpp asserts: change both together.

Usage: make_tiny_yolo.py OUT_DIR
"""
import json
import os
import sys
from typing import List, Tuple

import torch

COCO_CLASSES = 80

# (cx, cy, w, h, class, score) in 640x640 input pixels.
BOXES_640 = [
    (320, 320, 100, 50, 5, 0.9),   # A: kept
    (322, 321, 100, 50, 5, 0.8),   # A's duplicate, same class: suppressed
    (320, 320, 100, 50, 6, 0.7),   # A's twin of another class: kept (per-class NMS)
    (100, 100, 40, 40, 7, 0.1),    # below score_min: dropped
]
# Probe k: box (40 + 70k, 600, 20, 20) of class 10 + k, score = input[b, channel, y, x].
PROBES_640 = [
    (0, 0, 0),      # P0: corner, padding for any non-square picture
    (0, 320, 320),  # P1: red at the centre
    (2, 320, 320),  # P2: blue at the centre
    (0, 139, 320),  # P3: last pad row above a 1280x720 picture (top pad 140)
    (0, 140, 320),  # P4: its first image row
    (0, 320, 159),  # P5: last pad column left of a 300x600 picture (left pad 160)
    (0, 320, 160),  # P6: its first image column
]

# The metadata model: 320x320 input, 3 classes named in config.txt.
NAMES_META = {0: "cat", 1: "dog", 2: "bird"}
BOXES_320 = [
    (160, 160, 50, 25, 1, 0.9),    # kept: "dog"
    (161, 160, 50, 25, 1, 0.85),   # suppressed
    (40, 40, 20, 20, 2, 0.05),     # dropped
]
# Probe k: box (20 + 40k, 300, 10, 10) of class PROBE_CLASSES_320[k].
PROBES_320 = [(0, 0, 0), (1, 160, 160)]  # padding corner -> "cat", green at the centre -> "bird"
PROBE_CLASSES_320 = [0, 2]


class TinyV8(torch.nn.Module):
    """YOLOv8/11 layout: [B, 4 + nc, N] of cx, cy, w, h and class scores."""
    size: int
    probes: List[List[int]]

    def __init__(self, size: int, table: torch.Tensor, probes: List[List[int]]):
        super().__init__()
        self.size = size
        self.register_buffer("table", table)
        self.probes = probes  # [channel, y, x, row, column]: out[:, row, column] = pixel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3 or x.shape[2] != self.size or x.shape[3] != self.size:
            raise RuntimeError("tiny yolo: input must be [B, 3, size, size]")
        out = self.table.unsqueeze(0).repeat(x.shape[0], 1, 1)
        for p in self.probes:
            out[:, p[3], p[4]] = x[:, p[0], p[1], p[2]]
        return out


class TinyV5(torch.nn.Module):
    """YOLOv5 layout: [B, N, 5 + nc] of cx, cy, w, h, objectness, class scores, in a tuple."""
    size: int
    probes: List[List[int]]

    def __init__(self, size: int, table: torch.Tensor, probes: List[List[int]]):
        super().__init__()
        self.size = size
        self.register_buffer("table", table)
        self.probes = probes

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        if x.dim() != 4 or x.shape[1] != 3 or x.shape[2] != self.size or x.shape[3] != self.size:
            raise RuntimeError("tiny yolo: input must be [B, 3, size, size]")
        out = self.table.unsqueeze(0).repeat(x.shape[0], 1, 1)
        for p in self.probes:
            out[:, p[3], p[4]] = x[:, p[0], p[1], p[2]]
        return out, [out[:, :1]]


class BadRank(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(x.shape[0], 84)  # [B, 4 + 80]: the boxes axis is missing


def v8_table(boxes, probe_boxes, nc):
    n = len(boxes) + len(probe_boxes)
    table = torch.zeros(4 + nc, n)
    for i, (cx, cy, w, h, cls, score) in enumerate(boxes + probe_boxes):
        table[0:4, i] = torch.tensor([cx, cy, w, h], dtype=torch.float32)
        table[4 + cls, i] = score
    return table


def probe_boxes_640():
    return [(40 + 70 * k, 600, 20, 20, 10 + k, 0.0) for k in range(len(PROBES_640))]


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)

    # YOLOv8 layout, no metadata: the detector falls back to 640 and the COCO names.
    table = v8_table(BOXES_640, probe_boxes_640(), COCO_CLASSES)
    first = len(BOXES_640)
    probes = [[c, y, x, 4 + 10 + k, first + k] for k, (c, y, x) in enumerate(PROBES_640)]
    v8 = torch.jit.script(TinyV8(640, table, probes))
    torch.jit.save(v8, os.path.join(out_dir, "v8.torchscript"))

    # YOLOv5 layout: score = objectness * class score. A: 1.0 * 0.9, its duplicate 0.9 * 0.9,
    # the other-class twin 0.875 * 0.8, the low box 0.5 * 0.2.
    v5_objectness = [1.0, 0.9, 0.875, 0.5]
    v5_class = [0.9, 0.9, 0.8, 0.2]
    rows = []
    for i, (cx, cy, w, h, cls, _) in enumerate(BOXES_640 + probe_boxes_640()):
        row = torch.zeros(5 + COCO_CLASSES)
        row[0:4] = torch.tensor([cx, cy, w, h], dtype=torch.float32)
        if i < len(BOXES_640):
            row[4] = v5_objectness[i]
            row[5 + cls] = v5_class[i]
        else:
            row[4] = 1.0  # the probe pixel goes into its class column
        rows.append(row)
    table5 = torch.stack(rows)
    probes5 = [[c, y, x, first + k, 5 + 10 + k] for k, (c, y, x) in enumerate(PROBES_640)]
    v5 = torch.jit.script(TinyV5(640, table5, probes5))
    torch.jit.save(v5, os.path.join(out_dir, "v5.torchscript"))

    # YOLOv8 layout with Ultralytics metadata: imgsz 320, three named classes.
    nc = len(NAMES_META)
    probe_boxes = [(20 + 40 * k, 300, 10, 10, PROBE_CLASSES_320[k], 0.0)
                   for k in range(len(PROBES_320))]
    table = v8_table(BOXES_320, probe_boxes, nc)
    first = len(BOXES_320)
    probes = [[c, y, x, 4 + PROBE_CLASSES_320[k], first + k]
              for k, (c, y, x) in enumerate(PROBES_320)]
    meta = {"description": "tiny test detector", "stride": 32, "task": "detect", "batch": 1,
            "imgsz": [320, 320], "names": NAMES_META}
    v8m = torch.jit.script(TinyV8(320, table, probes))
    torch.jit.save(v8m, os.path.join(out_dir, "v8_meta.torchscript"),
                   _extra_files={"config.txt": json.dumps(meta)})

    # A segmentation export: mediadex detects only, so loading it must say so.
    meta_seg = dict(meta, task="segment")
    torch.jit.save(v8m, os.path.join(out_dir, "segment_meta.torchscript"),
                   _extra_files={"config.txt": json.dumps(meta_seg)})

    torch.jit.save(torch.jit.script(BadRank()), os.path.join(out_dir, "bad_rank.torchscript"))

    # Broken metadata, and metadata whose imgsz the network rejects.
    torch.jit.save(v8, os.path.join(out_dir, "bad_meta.torchscript"),
                   _extra_files={"config.txt": "{not json"})
    torch.jit.save(v8, os.path.join(out_dir, "wrong_imgsz.torchscript"),
                   _extra_files={"config.txt": json.dumps({"imgsz": 320, "task": "detect"})})


if __name__ == "__main__":
    main()
