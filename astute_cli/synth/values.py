"""Training and test crops for the value reader: valued sign faces with any value, seen the way the runtime sees them.

A face is drawn at ``MASTER_PX`` from the GOST pictogram with its printed value replaced in the GOST road-sign font
(``face("3_13", "3,8м")``), shrunk to the width it has on the road (12–80 px), degraded like a dashcam frame
(blur, motion, exposure, noise, JPEG, slight tilt), pasted over a real road photo, and cropped by
``reader.crop`` from a detector-like box with ±10 % jitter. ``sample_text`` draws open-vocabulary values (any
digit string the kind can print) and never the held-out ones, which only the benchmark shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from astute_cli import reader
from astute_cli.paths import shared_data
from astute_cli.synth.pictograms import _load_pictogram

KINDS = ("3_24", "3_25", "4_6", "6_2", "3_11", "3_12", "3_13", "3_14", "3_15", "3_16", "8_1_1", "8_2_1")
"""The sign codes the generator draws (one pictogram per reader kind)."""

HELD_OUT = ("90", "110", "15", "3,8", "250")
"""Numbers (as printed, without the unit) never drawn for training, on any kind: the benchmark shows they are read."""

INK = {"black": (0, 0, 0, 255), "white": (255, 255, 255, 255), "grey": (128, 128, 128, 255)}

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Layout:
    """How a kind prints its value: which part of the face to blank and where the number and unit go.

    Attributes:
        blank: ``disc`` (radius ``area[0]`` of the width, clipped to the ``area[1:]`` y band or x band), or ``rect``
            (``area`` = x1, y1, x2, y2 fractions).
        number: where the number (with a unit on the same line when ``unit`` is None) is printed.
        unit: where a unit printed on its own line goes, or None.
        ink: colour of the text.
        spaced: a unit on the number's line stands a space apart ("70 м", "3,8 м"), not against it ("15т").
    """

    blank: str
    area: tuple[float, ...]
    number: Box
    unit: Box | None
    ink: str
    spaced: bool = False


_ROUND = Layout("disc", (0.37, 0.0, 1.0), (0.2, 0.3, 0.8, 0.7), None, "black")
LAYOUTS: dict[str, Layout] = {
    "3_24": _ROUND, "3_11": _ROUND,
    "3_25": Layout("stripes", (0.44,), (0.2, 0.3, 0.8, 0.7), None, "grey"),
    "4_6": Layout("disc", (0.42, 0.0, 1.0), (0.2, 0.3, 0.8, 0.7), None, "white"),
    "6_2": Layout("rect", (0.1, 0.1, 0.9, 0.9), (0.14, 0.28, 0.86, 0.72), None, "white"),
    "3_12": Layout("disc", (0.37, 0.0, 0.5), (0.25, 0.17, 0.75, 0.45), None, "black"),
    "3_13": Layout("disc", (0.37, 0.185, 0.815), (0.22, 0.22, 0.78, 0.54), (0.4, 0.58, 0.6, 0.76), "black"),
    "3_14": Layout("xdisc", (0.37, 0.185, 0.815), (0.22, 0.26, 0.78, 0.52), (0.4, 0.57, 0.6, 0.74), "black"),
    # the length between the arrows under the lorry, "м" under it; the gap above the two cars, "70 м" on one line
    "3_15": Layout("rect", (0.34, 0.53, 0.66, 0.87), (0.36, 0.55, 0.64, 0.74), (0.42, 0.75, 0.58, 0.85), "black"),
    "3_16": Layout("disc", (0.41, 0.12, 0.37), (0.28, 0.16, 0.72, 0.34), None, "black", spaced=True),
    "8_1_1": Layout("rect", (0.04, 0.08, 0.96, 0.92), (0.08, 0.18, 0.92, 0.82), None, "black", spaced=True),
    "8_2_1": Layout("rect", (0.15, 0.08, 0.85, 0.92), (0.17, 0.2, 0.83, 0.8), None, "black", spaced=True),
}
ONE_LINE: dict[str, tuple[Layout, ...]] = {
    # the older layout of heights and widths: "3,8 м" on one line between the arrows (``reader.ONE_LINE``), in big
    # and in small print
    "3_13": (Layout("disc", (0.37, 0.185, 0.815), (0.16, 0.38, 0.84, 0.62), None, "black", spaced=True),
             Layout("disc", (0.37, 0.185, 0.815), (0.24, 0.42, 0.76, 0.58), None, "black", spaced=True)),
    "3_14": (Layout("xdisc", (0.37, 0.185, 0.815), (0.21, 0.38, 0.79, 0.62), None, "black", spaced=True),
             Layout("xdisc", (0.37, 0.185, 0.815), (0.26, 0.42, 0.74, 0.58), None, "black", spaced=True)),
}
ONE_LINE_SHARE = 0.5
"""Share of the faces of ``ONE_LINE`` kinds drawn in a one-line layout."""
MISREAD_SHARE = 0.1
"""Share of the crops of ``ONE_LINE`` kinds cut with the other layout's strips, to be read as nothing: the reader
reads both layouts of such a sign, and the wrong one must not win with a confident misreading."""


def face(code: str, text: str, one_line: int = 0) -> np.ndarray:
    """The RGBA master picture (``MASTER_PX`` wide) of sign ``code`` printing ``text`` (``90``, ``3,8м``, ``1,5км``):
    GOST's layout, or with ``one_line`` k > 0 the k-th of ``ONE_LINE``'s (kinds that have them)."""
    return _face(code, text, one_line if code in ONE_LINE else 0).copy()


@lru_cache(maxsize=4096)
def _face(code: str, text: str, one_line: int = 0) -> np.ndarray:
    layout = ONE_LINE[code][one_line - 1] if one_line else LAYOUTS[code]
    base = _pictogram(code)
    out = _blank(base, layout)
    number, unit = _split(text)
    picture = Image.fromarray(out)
    draw = ImageDraw.Draw(picture)
    if layout.unit is None:
        _draw(draw, f"{number} {unit}" if unit and layout.spaced else number + unit, layout.number, out.shape,
              layout.ink)
    else:
        _draw(draw, number, layout.number, out.shape, layout.ink)
        if unit:
            _draw(draw, unit, layout.unit, out.shape, layout.ink)
    result = np.asarray(picture).copy()
    if layout.blank == "stripes":  # the end-of-limit band lies over the value
        dark = (base[:, :, :3].max(axis=2) < 110) & _disc_mask(base.shape, layout.area[0])
        result[dark] = base[dark]
    return result


@lru_cache(maxsize=32)
def _pictogram(code: str) -> np.ndarray:
    return _load_pictogram(code)


def _split(text: str) -> tuple[str, str]:
    digits = text.rstrip("мтк")
    return digits, text[len(digits):]


def _disc_mask(shape: tuple[int, ...], radius: float) -> np.ndarray:
    h, w = shape[:2]
    yy, xx = np.mgrid[:h, :w]
    return (xx - (w - 1) / 2) ** 2 + (yy - (h - 1) / 2) ** 2 <= (radius * w) ** 2


def _blank(rgba: np.ndarray, layout: Layout) -> np.ndarray:
    """Paint over the printed value with the face's colour, keeping arrows, axles and the ring."""
    out = rgba.copy()
    h, w = out.shape[:2]
    if layout.blank == "rect":
        x1, y1, x2, y2 = layout.area
        region = np.zeros((h, w), bool)
        region[round(y1 * h):round(y2 * h), round(x1 * w):round(x2 * w)] = True
    else:
        region = _disc_mask(out.shape, layout.area[0])
        if len(layout.area) == 3:
            lo, hi = round(layout.area[1] * h), round(layout.area[2] * h)
            band = np.zeros((h, w), bool)
            if layout.blank == "xdisc":
                band[:, lo:hi] = True
            else:
                band[lo:hi] = True
            region &= band
    centre = out[h // 2 - h // 8:h // 2 + h // 8, w // 2 - w // 4:w // 2 + w // 4, :3].reshape(-1, 3)
    colour = _mode_colour(centre)
    out[region, :3] = colour
    return out


def _mode_colour(pixels: np.ndarray) -> np.ndarray:
    keys = (pixels // 32).astype(np.int32) @ np.array([64, 8, 1])
    return np.median(pixels[keys == np.bincount(keys).argmax()], axis=0).astype(np.uint8)


def _draw(draw: ImageDraw.ImageDraw, text: str, box: Box, shape: tuple[int, ...], ink: str) -> None:
    h, w = shape[:2]
    bw, bh = round((box[2] - box[0]) * w), round((box[3] - box[1]) * h)
    font = _fit_font(text, bw, bh)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    cx, cy = (box[0] + box[2]) / 2 * w, (box[1] + box[3]) / 2 * h
    draw.text((cx - (right - left) / 2 - left, cy - (bottom - top) / 2 - top), text, font=font, fill=INK[ink])


@lru_cache(maxsize=2048)
def _fit_font(text: str, max_w: int, max_h: int) -> ImageFont.FreeTypeFont:
    size = max(8, round(max_h * 1.4))
    while size > 6:
        font = _font(size)
        left, top, right, bottom = font.getbbox(text)
        if right - left <= max_w and bottom - top <= max_h:
            return font
        size -= 1
    return _font(6)


@lru_cache(maxsize=512)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path()), size)


