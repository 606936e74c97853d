"""Drawing: boxes with readable (Cyrillic) labels, the current speed limit, the last alert as a banner."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from astute_cli.paths import PACKAGE_DIR
from astute_cli.types import Detections

FONT_PATH = PACKAGE_DIR / "fonts" / "DejaVuSans.ttf"
BOLD_FONT_PATH = PACKAGE_DIR / "fonts" / "DejaVuSans-Bold.ttf"
BOX_COLOR = (0, 215, 255)  # BGR amber: visible on road, sky and foliage
TENTATIVE_COLOR = (160, 160, 160)


def draw(frame: np.ndarray, detections: Detections, captions: list[str], speed_limit: int | None = None,
         banner: str | None = None) -> np.ndarray:
    """Draw on a copy of ``frame``.

    Args:
        frame: (H, W, 3) BGR image.
        detections: boxes to draw; rows with ``track_id`` -1 are drawn thin and grey (not yet confirmed).
        captions: one label per detection (empty string: box only).
        speed_limit: km/h shown as a round sign in the top-left corner, or None.
        banner: the alert being spoken, shown along the bottom edge, or None.

    Returns:
        (H, W, 3) BGR image.
    """
    out = frame.copy()
    scale = max(out.shape[0] / 720.0, 0.5)
    labelled: list[tuple[np.ndarray, np.ndarray]] = []  # (box, label patch)
    for i, box in enumerate(detections.xyxy):
        confirmed = detections.track_id is None or detections.track_id[i] >= 0
        caption = _draw_box(out, box, captions[i] if i < len(captions) else "", confirmed, scale)
        if caption:
            labelled.append((box, text_patch(caption, round(16 * scale), BOX_COLOR)))
    spots = place_labels([box for box, _ in labelled], [(p.shape[1], p.shape[0]) for _, p in labelled],
                         (out.shape[1], out.shape[0]))
    for (_, patch), (x, y) in zip(labelled, spots, strict=True):
        paste(out, patch, x, y)
    if speed_limit is not None:
        _draw_speed_limit(out, speed_limit, scale)
    if banner:
        _draw_banner(out, banner, scale)
    return out


def _draw_box(image: np.ndarray, box: np.ndarray, caption: str, confirmed: bool, scale: float) -> str:
    """Draw the box; returns the caption to place (none for a box not yet confirmed)."""
    x1, y1, x2, y2 = (round(float(v)) for v in box)
    color = BOX_COLOR if confirmed else TENTATIVE_COLOR
    cv2.rectangle(image, (x1, y1), (x2, y2), color, max(1, round(2 * scale)) if confirmed else 1)
    return caption if confirmed else ""


def place_labels(boxes: list, sizes_wh: list[tuple[int, int]], frame_wh: tuple[int, int], gap: int = 2
                 ) -> list[tuple[int, int]]:
    """Top-left corners for the labels of these boxes: inside the frame and not covering each other.

    Each label goes just above its box, else just below, moved left to stay in the frame; when that spot
    overlaps a label already placed (nearer the top first), it moves further up or down in steps of its height.
    A frame too crowded for that keeps the label at its first spot.
    """
    width, height = frame_wh
    placed: list[tuple[int, int, int, int]] = []
    spots: list[tuple[int, int]] = [(0, 0)] * len(boxes)
    for i in sorted(range(len(boxes)), key=lambda k: (float(boxes[k][1]), float(boxes[k][0]))):
        x1, y1, _, y2 = (round(float(v)) for v in boxes[i][:4])
        w, h = sizes_wh[i]
        x = min(max(x1, 0), max(width - w, 0))
        above, below = y1 - h - gap, y2 + gap
        step = h + gap
        candidates = [above, below]
        for k in range(1, max(height // max(step, 1), 1) + 1):
            candidates += [above - k * step, below + k * step]
        inside = [y for y in candidates if 0 <= y <= height - h]
        spot = next((y for y in inside if not any(_overlap((x, y, w, h), other) for other in placed)), None)
        if spot is None:
            spot = inside[0] if inside else min(max(above, 0), max(height - h, 0))
        spots[i] = (x, spot)
        placed.append((x, spot, w, h))
    return spots


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _draw_speed_limit(image: np.ndarray, kmh: int, scale: float) -> None:
    radius = round(38 * scale)
    centre = (radius + round(12 * scale), radius + round(12 * scale))
    cv2.circle(image, centre, radius, (255, 255, 255), -1, cv2.LINE_AA)
    cv2.circle(image, centre, radius, (0, 0, 220), max(2, round(radius * 0.2)), cv2.LINE_AA)
    patch = text_patch(str(kmh), round(radius * (0.9 if kmh < 100 else 0.7)), (0, 0, 0), bold=True, background=None)
    paste(image, patch, centre[0] - patch.shape[1] // 2, centre[1] - patch.shape[0] // 2)


def _draw_banner(image: np.ndarray, text: str, scale: float) -> None:
    patch = text_patch(text, round(26 * scale), (255, 255, 255), bold=True, background=(40, 40, 40))
    x = max((image.shape[1] - patch.shape[1]) // 2, 0)
    paste(image, patch, x, image.shape[0] - patch.shape[0] - round(16 * scale))


@lru_cache(maxsize=512)
def text_patch(text: str, size_px: int, color: tuple[int, int, int], bold: bool = False,
               background: tuple[int, int, int] | None = (0, 0, 0)) -> np.ndarray:
    """A BGRA image of ``text`` (any script) on a solid or transparent background, cached by its arguments."""
    font = _font(max(size_px, 8), bold)
    left, top, right, bottom = font.getbbox(text)
    pad = max(size_px // 5, 2)
    width, height = right - left + 2 * pad, bottom - top + 2 * pad
    fill = (*background[::-1], 200) if background is not None else (0, 0, 0, 0)
    canvas = Image.new("RGBA", (max(width, 1), max(height, 1)), fill)
    ImageDraw.Draw(canvas).text((pad - left, pad - top), text, font=font, fill=(*color[::-1], 255))
    return cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGBA2BGRA)


@lru_cache(maxsize=64)
def _font(size_px: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(BOLD_FONT_PATH if bold else FONT_PATH), size_px)


def paste(image: np.ndarray, patch_bgra: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend a BGRA patch onto a BGR image in place at (x, y), clipped to the image."""
    h, w = patch_bgra.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, image.shape[1]), min(y + h, image.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    patch = patch_bgra[y0 - y:y1 - y, x0 - x:x1 - x]
    alpha = patch[:, :, 3:4].astype(np.float32) / 255.0
    region = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = (patch[:, :, :3] * alpha + region * (1.0 - alpha)).astype(np.uint8)
