from __future__ import annotations

import cv2
import numpy as np
import pytest

from astute_cli.daylight import looks_unlike_daylight

RNG = np.random.default_rng(0)
COLOURFUL = np.kron(RNG.integers(0, 256, (9, 16, 3), dtype=np.uint8), np.ones((8, 8, 1), np.uint8))
"""8-px blocks of random colours: sharp edges, saturated, spread over the whole range."""


def _street(gain: float, blur: int = 0, grey: float = 0.0, lift: float = 0.0) -> np.ndarray:
    frame = COLOURFUL.astype(np.float32)
    if grey:
        frame = frame * (1 - grey) + frame.mean(axis=2, keepdims=True) * grey
    frame = frame * gain + lift
    if blur:
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
    return frame.clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    ("frame", "unlike"),
    [
        pytest.param(_street(1.0), False, id="clear-day"),
        pytest.param(_street(0.3), True, id="night-dark"),
        pytest.param(_street(0.5), True, id="dusk-90-percent-under-100"),
        pytest.param(_street(0.4, blur=2, grey=0.7, lift=140), True, id="fog-soft-washed-out-lifted"),
        pytest.param(_street(0.4, lift=140), False, id="lifted-blacks-but-sharp-and-colourful"),
        pytest.param(_street(1.0, blur=3, grey=0.8), True, id="murky-soft-and-washed-out"),
        pytest.param(_street(1.0, blur=3), False, id="soft-but-colourful"),
        pytest.param(_street(1.0, grey=0.8), False, id="washed-out-but-sharp"),
        pytest.param(np.zeros((0, 0, 3), np.uint8), False, id="empty"),
        pytest.param(np.zeros((72, 128), np.uint8), True, id="grey-image-dark"),
    ],
)
def test_looks_unlike_daylight(frame, unlike):
    assert looks_unlike_daylight(frame) is unlike