def font_path() -> Path:
    return shared_data() / "fonts" / "russianroadsign-medium.otf"


# --- values ---


def sample_text(code: str, rng: np.random.Generator, held_out: tuple[str, ...] = HELD_OUT) -> str:
    """A random value text the kind could print (open vocabulary), never one whose number is in ``held_out``."""
    while True:
        text = _draw_text(reader.kind_of(code), rng)
        if _split(text)[0] not in held_out:
            return text


def _draw_text(kind: str, rng: np.random.Generator) -> str:
    roll = rng.random()
    if kind in ("3_24", "3_25", "4_6", "6_2"):
        if roll < 0.5:
            return str(5 * int(rng.integers(1, 27)))
        return str(int(rng.integers(0, 1000 if roll < 0.6 else 200)))
    if kind in ("3_13", "3_14"):
        if roll < 0.85:
            return f"{rng.integers(1, 10)},{rng.integers(0, 10)}м"
        return f"{rng.integers(1, 10)}м"
    if kind == "3_15":  # lengths: 2-40 m, whole or with a tenth
        if roll < 0.7:
            return f"{rng.integers(2, 41)}м"
        return f"{rng.integers(2, 30)},{rng.integers(0, 10)}м"
    if kind == "3_16":  # minimum gaps: tens of metres
        if roll < 0.8:
            return f"{(5, 10)[int(rng.integers(0, 2))] * int(rng.integers(2, 21))}м"
        return f"{rng.integers(1, 300)}м"
    if kind in ("3_11", "3_12"):
        if roll < 0.6:
            return f"{rng.integers(1, 100 if roll < 0.15 else 61)}т"
        return f"{rng.integers(1, 30)},{rng.integers(0, 10)}т"
    if roll < 0.6:  # plates
        step = (10, 50, 100)[int(rng.integers(0, 3))]
        return f"{step * int(rng.integers(1, 1000 // step))}м"
    if roll < 0.8:
        return f"{rng.integers(1, 10)},{rng.integers(0, 10)}км"
    return f"{rng.integers(1, 20)}км"


