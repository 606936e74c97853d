"""Synthetic dashcam scenes: real road footage with signs pasted where and as large as RTSD's signs are.

Sign widths and positions are drawn from the boxes of 14,724 real RTSD frames (``rtsd-meta``); each sign is
rendered large, warped, shaded and degraded, then shrunk to its size, so labels are exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from astute_cli.paths import shared_data
from astute_cli.signs import is_of_group_8
from astute_cli.synth.pictograms import available_labels, render_sign, renderable
from astute_cli.synth.town_names import NAME_SIGNS, town_sign

FRAME_WH = (1280, 720)
US_SIGN_FRAMES = {"test2.jpg", "straight_lines1.jpg", "challenge2.jpg"}
"""Background frames that show a real (US) sign: they would teach the model that a sign is background."""
VIDEO_BACKGROUNDS = ("backgrounds/udacity-lanelines/test_videos/solidWhiteRight.mp4",
                     "backgrounds/udacity-CarND-Vehicle-Detection/test_video.mp4")


@dataclass(frozen=True)
class RtsdStats:
    """What real RTSD signs look like in the frame: widths (px), centres (fractions), class counts."""

    widths: np.ndarray
    centres: np.ndarray
    labels: tuple[str, ...]
    frequencies: np.ndarray


@lru_cache(maxsize=1)
def rtsd_stats() -> RtsdStats:
    data = json.loads((shared_data() / "rtsd-meta" / "rtsd_frames_boxes_14724.json").read_text())
    boxes = np.array([b for frame in data["gt_boxes"].values() for b in frame], np.float32)
    names = [n for frame in data["labels"].values() for n in frame]
    widths = boxes[:, 2] - boxes[:, 0]
    centres = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2 / FRAME_WH[0],
                        (boxes[:, 1] + boxes[:, 3]) / 2 / FRAME_WH[1]], 1)
    known = sorted({n for n in names if renderable(n)})
    counts = np.array([names.count(n) for n in known], np.float64)
    return RtsdStats(widths, centres, tuple(known), counts / counts.sum())


@lru_cache(maxsize=1)
def background_frames() -> tuple[np.ndarray, ...]:
    """Real road frames at 1280×720 (stills and every 4th frame of the clips), without US signs."""
    root = shared_data() / "backgrounds"
    frames = []
    for path in sorted(root.rglob("*.jpg")):
        if path.name not in US_SIGN_FRAMES and (image := cv2.imread(str(path))) is not None:
            frames.append(cv2.resize(image, FRAME_WH, interpolation=cv2.INTER_AREA))
    for rel in VIDEO_BACKGROUNDS:
        cap = cv2.VideoCapture(str(shared_data() / rel))
        index = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if index % 4 == 0:
                frames.append(cv2.resize(frame, FRAME_WH, interpolation=cv2.INTER_AREA))
            index += 1
        cap.release()
    if not frames:
        raise ValueError(f"No background frames under {str(root)!r}")
    return tuple(frames)


def sample_label(rng: np.random.Generator, labels: list[str] | None = None) -> str:
    """Half uniform over what we can render, half by RTSD's class frequencies (rare classes still show)."""
    if labels is not None:
        return labels[rng.integers(len(labels))]
    stats = rtsd_stats()
    if rng.random() < 0.5:
        return stats.labels[rng.choice(len(stats.labels), p=stats.frequencies)]
    pool = _uniform_pool()
    return pool[rng.integers(len(pool))]


def plate_width(label: str, width: int) -> int:
    """A label's drawn width on a pole of signs ``width`` px wide: a plate of group 8 a little wider than its sign."""
    return round(width * 1.1) if is_of_group_8(label) else width


@lru_cache(maxsize=1)
def _uniform_pool() -> tuple[str, ...]:
    return tuple(available_labels())


