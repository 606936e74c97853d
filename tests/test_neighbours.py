"""Touching signs stay two boxes: NMS, tile-seam repair and the classifier's crops never merge neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from astute_cli.boxes import holds_parts, nms
from astute_cli.detector import OnnxDetector, square_crops
from astute_cli.tiling import _join_seams
from astute_cli.types import Detections
from tests.onnx_factories import make_detector_onnx

LEFT, RIGHT = [100, 50, 140, 90], [140, 50, 180, 90]  # two 40-px signs side by side, touching at x = 140
TOP, BOTTOM = [100, 50, 140, 90], [100, 90, 140, 130]  # stacked on one pole
PLATE = [98, 90, 142, 106]  # a plate under TOP


def _kept(boxes: list[list[float]], scores: list[float], iou: float = 0.5) -> list[list[float]]:
    xyxy = np.array(boxes, np.float32)
    return sorted(xyxy[nms(xyxy, np.array(scores, np.float32), iou)].tolist())


@pytest.mark.parametrize(
    ("boxes", "scores", "expected"),
    [
        pytest.param([[102, 51, 178, 89], LEFT, RIGHT], [0.9, 0.7, 0.6], [LEFT, RIGHT],
                     id="box-around-two-side-by-side-signs-goes"),
        pytest.param([[101, 52, 139, 128], TOP, BOTTOM], [0.9, 0.8, 0.8], [TOP, BOTTOM],
                     id="box-around-a-stack-goes"),
        pytest.param([[100, 50, 220, 90], LEFT, RIGHT, [180, 50, 220, 90]], [0.9, 0.6, 0.6, 0.6],
                     [LEFT, RIGHT, [180, 50, 220, 90]], id="three-in-a-row"),
        pytest.param([[99, 50, 142, 106], TOP, PLATE], [0.8, 0.7, 0.5], [TOP, PLATE], id="sign-and-its-plate"),
        pytest.param([[102, 51, 178, 89], LEFT, RIGHT], [0.9, 0.3, 0.3], [LEFT, [102, 51, 178, 89], RIGHT],
                     id="weak-parts-do-not-split-a-strong-box"),
        pytest.param([LEFT, [101, 51, 141, 91], [99, 49, 139, 89]], [0.9, 0.8, 0.7], [LEFT],
                     id="duplicates-of-one-sign-are-one-box"),
        pytest.param([LEFT, RIGHT], [0.9, 0.8], [LEFT, RIGHT], id="touching-signs-never-suppress-each-other"),
    ],
)
def test_nms_keeps_touching_signs_apart(boxes, scores, expected):
    assert _kept(boxes, scores) == sorted(expected)


BIG, SMALL = [100, 50, 160, 110], [160, 65, 190, 95]  # a 60-px sign with a 30-px one beside it


@pytest.mark.parametrize(
    ("split_merged", "expected"),
    [
        pytest.param(False, [[100, 50, 190, 110], SMALL], id="plain-nms-merges-the-big-sign-into-the-pair-box"),
        pytest.param(True, [BIG, SMALL], id="split-keeps-both-signs"),
    ],
)
def test_box_around_a_big_and_a_small_sign(split_merged, expected):
    xyxy = np.array([[100, 50, 190, 110], BIG, SMALL], np.float32)
    kept = nms(xyxy, np.array([0.9, 0.8, 0.7], np.float32), 0.5, split_merged=split_merged)
    assert sorted(xyxy[kept].tolist()) == sorted(expected)


@pytest.mark.parametrize(
    ("others", "expected"),
    [
        pytest.param([LEFT, RIGHT], True, id="two-halves"),
        pytest.param([LEFT], False, id="one-part-is-not-two-signs"),
        pytest.param([LEFT, [101, 50, 141, 90]], False, id="two-copies-of-one-part"),
        pytest.param([[100, 50, 120, 70], [160, 70, 180, 90]], False, id="small-parts-cover-too-little"),
    ],
)
def test_holds_parts(others, expected):
    scores = np.full(len(others), 0.8, np.float32)
    assert holds_parts(np.array([100, 50, 180, 90]), 0.9, np.array(others, np.float32), scores) is expected


@pytest.mark.parametrize(
    ("boxes", "expected"),
    [
        pytest.param([[44, 10, 64, 50], [64, 10, 84, 50]], [[44, 10, 84, 50]], id="halves-of-one-sign-join"),
        pytest.param([[54, 10, 64, 50], [64, 10, 94, 50]], [[54, 10, 94, 50]], id="quarter-and-rest-join"),
        pytest.param([[24, 10, 64, 50], [64, 10, 104, 50]], [[24, 10, 64, 50], [64, 10, 104, 50]],
                     id="two-whole-signs-at-the-seam-stay-two"),
        pytest.param([[26, 12, 64, 50], [64, 8, 98, 46]], [[26, 12, 64, 50], [64, 8, 98, 46]],
                     id="two-whole-signs-of-different-sizes"),
    ],
)
def test_seam_repair_joins_cut_signs_not_neighbours(boxes, expected):
    found = Detections(np.array(boxes, np.float32), np.array([0.9, 0.8], np.float32), np.zeros(2, np.int64))
    assert sorted(_join_seams(found, [64.0]).xyxy.tolist()) == expected


def test_tiled_detector_keeps_two_signs_touching_at_a_seam(tmp_path):
    # each 64-px tile reports a whole 8x8 sign at its right edge (x 56..64) and its left edge (x 64..72)
    model = make_detector_onnx(tmp_path / "d.onnx", [[60, 32, 8, 8, 0.9], [4, 32, 8, 8, 0.9]], ["sign"],
                               astute_tile="64", astute_roi="0,0,1,0.5")
    found = OnnxDetector(model).detect(np.zeros((128, 128, 3), np.uint8))
    assert [56.0, 28.0, 64.0, 36.0] in found.xyxy.tolist() and [64.0, 28.0, 72.0, 36.0] in found.xyxy.tolist()


@pytest.mark.parametrize(
    ("context", "max_neighbour"),
    [
        pytest.param(0.05, 0.05, id="margin-5pc"),
        pytest.param(0.1, 0.09, id="margin-10pc"),
        pytest.param(0.15, 0.12, id="margin-15pc"),
    ],
)
def test_classifier_crop_of_a_sign_shows_little_of_its_neighbour(context, max_neighbour):
    image = np.zeros((200, 300, 3), np.uint8)
    image[50:90, 100:140] = (0, 0, 255)  # LEFT red
    image[50:90, 140:180] = (255, 0, 0)  # RIGHT blue
    left, right = square_crops(image, np.array([LEFT, RIGHT], np.float32), (48, 48), context)
    assert (left[:, :, 0] > 127).mean() <= max_neighbour and (left[:, :, 2] > 127).mean() > 0.5
    assert (right[:, :, 2] > 127).mean() <= max_neighbour and (right[:, :, 0] > 127).mean() > 0.5


@pytest.mark.parametrize(
    ("box", "grey"),
    [pytest.param([280, 150, 320, 190], False, id="cut-by-the-edge-edges-replicated"),
     pytest.param([320, 150, 360, 190], True, id="wholly-outside-grey"),
     pytest.param([-80, -80, -40, -40], True, id="wholly-outside-above-left-grey")],
)
def test_classifier_crop_of_a_box_leaving_the_frame(box, grey):
    image = np.full((200, 300, 3), 30, np.uint8)
    crop, = square_crops(image, np.array([box], np.float32), (48, 48))
    assert crop.shape == (48, 48, 3)
    assert (crop == (114 if grey else 30)).all()
