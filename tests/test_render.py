from __future__ import annotations

import numpy as np
import pytest

from astute_cli.render import draw, paste, text_patch
from astute_cli.types import Detections


def dets(xyxy, track_id=None) -> Detections:
    n = len(xyxy)
    return Detections(np.array(xyxy, np.float32), np.ones(n), np.zeros(n), track_id)


def test_draw_leaves_input_untouched_and_marks_boxes():
    frame = np.zeros((200, 300, 3), np.uint8)
    out = draw(frame, dets([[100, 100, 140, 140]], [1]), ["Ограничение скорости 60 · 35 м"])
    assert frame.sum() == 0
    assert out[100, 120].any(), "box edge drawn"
    assert out[60:100, 100:200].any(), "caption drawn above the box"


@pytest.mark.parametrize(
    ("kwargs", "region"),
    [
        pytest.param({"speed_limit": 60}, (slice(0, 100), slice(0, 100)), id="speed-limit-corner"),
        pytest.param({"banner": "Пешеходный переход"}, (slice(150, 200), slice(50, 250)), id="banner"),
    ],
)
def test_draw_overlays(kwargs, region):
    out = draw(np.zeros((200, 300, 3), np.uint8), Detections.empty(), [], **kwargs)
    assert out[region].any()


def test_unconfirmed_tracks_get_no_caption():
    out = draw(np.zeros((200, 300, 3), np.uint8), dets([[100, 100, 140, 140]], [-1]), ["secret"])
    assert not out[60:98, 100:200].any()


@pytest.mark.parametrize("text", ["Дети", "Speed limit 60 km/h", "Ограничение высоты 3,5 метра"])
def test_text_patch_renders_any_script(text):
    patch = text_patch(text, 20, (255, 255, 255))
    assert patch.shape[2] == 4
    assert (patch[:, :, :3] > 128).any()


@pytest.mark.parametrize(("x", "y"), [(-5, -5), (290, 190), (400, 400)])
def test_paste_clips_at_edges(x, y):
    image = np.zeros((200, 300, 3), np.uint8)
    paste(image, np.full((20, 20, 4), 255, np.uint8), x, y)
    overlaps = x < 300 and y < 200 and x + 20 > 0 and y + 20 > 0
    assert bool(image.any()) is overlaps
