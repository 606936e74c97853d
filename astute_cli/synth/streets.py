"""Synthetic frames of real streets, at any camera resolution, under a light/weather condition.

Sign layouts (``layout``):
- ``poles``: 1–5 poles with 1–3 signs stacked and sometimes a plate, as :func:`scene.compose` draws them;
- ``touching``: 1–2 groups of 2–4 signs touching side by side or stacked on one pole (a "no entry" beside a "keep
  right"), plates under some, plus a few ordinary poles;
- ``big``: near signs 64–220 px wide (at 1280 px frame width), half of them cut by the frame's edge, most seen at
  an angle, plus a few ordinary poles.
In every layout some signs are seen at an angle, dirty, or partly hidden, and a plate hangs under a sign, as on real
poles (never alone or above one).

Frames of other sizes (720p to 4K, 5:4 sensors such as 2448×2048) are composed at that size: the background is
scaled to cover the frame and the signs are drawn at their own resolution, their widths scaled with the frame
width (the same field of view as a 1280 px dashcam).
"""

from __future__ import annotations

import cv2
import numpy as np

from astute_cli.signs import is_mounted_plate, is_of_group_8
from astute_cli.synth import conditions as cond
from astute_cli.synth import scene
from astute_cli.synth.camera import Camera, sample_camera, shoot
from astute_cli.synth.pictograms import renderable

LAYOUTS = ("poles", "touching", "big")
PLATES = ("8_2_1", "8_13", "8_5_4", "8_1_1", "8_3_1")


