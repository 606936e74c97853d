"""Fog and haze lift the blacks and flatten the contrast of a whole frame; the detector, trained mostly on clear
frames, then misses half the signs. A frame that looks hazy is stretched back to the full range before it is
searched and its signs are read (never the frame that is drawn or written).

The test is global and cheap (a 1-in-8 pixel sample): the darkest 1 % of every colour channel is at least
``HAZE_BLACK_POINT``, the widest channel spans ``HAZE_MIN_SPREAD`` to ``HAZE_MAX_SPREAD`` levels between its 1st
and 99th percentile, and no channel is clipped white at its 99th (``HAZE_CLIPPED``: the sun in view).
Chosen on seeded synthetic tuning sets of 40 frames each (seeds 500,000 + k, apart from the test sets';
benchmarks/README.md, "Fog and haze"): it takes 40 of 40 fog frames, 6 of 40 rainy ones, and no daylight, dusk,
night, winter or backlit frame. A plain stretch of every frame instead lifted fog but spoilt night (recall 0.70 →
0.34) and backlight (0.68 → 0.61); without the clipping test it took 3 backlit frames and lost 2 points there.
"""

from __future__ import annotations

import cv2
import numpy as np

HAZE_BLACK_POINT = 50
"""A frame is hazy only when the 1st percentile of every channel is at least this (night and dusk are below)."""
HAZE_MAX_SPREAD = 160
"""... and no channel spans more levels than this between its 1st and 99th percentile (sunlit frames do)..."""
HAZE_MIN_SPREAD = 24
"""... but some channel spans at least this many: a flat frame (blank, grey, a covered lens) is not fog, and
stretching it would only blow up its noise (the flattest fog frame of the tuning sets spans 48)."""
HAZE_CLIPPED = 253
"""... and no channel's 99th percentile reaches this: 1 % of the frame clipped white is the sun or a flare in view
(backlight, which a stretch makes worse: the tuning frames of fog reach 251 at most, the backlit ones it took 255)."""
MIN_RANGE = 30
"""The narrowest range stretched to 0–255 (a flatter channel is stretched less, so noise is not blown up)."""


def haze_range(frame: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The (low, high) levels per channel to stretch to 0–255 when the frame looks hazy, else None."""
    sample = frame[::8, ::8].reshape(-1, frame.shape[2] if frame.ndim == 3 else 1)
    if not len(sample):
        return None
    low, high = np.percentile(sample, [1, 99], axis=0)
    spread = (high - low).max()
    if low.min() < HAZE_BLACK_POINT or not HAZE_MIN_SPREAD <= spread < HAZE_MAX_SPREAD or high.max() >= HAZE_CLIPPED:
        return None
    return low, np.maximum(high, low + MIN_RANGE)


def lift_haze(frame: np.ndarray) -> np.ndarray:
    """``frame`` itself when it does not look hazy, else a copy stretched channel by channel (1st–99th percentile
    to 0–255). A lifted frame does not look hazy, so lifting twice changes nothing more."""
    levels = haze_range(frame)
    if levels is None:
        return frame
    low, high = levels
    ramp = np.arange(256, dtype=np.float32)
    tables = [np.clip((ramp - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8) for lo, hi in zip(low, high)]
    if frame.ndim == 2 or frame.shape[2] == 1:
        return cv2.LUT(frame, tables[0])
    return cv2.LUT(frame, np.stack(tables, axis=-1).reshape(1, 256, len(tables)))
