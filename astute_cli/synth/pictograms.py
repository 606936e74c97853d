"""Sign pictures: the GOST pictograms, with any value printed in the GOST road-sign font.

``render_sign("3_24_n60", 40)`` gives a 40-px-wide RGBA speed-limit sign reading 60; labels follow RTSD's
naming (``_n<int>``, ``_r<float>``) so a value can be learned as a class.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import ImageFont

from astute_cli.paths import shared_data
from astute_cli.signs import make_label, parse_label, printed_text

MASTER_PX = 192
"""Pictograms are rendered once at this width and resized down (rendering big then shrinking looks real)."""

VALUES: dict[str, tuple[float, ...]] = {
    "3_24": (5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130),
    "3_25": (20, 30, 40, 50, 60, 70, 80, 90, 100),
    "4_6": (30, 40, 50, 60, 70, 80, 90, 100),
    "6_2": (20, 30, 40, 50, 60, 70, 80, 90),
    "3_13": (2.0, 2.2, 2.5, 2.7, 3.0, 3.2, 3.3, 3.5, 3.7, 3.8, 3.9, 4.0, 4.1, 4.2, 4.3, 4.5, 4.7, 5.0, 5.2),
    "3_14": (2.0, 2.2, 2.3, 2.5, 2.7, 3.0, 3.2, 3.5),
    "3_15": (8.0, 10.0, 12.0, 15.0, 20.0),
    "3_16": (20.0, 30.0, 50.0, 70.0, 100.0),
    "3_11": (3, 5, 7, 8, 9, 10, 12, 13, 15, 17, 20, 23, 25, 30, 35, 40),
    "3_12": (3, 5, 6, 8, 10, 12),
}


def pictogram_dir() -> Path:
    return shared_data() / "signs"


@lru_cache(maxsize=1)
def pictogram_codes() -> tuple[str, ...]:
    """Codes that have a pictogram (``signs/INDEX.txt``)."""
    index = pictogram_dir() / "INDEX.txt"
    if not index.exists():
        raise ValueError(f"Pictograms not found: {str(index)!r} (is ../shared/data beside the project?)")
    return tuple(line.strip() for line in index.read_text().splitlines() if line.strip())


def available_labels() -> list[str]:
    """Every label we can render: pictogram codes, plus value variants of the value signs."""
    labels = []
    for code in pictogram_codes():
        labels += [make_label(code, v) for v in VALUES[code]] if code in VALUES else [code]
    return labels


@lru_cache(maxsize=1)
def rtsd_labels() -> tuple[str, ...]:
    """The 198 class names of RTSD's full-gt.csv, values included."""
    path = shared_data() / "rtsd-meta" / "rtsd_fullgt_classes_with_values.txt"
    return tuple(line.strip() for line in path.read_text().splitlines() if line.strip())


def renderable(label: str) -> bool:
    code, value = parse_label(label)
    return code in pictogram_codes() and (value is None or code in _face_codes())


@lru_cache(maxsize=1)
def _face_codes() -> frozenset[str]:
    """Codes whose value is printed in GOST's own layout by ``synth.values.face``: every valued sign drawn with a
    value (the reader's kinds, plates with distances included)."""
    from astute_cli.synth import values  # it draws its faces on this module's pictograms

    return frozenset(values.LAYOUTS)


def render_sign(label: str, size_px: int) -> np.ndarray:
    """An RGBA uint8 picture of the sign, ``size_px`` wide, alpha = the sign's shape.

    Args:
        label: RTSD name, e.g. ``5_19_1`` or ``3_24_n60``.
        size_px: width of the result; the height follows the pictogram's aspect.
    """
    master = _master(label)
    height = max(1, round(size_px * master.shape[0] / master.shape[1]))
    return cv2.resize(master, (max(1, size_px), height), interpolation=cv2.INTER_AREA)


@lru_cache(maxsize=1024)
def _master(label: str) -> np.ndarray:
    code, value = parse_label(label)
    if code not in pictogram_codes():
        raise ValueError(f"No pictogram for sign {code!r}")
    if value is not None and code in _face_codes():
        from astute_cli.synth import values

        image = values.face(code, printed_text(code, value))
    elif value is not None:
        raise ValueError(f"Sign {code!r} carries no value, got {label!r}")
    else:
        image = _load_pictogram(code)
    image.setflags(write=False)
    return image


def _load_pictogram(code: str) -> np.ndarray:
    svg = pictogram_dir() / "svg" / f"{code}.svg"
    try:
        import cairosvg

        png = cairosvg.svg2png(url=str(svg), output_width=MASTER_PX)
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    except Exception:  # cairo missing or an SVG it cannot draw: the pre-rendered PNG will do
        image = cv2.imread(str(pictogram_dir() / "png" / f"{code}.png"), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3:
        raise ValueError(f"Cannot read the pictogram of {code!r}")
    if image.shape[2] == 3:  # an opaque rectangular sign
        image = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
    return _crop_to_alpha(cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA))


def _crop_to_alpha(rgba: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(rgba[:, :, 3] > 8)
    return np.ascontiguousarray(rgba[ys.min():ys.max() + 1, xs.min():xs.max() + 1])


def _face_colour(rgba: np.ndarray) -> tuple[int, int, int]:
    """The dominant colour of the sign's centre (white for prohibitory signs, blue for 4.6 and 6.2)."""
    h, w = rgba.shape[:2]
    centre = rgba[round(0.25 * h):round(0.75 * h), round(0.15 * w):round(0.85 * w), :3].reshape(-1, 3)
    quantised = (centre // 32).astype(np.int32)
    keys = quantised[:, 0] * 64 + quantised[:, 1] * 8 + quantised[:, 2]
    mode = np.bincount(keys).argmax()
    return tuple(int(c) for c in np.median(centre[keys == mode], axis=0))  # type: ignore[return-value]


@lru_cache(maxsize=256)
def _fit_font(text: str, max_w: int, max_h: int) -> ImageFont.FreeTypeFont:
    path = str(shared_data() / "fonts" / "russianroadsign-medium.otf")
    size = max_h
    while size > 6:
        font = ImageFont.truetype(path, size)
        left, top, right, bottom = font.getbbox(text)
        if right - left <= max_w and bottom - top <= max_h:
            return font
        size -= 2
    return ImageFont.truetype(path, 6)