def background(rng: np.random.Generator) -> np.ndarray:
    """A 1280×720 road frame: real footage, jittered in scale, colour and flip; sometimes procedural."""
    if rng.random() < 0.1:
        return _procedural(rng)
    frames = background_frames()
    frame = frames[rng.integers(len(frames))]
    scale = rng.uniform(1.0, 1.4)
    big = cv2.resize(frame, None, fx=scale, fy=scale)
    x = rng.integers(0, big.shape[1] - FRAME_WH[0] + 1)
    y = rng.integers(0, big.shape[0] - FRAME_WH[1] + 1)
    out = big[y:y + FRAME_WH[1], x:x + FRAME_WH[0]].astype(np.float32)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    out = out * rng.uniform(0.6, 1.3) + rng.uniform(-25, 25) + rng.normal(0, 8, 3)
    return np.clip(out, 0, 255).astype(np.uint8)


def _procedural(rng: np.random.Generator) -> np.ndarray:
    h, w = FRAME_WH[1], FRAME_WH[0]
    sky = np.linspace(rng.uniform(120, 230), rng.uniform(60, 200), h // 2)[:, None, None] * rng.uniform(0.7, 1.0, 3)
    ground = np.linspace(rng.uniform(40, 120), rng.uniform(60, 140), h - h // 2)[:, None, None] * np.ones(3)
    image = np.concatenate([np.broadcast_to(sky, (h // 2, w, 3)), np.broadcast_to(ground, (h - h // 2, w, 3))])
    image = image + rng.normal(0, 12, (h, w, 3))
    for _ in range(rng.integers(5, 30)):  # buildings, trees, clutter
        x, y = int(rng.integers(0, w)), int(rng.integers(h // 5, h * 3 // 4))
        cv2.rectangle(image, (x, y), (x + int(rng.integers(10, 200)), y + int(rng.integers(10, 200))),
                      rng.uniform(0, 255, 3).tolist(), -1)
    return np.clip(image, 0, 255).astype(np.uint8)


def sample_width(rng: np.random.Generator) -> int:
    """A sign width in px drawn from RTSD (median 29 px), kept within 10–140 px."""
    return int(np.clip(rng.choice(rtsd_stats().widths) * rng.uniform(0.85, 1.15), 10, 140))


def sample_centre(rng: np.random.Generator) -> tuple[float, float]:
    """A sign centre (px) drawn from RTSD's positions, jittered."""
    cx, cy = rtsd_stats().centres[rng.integers(len(rtsd_stats().centres))]
    return (float(np.clip(cx + rng.normal(0, 0.04), 0, 1)) * FRAME_WH[0],
            float(np.clip(cy + rng.normal(0, 0.04), 0, 1)) * FRAME_WH[1])


def sign_patch(label: str, width_px: int, rng: np.random.Generator, master: np.ndarray | None = None) -> np.ndarray:
    """The sign as it would look at ``width_px``: rendered 4× bigger, warped, shaded, blurred, then shrunk.

    Args:
        master: an RGBA picture (RGB order) of the sign to use instead of the label's (e.g. another value).

    Returns RGBA (BGR order in the colour channels) whose alpha marks exactly the sign.
    """
    big = max(width_px * 4, 24)
    if master is None and label in NAME_SIGNS:  # a town's name: a different invented one each time
        master = town_sign(label, rng)
    if master is not None:
        rgba = cv2.resize(master, (big, max(1, round(big * master.shape[0] / master.shape[1]))),
                          interpolation=cv2.INTER_AREA).astype(np.float32)
    else:
        rgba = render_sign(label, big).astype(np.float32)
    rgba = _perspective(rgba, rng)
    colour = rgba[:, :, :3][:, :, ::-1]  # RGB → BGR
    colour = colour * rng.uniform(0.45, 1.25) + rng.uniform(-30, 30)
    if rng.random() < 0.3:  # faded or dirty
        colour = colour * (1 - (fade := rng.uniform(0.1, 0.5))) + fade * rng.uniform(90, 200)
    if rng.random() < 0.3:  # shadow across the face
        mask = np.zeros(colour.shape[:2], np.float32)
        h, w = mask.shape
        pts = rng.uniform(0, 1, (3, 2)) * [w, h]
        cv2.fillPoly(mask, [np.vstack([pts, [[0, 0]]]).astype(np.int32)], 1.0)
        colour = colour * (1 - 0.5 * mask[:, :, None])
    out = np.dstack([np.clip(colour, 0, 255), rgba[:, :, 3]])
    out = cv2.resize(out, (width_px, max(1, round(width_px * out.shape[0] / out.shape[1]))),
                     interpolation=cv2.INTER_AREA)
    return out.astype(np.uint8)


def _perspective(rgba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = rgba.shape[:2]
    pad = round(0.15 * w)
    canvas = cv2.copyMakeBorder(rgba, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0, 0))
    src = np.float32([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]])
    turn = rng.uniform(-0.18, 0.18)  # the sign turned about its pole: one side nearer
    tilt = rng.normal(0, 0.03)
    dst = src + np.float32([[0, -turn * h / 2], [0, turn * h / 2], [0, -turn * h / 2], [0, turn * h / 2]]) * 0.5
    dst[:, 0] += (src[:, 1] - src[:, 1].mean()) * tilt + np.float32([1, -1, -1, 1]) * abs(turn) * w * 0.15
    warped = cv2.warpPerspective(canvas, cv2.getPerspectiveTransform(src, dst), canvas.shape[1::-1],
                                 flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(warped[:, :, 3] > 127)
    if len(xs) == 0:
        return rgba
    return warped[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def paste(frame: np.ndarray, patch: np.ndarray, x: int, y: int) -> np.ndarray | None:
    """Alpha-blend a BGRA patch at (x, y); return the pasted sign's box (xyxy of alpha > 50 %) or None."""
    h, w = patch.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, frame.shape[1]), min(y + h, frame.shape[0])
    if x1 <= x0 or y1 <= y0:
        return None
    part = patch[y0 - y:y1 - y, x0 - x:x1 - x].astype(np.float32)
    alpha = part[:, :, 3:4] / 255.0
    region = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = (part[:, :, :3] * alpha + region * (1 - alpha)).astype(np.uint8)
    ys, xs = np.nonzero(part[:, :, 3] > 127)
    if len(xs) == 0:
        return None
    return np.array([x0 + xs.min(), y0 + ys.min(), x0 + xs.max() + 1, y0 + ys.max() + 1], np.float32)


def _pole(frame: np.ndarray, x: float, y_top: float, width_px: int, rng: np.random.Generator) -> None:
    thickness = max(1, round(width_px * 0.08))
    grey = int(rng.uniform(70, 170))
    cv2.line(frame, (round(x), round(y_top)), (round(x), frame.shape[0]), (grey, grey, grey), thickness)


def _hard_negative(frame: np.ndarray, rng: np.random.Generator) -> None:
    """Round red/blue/orange things that are not signs: lights, discs, wheels, rings, the backs of signs."""
    cx, cy = sample_centre(rng)
    r = max(3, sample_width(rng) // 2)
    kind = rng.integers(5)
    colours = [(0, 0, 200), (200, 60, 0), (0, 140, 255), (40, 40, 40), (150, 150, 150)]
    colour = tuple(int(c * rng.uniform(0.6, 1.2)) for c in colours[kind])
    centre = (round(cx), round(cy))
    if kind == 3:  # a wheel
        cv2.circle(frame, centre, r, colour, -1)
        cv2.circle(frame, centre, r // 2, (120, 120, 120), -1)
    elif kind == 4:  # the back of a sign on a pole
        cv2.circle(frame, centre, r, colour, -1)
        _pole(frame, cx, cy + r, 2 * r, rng)
    elif rng.random() < 0.5:
        cv2.circle(frame, centre, r, colour, -1, cv2.LINE_AA)
    else:
        cv2.rectangle(frame, (centre[0] - r, centre[1] - r // 2), (centre[0] + r, centre[1] + r // 2), colour, -1)


_PANEL_COLOURS = ((30, 30, 200), (170, 80, 10), (40, 140, 40), (0, 200, 230), (235, 235, 235), (0, 120, 240),
                  (40, 60, 110), (25, 25, 25), (140, 40, 140))
"""BGR colours of shop signs, billboards and plates: red, blue, green, yellow, white, orange, brown, black, purple."""
_LETTERS = "ABEKMHOPCTXYZ0123456789"


def _text(image: np.ndarray, x0: int, y0: int, x1: int, y1: int, colour, rng: np.random.Generator) -> None:
    """A line or two of random capitals inside the rectangle, as large as it allows."""
    lines = 1 if rng.random() < 0.7 else 2
    height = max(1, (y1 - y0) // lines)
    for line in range(lines):
        word = "".join(rng.choice(list(_LETTERS), int(rng.integers(2, 9))))
        scale = max(0.2, height / 30)
        (tw, th), _ = cv2.getTextSize(word, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        scale *= min(1.0, (x1 - x0) * 0.9 / max(tw, 1))
        (tw, th), _ = cv2.getTextSize(word, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        org = (x0 + max(0, (x1 - x0 - tw) // 2), y0 + line * height + (height + th) // 2)
        cv2.putText(image, word, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, max(1, round(scale * 1.5)),
                    cv2.LINE_AA)


def _contrast(colour) -> tuple[int, int, int]:
    return (20, 20, 20) if sum(colour) > 400 else (240, 240, 240)


def urban_clutter(frame: np.ndarray, rng: np.random.Generator) -> str:
    """One thing of a city street that is not a road sign, where and as large as signs are; returns its kind.

    Shop signs and billboards with lettering, street-name and house-number plates, traffic lights, a car's
    tail lights, round brand logos, red-and-white striped barriers and lit windows. The RTSD frames are
    city streets full of them while our backgrounds are highways, so a detector and classifier trained
    without them have never been told these are not signs.
    """
    cx, cy = sample_centre(rng)
    width = sample_width(rng)
    kind = str(rng.choice(["panel", "plate", "traffic_light", "tail_lights", "logo", "stripes", "windows"]))
    colour = tuple(int(c) for c in np.clip(np.array(_PANEL_COLOURS[rng.integers(len(_PANEL_COLOURS))])
                                           * rng.uniform(0.7, 1.15), 0, 255))
    x, y = round(cx), round(cy)
    if kind == "panel":  # a shop sign or billboard: wide, lettered
        w = round(width * rng.uniform(1.5, 6))
        h = max(6, round(w * rng.uniform(0.15, 0.6)))
        cv2.rectangle(frame, (x - w // 2, y - h // 2), (x + w // 2, y + h // 2), colour, -1)
        if rng.random() < 0.4:
            cv2.rectangle(frame, (x - w // 2, y - h // 2), (x + w // 2, y + h // 2), _contrast(colour),
                          max(1, h // 10))
        _text(frame, x - w // 2 + 2, y - h // 2 + 1, x + w // 2 - 2, y + h // 2 - 1, _contrast(colour), rng)
    elif kind == "plate":  # a street-name or house-number plate
        w = round(width * rng.uniform(0.6, 1.8))
        h = max(5, round(w * rng.uniform(0.3, 0.7)))
        colour = (150, 60, 0) if rng.random() < 0.6 else (230, 230, 230)
        cv2.rectangle(frame, (x - w // 2, y - h // 2), (x + w // 2, y + h // 2), colour, -1)
        _text(frame, x - w // 2 + 1, y - h // 2 + 1, x + w // 2 - 1, y + h // 2 - 1, _contrast(colour), rng)
    elif kind == "traffic_light":
        w = max(4, round(width * rng.uniform(0.35, 0.6)))
        h = round(w * rng.uniform(2.4, 3.0))
        cv2.rectangle(frame, (x - w // 2, y - h // 2), (x + w // 2, y + h // 2), (30, 30, 30), -1)
        lit = int(rng.integers(3))
        for k, lamp in enumerate([(40, 40, 255), (0, 200, 255), (120, 230, 60)]):
            colour_k = lamp if k == lit else tuple(c // 5 for c in lamp)
            cv2.circle(frame, (x, y - h // 2 + round((k + 0.5) * h / 3)), max(1, round(w * 0.35)), colour_k, -1,
                       cv2.LINE_AA)
        if rng.random() < 0.6:
            _pole(frame, x, y + h / 2, w * 2, rng)
    elif kind == "tail_lights":  # the back of a car: two red lamps either side of a dark body
        w = round(width * rng.uniform(2, 4))
        h = max(3, round(width * rng.uniform(0.2, 0.4)))
        body = tuple(int(c) for c in rng.uniform(20, 200, 3))
        cv2.rectangle(frame, (x - w // 2, y - h), (x + w // 2, y + 2 * h), body, -1)
        lamp = (30, 30, int(rng.uniform(170, 255)))
        for side in (-1, 1):
            lx = x + side * (w // 2 - h)
            cv2.rectangle(frame, (lx - h, y - h // 2), (lx + h, y + h // 2), lamp, -1)
    elif kind == "logo":  # a round brand logo: a disc or ring with letters
        r = max(4, round(width * rng.uniform(0.4, 0.8)))
        if rng.random() < 0.5:
            cv2.circle(frame, (x, y), r, colour, -1, cv2.LINE_AA)
        else:
            cv2.circle(frame, (x, y), r, (235, 235, 235), -1, cv2.LINE_AA)
            cv2.circle(frame, (x, y), r, colour, max(1, r // 4), cv2.LINE_AA)
        _text(frame, x - r // 2, y - r // 3, x + r // 2, y + r // 3, _contrast(colour) if rng.random() < 0.5
              else colour, rng)
    elif kind == "stripes":  # a red-and-white barrier or a striped post
        horizontal = rng.random() < 0.6
        length, thick = round(width * rng.uniform(1.5, 5)), max(3, round(width * rng.uniform(0.15, 0.4)))
        w, h = (length, thick) if horizontal else (thick, length)
        n = int(rng.integers(3, 9))
        for k in range(n):  # stripe k spans [a, b) along the barrier's length
            a, b = k * length // n, (k + 1) * length // n
            p0, p1 = ((x - w // 2 + a, y - h // 2), (x - w // 2 + b, y + h // 2)) if horizontal else \
                ((x - w // 2, y - h // 2 + a), (x + w // 2, y - h // 2 + b))
            cv2.rectangle(frame, p0, p1, (30, 30, 210) if k % 2 == 0 else (235, 235, 235), -1)
    else:  # a facade with lit and dark windows
        cols, rows = int(rng.integers(2, 6)), int(rng.integers(2, 5))
        cell = max(4, round(width * rng.uniform(0.4, 0.9)))
        wall = tuple(int(c) for c in rng.uniform(60, 200, 3))
        cv2.rectangle(frame, (x - cols * cell // 2, y - rows * cell // 2), (x + cols * cell // 2, y + rows * cell // 2),
                      wall, -1)
        for i in range(cols):
            for j in range(rows):
                pane = (200, 230, 250) if rng.random() < 0.3 else (50, 40, 40)
                x0, y0 = x - cols * cell // 2 + i * cell, y - rows * cell // 2 + j * cell
                cv2.rectangle(frame, (x0 + cell // 5, y0 + cell // 5), (x0 + cell - cell // 5, y0 + cell - cell // 5),
                              pane, -1)
    return kind


def compose(rng: np.random.Generator, n_signs: int | None = None, labels: list[str] | None = None,
            big_signs: float = 0.0, urban: bool = False) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """One synthetic 1280×720 dashcam frame.

    ``big_signs``: the fraction of poles whose signs are drawn 40–140 px wide (near signs, rare in RTSD's
    width statistics) instead of from RTSD's widths; 0 keeps the frames of earlier sets unchanged.
    ``urban``: also draw 3–11 pieces of city clutter (:func:`urban_clutter`); False keeps earlier sets unchanged.

    Returns:
        frame (720, 1280, 3) BGR, boxes (N, 4) xyxy of the pasted signs, their labels.
    """
    frame = background(rng)
    for _ in range(rng.integers(0, 4)):
        _hard_negative(frame, rng)
    if urban:
        for _ in range(rng.integers(3, 12)):
            urban_clutter(frame, rng)
    boxes, names = [], []
    for _ in range(rng.integers(1, 6) if n_signs is None else n_signs):
        _place_pole(frame, rng, labels, boxes, names, big_signs)
    frame = degrade(frame, rng)
    return frame, np.array(boxes, np.float32).reshape(-1, 4), names


def _place_pole(frame: np.ndarray, rng: np.random.Generator, labels: list[str] | None, boxes: list, names: list,
                big_signs: float = 0.0) -> None:
    """A pole with 1–3 signs (and sometimes a plate) stacked on it."""
    width = sample_width(rng)
    if big_signs > 0 and rng.random() < big_signs:
        width = int(rng.integers(40, 141))
    cx, cy = sample_centre(rng)
    stack = [sample_label(rng, labels) for _ in range(1 if rng.random() < 0.7 else int(rng.integers(2, 4)))]
    if labels is None and rng.random() < 0.15:
        stack.append(str(rng.choice(["8_2_1", "8_13", "8_5_4", "8_1_1", "8_3_1"])))
    y = cy - width / 2
    if rng.random() < 0.6:
        _pole(frame, cx, y, width, rng)
    for label in stack:
        if not renderable(label):
            continue
        w = plate_width(label, width)
        patch = sign_patch(label, w, rng)
        box = paste(frame, patch, round(cx - patch.shape[1] / 2), round(y))
        if box is not None and _visible_enough(box, patch):
            boxes.append(box)
            names.append(label)
            if rng.random() < 0.07:  # partly hidden by a branch or a lamp post; the box stays the sign's
                _occlude(frame, box, rng)
        y += patch.shape[0] + max(1, round(0.05 * width))


def _visible_enough(box: np.ndarray, patch: np.ndarray) -> bool:
    return (box[2] - box[0]) * (box[3] - box[1]) >= 0.5 * patch.shape[0] * patch.shape[1] * 0.7


def _occlude(frame: np.ndarray, box: np.ndarray, rng: np.random.Generator) -> None:
    x1, y1, x2, y2 = box.astype(int)
    w = max(1, round((x2 - x1) * rng.uniform(0.15, 0.35)))
    x = int(rng.integers(x1, max(x1 + 1, x2 - w)))
    colour = rng.uniform(20, 120, 3).tolist()
    cv2.rectangle(frame, (x, y1 - 2), (x + w, y2 + 2), colour, -1)


def degrade(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Camera effects over the whole frame: night, rain, blur, noise, JPEG."""
    out = frame.astype(np.float32)
    if rng.random() < 0.12:  # night: dark, blue-ish, noisy
        out = 255 * (out / 255) ** rng.uniform(1.8, 2.8) * np.float32([1.1, 0.95, 0.9])
    if rng.random() < 0.08:  # rain streaks
        streaks = np.zeros(frame.shape[:2], np.float32)
        for _ in range(300):
            x, y = int(rng.integers(0, frame.shape[1])), int(rng.integers(0, frame.shape[0]))
            cv2.line(streaks, (x, y), (x + 3, y + 25), 1.0, 1)
        out = out * 0.85 + streaks[:, :, None] * 60 + 20
    out = np.clip(out + rng.normal(0, rng.uniform(1, 7), out.shape), 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        k = int(rng.choice([3, 5]))
        out = cv2.GaussianBlur(out, (k, k), 0) if rng.random() < 0.5 else _motion_blur(out, k)
    quality = int(rng.integers(35, 96))
    _, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def _motion_blur(image: np.ndarray, k: int) -> np.ndarray:
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0 / k
    return cv2.filter2D(image, -1, kernel)