# --- the crop as the runtime sees it ---


@lru_cache(maxsize=1)
def backgrounds() -> tuple[np.ndarray, ...]:
    """Real road photos (BGR), the ones showing a US sign left out."""
    root = shared_data() / "backgrounds"
    skip = {"test2.jpg", "straight_lines1.jpg", "challenge2.jpg"}
    paths = sorted(p for p in root.rglob("*.jpg") if p.name not in skip)
    images = tuple(img for p in paths if (img := cv2.imread(str(p))) is not None)
    if not images:
        raise ValueError(f"No background photos under {str(root)!r}")
    return images


def sample(code: str, text: str, width_px: float, rng: np.random.Generator,
           input_hw: tuple[int, int] = reader.INPUT_HW, one_line: int = 0, misread: bool = False) -> np.ndarray:
    """One reader input: ``text`` on sign ``code`` seen ``width_px`` wide on a road, cropped from a jittered box.

    Args:
        one_line: draw the face in the k-th of ``ONE_LINE``'s layouts (kinds that have them; 0: GOST's).
        misread: cut the crop with the other layout's strips (``reader.layouts``), which should read as nothing.

    Returns:
        (h, w) uint8 grey crop, as ``reader.crop`` makes it at runtime.
    """
    patch, box = view(code, text, width_px, rng, one_line)
    return reader.crop(patch, box, code, input_hw, strips_for(code, one_line, misread))


def strips_for(code: str, one_line: int = 0, misread: bool = False) -> tuple[reader.Region, ...]:
    """The ``reader.layouts`` strips that fit a face of ``code`` drawn with ``one_line`` (``face``'s), or with
    ``misread`` the other layout's."""
    options = reader.layouts(code)
    return options[(int(one_line > 0 and code in ONE_LINE) + int(misread)) % len(options)]


def view(code: str, text: str, width_px: float, rng: np.random.Generator, one_line: int = 0
         ) -> tuple[np.ndarray, np.ndarray]:
    """``text`` on sign ``code`` seen ``width_px`` wide on a road: a BGR patch of the road and the sign's box in it,
    jittered like a detector's (4,) float32; ``one_line`` as in ``sample``."""
    rgba = _tilt(face(code, text, one_line), rng)
    h_px = width_px * rgba.shape[0] / rgba.shape[1]
    size = (max(2, round(width_px)), max(2, round(h_px)))
    sign = cv2.resize(rgba, size, interpolation=cv2.INTER_AREA)
    pad = max(8, round(width_px))
    patch = _background(rng, size[1] + 2 * pad, size[0] + 2 * pad)
    alpha = sign[:, :, 3:4].astype(np.float32) / 255
    colour = cv2.cvtColor(sign[:, :, :3], cv2.COLOR_RGB2BGR).astype(np.float32) * _exposure(rng)
    region = patch[pad:pad + size[1], pad:pad + size[0]].astype(np.float32)
    patch[pad:pad + size[1], pad:pad + size[0]] = np.clip(colour * alpha + region * (1 - alpha), 0, 255)
    patch = _degrade(patch, width_px, rng)
    return patch, np.array(_jitter((pad, pad, pad + size[0], pad + size[1]), rng), np.float32)