def parse_layouts(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Layout names from ``"touching,big"`` or a list (see :func:`conditions.parse_names`)."""
    return cond.parse_names(value, LAYOUTS, "layout")


def parse_frame_size(value: str | tuple[int, int] | None) -> tuple[int, int]:
    """``"3840x2160"`` → (3840, 2160); ``None`` → 1280×720.

    Raises:
        ValueError: not WxH, or outside 320–8192 px.
    """
    if value is None or value == "":
        return scene.FRAME_WH
    if isinstance(value, tuple):
        w, h = value
    else:
        parts = str(value).lower().split("x")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"A frame size must be WxH pixels like 2448x2048, got {value!r}")
        w, h = int(parts[0]), int(parts[1])
    if not (320 <= w <= 8192 and 320 <= h <= 8192):
        raise ValueError(f"A frame size must be 320–8192 px each way, got {w}x{h}")
    return int(w), int(h)


class _Canvas:
    """A frame being drawn, its sign-face map and the boxes and labels of the signs on it."""

    def __init__(self, frame: np.ndarray) -> None:
        self.frame = frame
        self.faces = np.zeros(frame.shape[:2], np.float32)
        self.boxes: list[np.ndarray] = []
        self.names: list[str] = []
        self.scale = frame.shape[1] / scene.FRAME_WH[0]

    def sign(self, label: str, width: int, x: float, y: float, rng: np.random.Generator, angle: float = 0.0
             ) -> tuple[int, int]:
        """Draw ``label`` ``width`` px wide with its top-left at (x, y); returns the patch's (w, h) in px.
        ``angle``: how much the face is foreshortened (0: facing the camera, 0.5: half as wide)."""
        patch = scene.sign_patch(label, max(4, width), rng)
        if angle > 0:
            patch = cv2.resize(patch, (max(2, round(patch.shape[1] * (1 - angle))), patch.shape[0]),
                               interpolation=cv2.INTER_AREA)
        if rng.random() < 0.12:
            _dirt(patch, rng)
        x0, y0 = round(x), round(y)
        box = scene.paste(self.frame, patch, x0, y0)
        if box is None:
            return patch.shape[1], patch.shape[0]
        self._face(patch, x0, y0)
        if (box[2] - box[0]) * (box[3] - box[1]) >= 0.35 * patch.shape[0] * patch.shape[1]:
            self.boxes.append(box)
            self.names.append(label)
            if rng.random() < 0.08:  # a branch or a lamp post in front; the box stays the sign's
                scene._occlude(self.frame, box, rng)
        return patch.shape[1], patch.shape[0]

    def _face(self, patch: np.ndarray, x: int, y: int) -> None:
        h, w = self.faces.shape
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + patch.shape[1], w), min(y + patch.shape[0], h)
        if x1 > x0 and y1 > y0:
            alpha = patch[y0 - y:y1 - y, x0 - x:x1 - x, 3].astype(np.float32) / 255
            np.maximum(self.faces[y0:y1, x0:x1], alpha, out=self.faces[y0:y1, x0:x1])


def _dirt(patch: np.ndarray, rng: np.random.Generator) -> None:
    """Brown-grey road dirt splashed over a sign face (in place, BGRA)."""
    h, w = patch.shape[:2]
    stain = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(2, 8))):
        centre = (int(rng.integers(0, w)), int(rng.integers(h // 3, h)))
        cv2.circle(stain, centre, max(1, int(w * rng.uniform(0.05, 0.2))), 1.0, -1)
    stain = cv2.GaussianBlur(stain, (0, 0), max(1.0, w / 20))[:, :, None] * rng.uniform(0.3, 0.7)
    colour = patch[:, :, :3].astype(np.float32)
    patch[:, :, :3] = np.clip(colour * (1 - stain) + np.float32([60, 80, 95]) * stain, 0, 255).astype(np.uint8)


def _width(rng: np.random.Generator, scale: float) -> int:
    return max(6, round(scene.sample_width(rng) * scale))


def _centre(rng: np.random.Generator, wh: tuple[int, int]) -> tuple[float, float]:
    cx, cy = scene.sample_centre(rng)
    return cx / scene.FRAME_WH[0] * wh[0], cy / scene.FRAME_WH[1] * wh[1]


def _may_draw(label: str, plates: bool) -> bool:
    return renderable(label) and (plates or not is_of_group_8(label))


def _label(rng: np.random.Generator, labels: list[str] | None, plates: bool = True) -> str:
    """A label to draw (no plate of group 8 unless ``plates``): from ``labels`` when they hold one, else from the
    whole catalogue, so a layout that needs a sign still gets one from a list of plates only."""
    if labels is not None and not any(_may_draw(label, plates) for label in labels):
        labels = None
    while True:
        label = scene.sample_label(rng, labels)
        if _may_draw(label, plates):
            return label


def _hung(rng: np.random.Generator, labels: list[str] | None, stack: list[str]) -> list[str]:
    """A pole's labels, top to bottom, as real poles carry them: a mounted plate (GOST group 8) hangs under the
    signs, never above one or alone; a pole of plates only gets a sign above them (from ``labels`` when they hold
    one that is not of group 8)."""
    signs = [label for label in stack if not is_mounted_plate(label)]
    plates = [label for label in stack if is_mounted_plate(label)]
    if plates and not signs:
        signs = [_label(rng, [label for label in labels or () if not is_of_group_8(label)], plates=False)]
    return signs + plates


def _hang(canvas: _Canvas, rng: np.random.Generator, stack: list[str], width: int, cx: float, y: float,
          angle: float) -> None:
    """Draw a pole's labels top to bottom from ``y``, centred on ``cx``, a little apart (plates a little wider)."""
    for label in stack:
        w = scene.plate_width(label, width)
        _, h = canvas.sign(label, w, cx - w * (1 - angle) / 2, y, rng, angle)
        y += h + max(1, round(0.05 * width))


def _pole(canvas: _Canvas, rng: np.random.Generator, labels: list[str] | None, width: int | None = None) -> None:
    """An ordinary pole: 1–3 signs stacked a little apart, sometimes a plate under them."""
    wh = canvas.frame.shape[1::-1]
    width = width or _width(rng, canvas.scale)
    cx, cy = _centre(rng, wh)
    stack = [_label(rng, labels) for _ in range(1 if rng.random() < 0.7 else int(rng.integers(2, 4)))]
    if rng.random() < 0.15:
        stack.append(str(rng.choice(PLATES)))
    stack = _hung(rng, labels, stack)
    y = cy - width / 2
    if rng.random() < 0.6:
        scene._pole(canvas.frame, cx, y, width, rng)
    angle = rng.uniform(0.1, 0.45) if rng.random() < 0.15 else 0.0
    _hang(canvas, rng, stack, width, cx, y, angle)


def _touching(canvas: _Canvas, rng: np.random.Generator, labels: list[str] | None) -> None:
    """2–4 signs of one size touching side by side (on a crossbar) or stacked without a gap on one pole."""
    wh = canvas.frame.shape[1::-1]
    width = max(round(16 * canvas.scale), _width(rng, canvas.scale))
    n = int(rng.integers(2, 5))
    side_by_side = rng.random() < 0.6
    cx, cy = _centre(rng, wh)
    gap = int(rng.integers(0, 2))
    x, y = cx - (n * (width + gap)) / 2 if side_by_side else cx - width / 2, cy - width / 2
    scene._pole(canvas.frame, cx, y, width, rng)
    bottoms = []
    for _ in range(n):
        label = _label(rng, labels, plates=False)
        pw, ph = canvas.sign(label, round(width * rng.uniform(0.95, 1.05)), x, y, rng)
        bottoms.append((x, y + ph, pw))
        if side_by_side:
            x += pw + gap
        else:
            y += ph + gap
    if rng.random() < 0.35:  # a plate under one of them (under the last one of a stack)
        px, py, pw = bottoms[int(rng.integers(len(bottoms)))] if side_by_side else bottoms[-1]
        plate = str(rng.choice(PLATES))
        canvas.sign(plate, round(pw * 1.05), px - pw * 0.025, py + gap, rng)


def _big(canvas: _Canvas, rng: np.random.Generator, labels: list[str] | None) -> None:
    """A near sign 64–220 px wide (at 1280 px), often cut by the frame's side edge, often seen at an angle; a plate
    drawn for it hangs under it."""
    w_frame, h_frame = canvas.frame.shape[1::-1]
    width = round(rng.uniform(64, 220) * canvas.scale)
    stack = _hung(rng, labels, [_label(rng, labels)])  # a plate drawn here hangs under a near sign
    angle = rng.uniform(0.1, 0.5) if rng.random() < 0.6 else 0.0
    drawn = width * (1 - angle)
    if rng.random() < 0.5:  # cut by the left or right edge: up to 60 % outside the frame
        out = rng.uniform(0.05, 0.6) * drawn
        x = -out if rng.random() < 0.5 else w_frame - drawn + out
    else:
        x = rng.uniform(0.55, 0.95) * w_frame - drawn / 2 if rng.random() < 0.7 else rng.uniform(0, w_frame - drawn)
    y = rng.uniform(0.05, 0.45) * h_frame
    if rng.random() < 0.5:
        scene._pole(canvas.frame, x + drawn / 2, y, width, rng)
    _hang(canvas, rng, stack, width, x + drawn / 2, y, angle)


def _base(rng: np.random.Generator, frame_wh: tuple[int, int], urban: bool) -> np.ndarray:
    """The road scene without signs at ``frame_wh``: a 1280×720 background with clutter, scaled to cover it."""
    frame = scene.background(rng)
    for _ in range(rng.integers(0, 4)):
        scene._hard_negative(frame, rng)
    if urban:
        for _ in range(rng.integers(3, 12)):
            scene.urban_clutter(frame, rng)
    if tuple(frame_wh) == scene.FRAME_WH:
        return frame
    w, h = frame_wh
    s = max(w / scene.FRAME_WH[0], h / scene.FRAME_WH[1])
    big = cv2.resize(frame, (max(w, round(scene.FRAME_WH[0] * s)), max(h, round(scene.FRAME_WH[1] * s))),
                     interpolation=cv2.INTER_CUBIC)
    x, y = (big.shape[1] - w) // 2, (big.shape[0] - h) // 2
    return np.ascontiguousarray(big[y:y + h, x:x + w])


def compose_street(rng: np.random.Generator, condition: str = "clear", layout: str = "poles",
                   frame_wh: tuple[int, int] = scene.FRAME_WH, camera: Camera | bool | None = True,
                   urban: bool = False, labels: list[str] | None = None,
                   strength: float | None = None, poles: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One synthetic dashcam frame of a street.

    Args:
        rng: the only source of randomness: the same generator state gives the same frame.
        condition: one of :data:`conditions.CONDITIONS`.
        layout: one of :data:`LAYOUTS`.
        frame_wh: the frame's size in px (width, height).
        camera: a :class:`Camera`, True for a random one (:func:`sample_camera`), False for a plain one.
        urban: also draw city clutter that is not a sign.
        labels: draw sign labels from these only (None: RTSD's frequencies, half uniform).
        strength: the condition's strength in [0, 1] (None: drawn from 0.3–1).
        poles: how many poles of signs the ``poles`` layout stands up (None: 1–5; 0: a street with no sign).

    Returns:
        frame (H, W, 3) uint8 BGR, boxes (N, 4) float32 xyxy of the signs, their labels.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"Unknown layout {layout!r} (one of: {', '.join(LAYOUTS)})")
    canvas = _Canvas(_base(rng, frame_wh, urban))
    if layout == "touching":
        for _ in range(int(rng.integers(1, 3))):
            _touching(canvas, rng, labels)
    elif layout == "big":
        for _ in range(int(rng.integers(1, 3))):
            _big(canvas, rng, labels)
    n_poles = (int(rng.integers(1, 6)) if poles is None else poles) if layout == "poles" else int(rng.integers(0, 3))
    for _ in range(n_poles):
        _pole(canvas, rng, labels)
    strength = cond.draw_strength(rng) if strength is None else strength
    lit = cond.apply(condition, canvas.frame, canvas.faces, rng, strength)
    model = sample_camera(rng, frame_wh[0]) if camera is True else (camera or Camera())
    image, boxes = shoot(lit, np.array(canvas.boxes, np.float32).reshape(-1, 4), model, rng)
    keep = ((boxes[:, 2] - boxes[:, 0]) >= 2) & ((boxes[:, 3] - boxes[:, 1]) >= 2)
    return image, boxes[keep], [n for n, k in zip(canvas.names, keep) if k]
