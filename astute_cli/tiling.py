"""Where the detector looks in a frame: the sign region cut into model-sized tiles at native scale, the far band
upscaled into zoom strips, and the repair of signs cut by a tile edge (seams).
"""

from __future__ import annotations

import math

import numpy as np

from astute_cli.types import Detections

SIGN_ROI = (0.0, 0.0, 1.0, 0.77)
"""Where signs are, as frame fractions x1, y1, x2, y2: 99.5 % of the 25,870 RTSD boxes in
``rtsd-meta/rtsd_frames_boxes_14724.json`` end above 0.765 of the frame height (computed with numpy percentiles
of the boxes' y2 / 720); 0.5 % start left of 0.012 and 0.5 % end right of 0.999, so the whole width is kept."""
ZOOM_BAND = (0.15, 0.305, 0.797, 0.6)
"""Where far (small) signs are, as frame fractions x1, y1, x2, y2: this 827×213 px window of a 1280×720 frame holds
89 % of the 4,331 RTSD boxes under 20 px wide and 79 % of those 20–32 px in ``rtsd-meta`` (the best-placed window
of that size, searched on 16/8 px steps). At 1.5× it is 1240×320 px: two 640×320 strips, one 640×640 tile."""
ZOOM_EDGE_PX = 2.0
"""A box of the zoom pass this near its strip's edge (upscaled px) is a cut sign, left to the native tiles."""


def parse_size(value: int | str | tuple[int, int] | list[int] | None) -> tuple[int, int]:
    """A size as (width, height) px from ``640``, ``"640"``, ``"672x576"`` (width × height) or a pair;
    ``None``/``0`` give (0, 0), no tiling.

    Raises:
        ValueError: anything else.
    """
    if value is None:
        return (0, 0)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    text = str(value).strip().lower()
    parts = text.split("x")
    if len(parts) in (1, 2) and all(part.strip().isdigit() for part in parts):
        w = int(parts[0])
        return (w, int(parts[1]) if len(parts) == 2 else w)
    raise ValueError(f"A size must be N or WxH pixels, got {value!r}")


def tiles_for(frame_wh: tuple[int, int], tile: int | str | tuple[int, int],
              roi: tuple[float, float, float, float] = SIGN_ROI) -> list[tuple[int, int, int, int]]:
    """Tiles (x1, y1, x2, y2) of at most ``tile`` px (N, or width × height) covering the ROI of a frame,
    evenly spaced, overlapping when the ROI is not a whole number of tiles. A 1280×720 frame gives 2 tiles of
    640 px that meet at x = 640, or 2 tiles of 672×576 that overlap by 64 px (a sign on the seam is seen whole)."""
    w, h = frame_wh
    tw, th = parse_size(tile)
    x1, y1 = math.floor(roi[0] * w), math.floor(roi[1] * h)
    x2, y2 = math.ceil(roi[2] * w), math.ceil(roi[3] * h)
    xs = _starts(x1, x2, tw)
    ys = _starts(y1, y2, th)
    return [(x, y, min(x + tw, w), min(y + th, h)) for y in ys for x in xs]


def parse_zoom(value: str | None) -> tuple[tuple[float, float, float, float], float] | None:
    """A zoom pass from ``"x1,y1,x2,y2,factor"`` (frame fractions, then the upscale factor) or ``"factor"``
    (the band ``ZOOM_BAND``); ``None``, ``""``, ``"0"`` or ``"1"`` give none.

    Raises:
        ValueError: anything else.
    """
    if value is None or str(value).strip() in ("", "0", "1", "none"):
        return None
    try:
        parts = [float(v) for v in str(value).split(",")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = [*ZOOM_BAND, parts[0]]
    if len(parts) != 5 or not (0 <= parts[0] < parts[2] <= 1 and 0 <= parts[1] < parts[3] <= 1) \
            or not 1 < parts[4] <= 4:
        raise ValueError(f"A zoom must be 'x1,y1,x2,y2,factor' (fractions, factor in (1, 4]) or 'factor', "
                         f"got {value!r}")
    return (parts[0], parts[1], parts[2], parts[3]), parts[4]


def zoom_strips(frame_wh: tuple[int, int], band: tuple[float, float, float, float], factor: float,
                tile_wh: tuple[int, int]) -> tuple[tuple[int, int, int, int], list[list[tuple[int, int]]]]:
    """How the zoom pass cuts a frame: the band in frame px (x1, y1, x2, y2), and the upscaled band's strips
    (x1, x2 in upscaled px, each at most a tile wide, overlapping when needed) packed as many to a tile as fit
    one above the other. A 1280×720 frame with ``ZOOM_BAND`` at 1.5× gives one tile of two 640×320 strips."""
    w, h = frame_wh
    bx1, by1 = math.floor(band[0] * w), math.floor(band[1] * h)
    bx2, by2 = math.ceil(band[2] * w), math.ceil(band[3] * h)
    tw, th = tile_wh
    by2 = min(by2, by1 + math.floor(th / factor))  # a tall (portrait) band keeps its top rows, a tile's height
    zw, zh = round((bx2 - bx1) * factor), round((by2 - by1) * factor)
    strips = [(x, min(x + tw, zw)) for x in _starts(0, zw, tw)]
    per_tile = max(1, th // max(zh, 1))
    return (bx1, by1, bx2, by2), [strips[i:i + per_tile] for i in range(0, len(strips), per_tile)]


def _starts(lo: int, hi: int, tile: int) -> list[int]:
    span = hi - lo
    if span <= tile:
        return [lo]
    n = math.ceil(span / tile)
    step = (span - tile) / (n - 1)
    return [round(lo + i * step) for i in range(n)]


def _join_seams(found: Detections, seams: list[float], gap_px: float = 3.0, whole_aspect: float = 0.8
                ) -> Detections:
    """Repair signs cut by a tile edge (x in ``seams``): a piece inside another box goes; two pieces that
    meet at the same edge, of one class and on the same rows, become one box, unless both are at least
    ``whole_aspect`` as wide as tall: those are two whole signs touching at the seam (a cut round, square or
    triangular sign leaves at least one narrow piece)."""
    boxes, drop = found.xyxy.copy(), np.zeros(len(found), bool)
    for i in range(len(found)):
        a = boxes[i]
        for seam in seams:
            if drop[i] or not (abs(a[2] - seam) <= gap_px or abs(a[0] - seam) <= gap_px):
                continue
            inter = np.prod(np.clip(np.minimum(a[2:], boxes[:, 2:]) - np.maximum(a[:2], boxes[:, :2]), 0, None), 1)
            inside = inter / max(float(np.prod(a[2:] - a[:2])), 1e-6) > 0.6
            inside[i] = False
            if (inside & ~drop).any():
                drop[i] = True
                continue
            for j in np.nonzero(~drop & (found.class_id == found.class_id[i]))[0]:
                b = boxes[j]
                rows = min(a[3], b[3]) - max(a[1], b[1])
                if j != i and abs(a[2] - seam) <= gap_px and abs(b[0] - seam) <= gap_px and \
                        rows > 0.6 * max(a[3] - a[1], b[3] - b[1]) and not _both_whole(a, b, whole_aspect):
                    boxes[i] = [a[0], min(a[1], b[1]), b[2], max(a[3], b[3])]
                    drop[j] = True
                    break
    return Detections(boxes, found.confidence, found.class_id)[~drop]


def _both_whole(a: np.ndarray, b: np.ndarray, whole_aspect: float) -> bool:
    return bool(a[2] - a[0] >= whole_aspect * (a[3] - a[1]) and b[2] - b[0] >= whole_aspect * (b[3] - b[1]))
