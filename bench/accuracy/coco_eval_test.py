#!/usr/bin/python3
"""coco_eval against cases computed by hand (CTest: accuracy_coco_eval, label unit)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coco_eval as ce  # noqa: E402

A, B, C = 0, 1, 2
BOX = [0, 0, 10, 10]
FAR = [50, 50, 60, 60]


class CocoEvalTest(unittest.TestCase):
    def test_perfect_detection_scores_one(self):
        r = ce.evaluate({"a": [(A, BOX, False)]}, {"a": [(A, 0.9, BOX)]})
        self.assertAlmostEqual(r["map"], 1.0)
        self.assertAlmostEqual(r["ap50"], 1.0)
        self.assertAlmostEqual(r["recall"], 1.0)

    def test_a_better_scored_false_positive_halves_precision(self):
        # ranks: FP (p=0, r=0), TP (p=0.5, r=1); monotone precision 0.5 at every recall point
        r = ce.evaluate({"a": [(A, BOX, False)]}, {"a": [(A, 0.9, FAR), (A, 0.5, BOX)]})
        self.assertAlmostEqual(r["map"], 0.5)

    def test_half_the_objects_found_gives_51_of_101_points(self):
        r = ce.evaluate({"a": [(A, BOX, False), (A, FAR, False)]}, {"a": [(A, 0.9, BOX)]})
        self.assertAlmostEqual(r["map"], 51 / 101)
        self.assertAlmostEqual(r["recall"], 0.5)

    def test_iou_062_counts_at_three_of_ten_thresholds(self):
        r = ce.evaluate({"a": [(A, BOX, False)]}, {"a": [(A, 0.9, [0, 0, 10, 6.2])]})
        self.assertAlmostEqual(r["ap50"], 1.0)
        self.assertAlmostEqual(r["map"], 0.3)
        self.assertAlmostEqual(r["recall"], 0.3)

    def test_mean_over_classes_with_ground_truth_only(self):
        gt = {"a": [(A, BOX, False), (B, FAR, False)]}
        dets = {"a": [(A, 0.9, BOX), (C, 0.8, FAR)]}  # B missed; C has no ground truth: left out
        r = ce.evaluate(gt, dets)
        self.assertEqual(r["classes"], 2)
        self.assertAlmostEqual(r["map"], 0.5)

    def test_duplicate_is_a_false_positive_after_the_match(self):
        # TP then FP: precision (1, 0.5), recall (1, 1): every recall point reads 1
        r = ce.evaluate({"a": [(A, BOX, False)]}, {"a": [(A, 0.9, BOX), (A, 0.8, [0, 0, 10, 9])]})
        self.assertAlmostEqual(r["map"], 1.0)

    def test_greedy_matching_takes_the_highest_iou(self):
        # det 1 overlaps g1 (IoU 0.81) and g2 (IoU 0.9): it takes g2, so det 2 still finds g1
        g1, g2 = [0, 0, 10, 10], [0, 0, 10, 9]
        r = ce.evaluate({"a": [(A, g1, False), (A, g2, False)]},
                        {"a": [(A, 0.9, [0, 0, 10, 8.1]), (A, 0.8, [0, 0, 10, 10])]})
        self.assertAlmostEqual(r["ap50"], 1.0)

    def test_detection_in_a_crowd_box_is_ignored(self):
        crowd = [40, 40, 80, 80]
        dets = {"a": [(A, 0.95, FAR), (A, 0.9, BOX)]}  # FAR lies inside the crowd box
        with_crowd = ce.evaluate({"a": [(A, BOX, False), (A, crowd, True)]}, dets)
        without = ce.evaluate({"a": [(A, BOX, False)]}, dets)
        self.assertAlmostEqual(with_crowd["map"], 1.0)
        self.assertAlmostEqual(without["map"], 0.5)

    def test_scores_are_ranked_across_images(self):
        # image b's FP (0.7) ranks between a's TP (0.9) and c's TP (0.5):
        # ranks TP p=1 r=.5, FP, TP p=2/3 r=1 -> 51 points at 1, 50 at 2/3
        gt = {"a": [(A, BOX, False)], "c": [(A, BOX, False)], "b": []}
        dets = {"a": [(A, 0.9, BOX)], "b": [(A, 0.7, BOX)], "c": [(A, 0.5, BOX)]}
        r = ce.evaluate(gt, dets)
        self.assertAlmostEqual(r["map"], (51 + 50 * 2 / 3) / 101)

    def test_max_dets_keeps_the_best_per_image(self):
        gt = {"a": [(A, BOX, False), (B, FAR, False)]}
        dets = {"a": [(A, 0.9, BOX), (B, 0.1, FAR)]}
        self.assertAlmostEqual(ce.evaluate(gt, dets, max_dets=1)["map"], 0.5)
        self.assertAlmostEqual(ce.evaluate(gt, dets, max_dets=2)["map"], 1.0)


if __name__ == "__main__":
    unittest.main()
