from __future__ import annotations

import numpy as np
import pytest

from astute_cli.boxes import box_iou, match_by_confidence, match_by_overlap, nms, visible_share

TRUTH = [22, 22, 42, 42]


def as_boxes(rows: list) -> np.ndarray:
    return np.float32(rows).reshape(-1, 4)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param([0, 0, 10, 10], [0, 0, 10, 10], 1.0, id="same"),
        pytest.param([0, 0, 10, 10], [5, 0, 15, 10], 1 / 3, id="half-shifted"),
        pytest.param([0, 0, 10, 10], [20, 20, 30, 30], 0.0, id="apart"),
        pytest.param([0, 0, 0, 0], [0, 0, 0, 0], 0.0, id="empty-boxes-no-division-by-zero"),
    ],
)
def test_box_iou(a, b, expected):
    assert box_iou(as_boxes(a), as_boxes(b))[0, 0] == pytest.approx(expected)


def test_box_iou_shape():
    assert box_iou(as_boxes([TRUTH] * 3), as_boxes([TRUTH] * 2)).shape == (3, 2)


@pytest.mark.parametrize(
    ("box", "share"),
    [pytest.param([10, 10, 20, 20], 1.0, id="inside"),
     pytest.param([-10, 0, 10, 10], 0.5, id="half-past-the-left-edge"),
     pytest.param([90, 20, 110, 40], 0.5, id="half-past-the-right-edge"),
     pytest.param([95, 45, 105, 55], 0.25, id="past-a-corner"),
     pytest.param([120, 0, 140, 10], 0.0, id="wholly-outside"),
     pytest.param([10, 10, 10, 20], 0.0, id="no-area")],
)
def test_visible_share(box, share):
    assert visible_share(np.array([box], np.float32), (100, 50)) == pytest.approx([share])


def test_nms_keeps_best_of_overlaps():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], np.float32)
    assert nms(boxes, np.array([0.5, 0.9, 0.8]), 0.5).tolist() == [1, 2]


@pytest.mark.parametrize(
    ("truth", "found", "expected"),
    [
        pytest.param([TRUTH], [TRUTH], 1, id="same"),
        pytest.param([TRUTH], [[24, 22, 44, 42]], 1, id="shifted-iou-0.82"),
        pytest.param([TRUTH], [[32, 22, 52, 42]], 0, id="half-overlap-iou-0.33"),
        pytest.param([TRUTH, TRUTH], [TRUTH], 1, id="one-to-one"),
        pytest.param([], [TRUTH], 0, id="no-truth"),
        pytest.param([TRUTH], [], 0, id="nothing-found"),
    ],
)
def test_match_by_overlap(truth, found, expected):
    assert match_by_overlap(as_boxes(truth), as_boxes(found), iou=0.5) == expected


@pytest.mark.parametrize(
    ("pred", "conf", "gt", "expected"),
    [
        pytest.param([TRUTH], [0.9], [TRUTH], [0], id="hit"),
        pytest.param([TRUTH, TRUTH], [0.4, 0.9], [TRUTH], [-1, 0], id="higher-score-takes-the-sign"),
        pytest.param([[32, 22, 52, 42]], [0.9], [TRUTH], [-1], id="iou-0.33-misses"),
        pytest.param([TRUTH], [0.9], [], [-1], id="no-truth"),
    ],
)
def test_match_by_confidence(pred, conf, gt, expected):
    assert match_by_confidence(as_boxes(pred), np.float32(conf), as_boxes(gt)).tolist() == expected


def test_the_two_rules_differ():
    """Score order lets a weaker-overlap box take the sign first; best-overlap pairs the closest boxes."""
    truth = as_boxes([[0, 0, 10, 10], [6, 0, 16, 10]])
    found = as_boxes([[3, 0, 13, 10], [0, 0, 10, 10]])
    by_score = match_by_confidence(found, np.float32([0.9, 0.8]), truth)
    assert by_score.tolist() == [0, -1]  # the first box takes sign 0 (IoU 0.54); the second then has nothing
    assert match_by_overlap(truth, found) == 2
