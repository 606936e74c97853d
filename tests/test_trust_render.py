"""Labels stay inside the frame and do not cover each other, also in a busy street (issue 20)."""

from __future__ import annotations

import numpy as np
import pytest

from astute_cli.render import draw, place_labels, text_patch
from tests.fakes import make_detections

W, H = 1280, 720


def _rects(boxes, sizes):
    return [(x, y, w, h) for (x, y), (w, h) in zip(place_labels(boxes, sizes, (W, H)), sizes, strict=True)]


@pytest.mark.parametrize(
    ("boxes", "sizes"),
    [
        pytest.param([[1240, 300, 1270, 330]], [(260, 24)], id="right-edge"),
        pytest.param([[-10, 300, 20, 330]], [(200, 24)], id="left-edge"),
        pytest.param([[600, 0, 640, 40]], [(200, 24)], id="top-edge"),
        pytest.param([[600, 690, 640, 720]], [(200, 24)], id="bottom-edge"),
        pytest.param([[600, 300, 630, 330], [640, 302, 670, 332]], [(240, 24), (240, 24)], id="neighbours"),
        pytest.param([[900 + 40 * i, 200, 930 + 40 * i, 230] for i in range(8)], [(300, 24)] * 8,
                     id="busy-street-at-the-right"),
        pytest.param([[500, 300 + 5 * i, 530, 330 + 5 * i] for i in range(6)], [(220, 24)] * 6, id="stacked"),
    ],
)
def test_labels_inside_the_frame_and_apart(boxes, sizes):
    rects = _rects(boxes, sizes)
    for x, y, w, h in rects:
        assert 0 <= x and x + w <= W and 0 <= y and y + h <= H, (x, y, w, h)
    for i, (ax, ay, aw, ah) in enumerate(rects):
        for bx, by, bw, bh in rects[i + 1:]:
            assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), (rects[i], (bx, by))


def test_a_lone_label_sits_just_above_its_box():
    assert place_labels([[100, 300, 130, 330]], [(200, 24)], (W, H)) == [(100, 300 - 24 - 2)]


def test_draw_keeps_a_right_edge_label_whole():
    frame = np.full((H, W, 3), 128, np.uint8)
    caption = "Ограничение скорости 60 · 35 м"
    out = draw(frame, make_detections([[1250, 300, 1275, 325]]), [caption])
    patch = text_patch(caption, 16, (0, 215, 255))
    assert patch.shape[1] < 400
    # the label (dark background, amber text) spans its full width, ending at the frame's right edge
    row = out[300 - 2 - patch.shape[0] + 2].astype(int)
    assert (np.abs(row[W - patch.shape[1]:] - 128).sum(axis=1) > 60).mean() > 0.95