def draw_layout(code: str, rng: np.random.Generator) -> tuple[int, bool]:
    """(one_line, misread) for a training crop of sign ``code`` (``sample``'s): ``ONE_LINE_SHARE`` of the faces in
    one of the one-line layouts, ``MISREAD_SHARE`` of the crops cut with the other layout's strips."""
    if code not in ONE_LINE:
        return 0, False
    one_line = int(rng.integers(1, len(ONE_LINE[code]) + 1)) if rng.random() < ONE_LINE_SHARE else 0
    return one_line, bool(rng.random() < MISREAD_SHARE)


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    images = backgrounds()
    image = images[int(rng.integers(len(images)))]
    scale = rng.uniform(0.3, 1.0)
    ch, cw = min(image.shape[0], round(h / scale)), min(image.shape[1], round(w / scale))
    y, x = int(rng.integers(0, image.shape[0] - ch + 1)), int(rng.integers(0, image.shape[1] - cw + 1))
    return cv2.resize(image[y:y + ch, x:x + cw], (w, h), interpolation=cv2.INTER_AREA)


def _tilt(rgba: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A slight rotation and perspective (the sign seen a little from the side), on the master picture."""
    h, w = rgba.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    shift = rng.normal(0, 0.03, (4, 2)) * [w, h]
    angle = np.deg2rad(rng.normal(0, 3))
    centre = np.array([w / 2, h / 2])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = ((src - centre) @ rot.T + centre + shift).astype(np.float32)
    squeeze = rng.uniform(0.8, 1.0)  # seen from the side: narrower
    dst[:, 0] = (dst[:, 0] - w / 2) * squeeze + w / 2
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(rgba, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))


def _exposure(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0.45, 1.15) * rng.uniform(0.9, 1.1, 3)


def _degrade(patch: np.ndarray, width_px: float, rng: np.random.Generator) -> np.ndarray:
    out = patch.astype(np.float32)
    if rng.random() < 0.6:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.2, 0.6 + width_px / 100))
    if rng.random() < 0.25:
        length = int(rng.integers(2, 3 + int(width_px / 20)))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2] = 1 / length
        rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), rng.uniform(-30, 30), 1)
        out = cv2.filter2D(out, -1, cv2.warpAffine(kernel, rot, (length, length)))
    gamma = rng.uniform(0.7, 1.4)
    out = 255 * (np.clip(out, 0, 255) / 255) ** gamma
    out += rng.normal(0, rng.uniform(0, 8), out.shape)
    quality = int(rng.integers(25, 95))
    _, data = cv2.imencode(".jpg", np.clip(out, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def _jitter(box: Box, rng: np.random.Generator, amount: float = 0.1) -> Box:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    cx, cy = (x1 + x2) / 2 + rng.uniform(-amount, amount) * w, (y1 + y2) / 2 + rng.uniform(-amount, amount) * h
    w, h = w * rng.uniform(1 - amount, 1 + amount), h * rng.uniform(1 - amount, 1 + amount)
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def sample_width(rng: np.random.Generator, low: float = 11.0, high: float = 84.0) -> float:
    """A sign width in pixels, log-uniform so that small signs (the hard ones) get their share."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def make_batch(n: int, rng: np.random.Generator, codes: tuple[str, ...] = KINDS,
               input_hw: tuple[int, int] = reader.INPUT_HW, held_out: tuple[str, ...] = HELD_OUT,
               weights: Sequence[float] | None = None) -> tuple[np.ndarray, list[str], list[str]]:
    """``n`` random training crops: (n, h, w) uint8, their texts (empty for a ``misread`` crop) and sign codes.

    ``weights``: how often to draw each of ``codes`` (relative; None: all alike)."""
    crops, texts, kinds = [], [], []
    p = None if weights is None else np.asarray(weights, np.float64) / np.sum(weights)
    for _ in range(n):
        code = codes[int(rng.integers(len(codes)) if p is None else rng.choice(len(codes), p=p))]
        text = sample_text(code, rng, held_out)
        one_line, misread = draw_layout(code, rng)
        crops.append(sample(code, text, sample_width(rng), rng, input_hw, one_line, misread))
        texts.append("" if misread else text)
        kinds.append(code)
    return np.stack(crops), texts, kinds
