"""Which frames do not look like clear daylight: dark (dusk, night) or murky (fog, rain on the glass, backlight).
On such a frame a two-stage detector with an expert classifier (one trained on streets under conditions,
:class:`astute_cli.detector.TwoStageDetector`) hands every box to the expert.

Why a gate and not the expert everywhere: on the synthetic condition sets the expert finds 3–7 points more signs
than the daylight classifier under every condition, but on real daylight frames it keeps more clutter
(benchmarks/README.md, "Conditions"). The gate keeps the daylight classifier where it is good.

The test is global and cheap (a 1-in-8 pixel sample, then a 320-px-wide copy: a few ms on 720p). Its thresholds
were chosen on seeded synthetic tuning frames made for it (40 per condition, seeds 500,000 + k, apart from the test
sets') and on the 30 real daylight road photos of the background set, never on the test sets or the real RTSD
frames: it takes 34 of 40 dusk frames, 40 of 40 night, 32 of 40 fog, 11 of 40 rainy, 11 of 40 backlit, 2 of 40
clear, no winter frame and none of the photos (benchmarks/README.md, "An expert for conditions"). Fog's own test
(:func:`astute_cli.haze.haze_range`) is not used here: it also takes 3 of the 6 hazy-looking Californian photos.
"""

from __future__ import annotations

import cv2
import numpy as np

DARK_LUMA = 100
"""A frame is dark when 90 % of its pixels are below this luma (0–255): dusk and night; a clear frame's 90th
percentile is above 110 on all but 2 of the 40 tuning frames, on every one of the 30 real photos above 150."""
MURKY_SHARPNESS = 250
"""A frame is murky when the variance of its Laplacian (grey, 320 px wide) is below this ..."""
MURKY_SATURATION = 50
"""... and its median saturation (0–255) below this: fog, water on the glass or a flare washes out both
(clear tuning frames: sharpness median 516, saturation median 70; none of them is murky)."""


def luma_percentile(frame: np.ndarray, q: float) -> float:
    sample = frame[::8, ::8].astype(np.float32)
    if frame.ndim == 2 or frame.shape[2] == 1:
        return float(np.percentile(sample, q))
    return float(np.percentile(sample[..., 0] * 0.114 + sample[..., 1] * 0.587 + sample[..., 2] * 0.299, q))


def is_murky(frame: np.ndarray) -> bool:
    if frame.ndim == 2 or frame.shape[2] == 1:
        return False  # no colour: saturation unknown
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (320, max(1, round(320 * h / max(w, 1)))), interpolation=cv2.INTER_AREA)
    sharpness = float(cv2.Laplacian(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), cv2.CV_32F).var())
    saturation = float(np.median(cv2.cvtColor(small, cv2.COLOR_BGR2HSV)[..., 1]))
    return sharpness < MURKY_SHARPNESS and saturation < MURKY_SATURATION


def looks_unlike_daylight(frame: np.ndarray) -> bool:
    """True for a dark or murky frame (see the module's notes); False for an empty one."""
    if frame.size == 0:
        return False
    return luma_percentile(frame, 90) < DARK_LUMA or is_murky(frame)
