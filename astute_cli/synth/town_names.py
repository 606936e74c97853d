"""Town-name signs (5.23.1, 5.24.1, 5.25, 5.26) with a random Cyrillic name in the name field.

The pictograms carry one town's name (ЛИПЕЦК, ОРЛОВО); a classifier trained on them alone would learn that town,
not the sign. :func:`town_sign` prints an invented name in the GOST road-sign font instead, keeping the border and,
on the end-of-town signs, the red bar across the name.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from astute_cli.synth.pictograms import _face_colour, _fit_font, _master

NAME_SIGNS = frozenset({"5_23_1", "5_24_1", "5_25", "5_26"})
"""Signs whose face is a settlement's name (5.23.2 and 5.24.2 show a skyline instead)."""

_CONSONANTS = "бвгдзклмнпрстхчшщж"
_VOWELS = "аеиоуыяю"
_ENDINGS = ("ово", "ево", "ино", "ск", "цк", "ка", "ое", "ий", "ая", "град", "поль", "ец", "ки", "ь", "")


def random_name(rng: np.random.Generator) -> str:
    """An invented Russian-looking place name: 1–4 syllables and an ending, sometimes two words or a hyphen."""
    word = _syllables(rng, int(rng.integers(1, 5))) + str(rng.choice(_ENDINGS))
    if rng.random() < 0.12:
        word += str(rng.choice([" ", "-"])) + _syllables(rng, int(rng.integers(2, 4)))
    return word.upper() if rng.random() < 0.6 else word.capitalize()


def _syllables(rng: np.random.Generator, n: int) -> str:
    return "".join(str(rng.choice(list(_CONSONANTS))) + str(rng.choice(list(_VOWELS))) for _ in range(n))


def town_sign(label: str, rng: np.random.Generator, name: str | None = None) -> np.ndarray:
    """The RGBA master picture of ``label`` (a code of :data:`NAME_SIGNS`) with ``name`` or a random name on it."""
    if label not in NAME_SIGNS:
        raise ValueError(f"Sign {label!r} carries no town name")
    name = name or random_name(rng)
    base = _master(label)
    out = base.copy()
    h, w = out.shape[:2]
    rgb = out[:, :, :3].astype(np.int32)
    red = (rgb[:, :, 0] > 150) & (rgb[:, :, 1] < 110) & (rgb[:, :, 2] < 110)  # the end-of-town bar
    face = _face_colour(out)
    ink = (0, 0, 0) if sum(face) > 3 * 128 else (255, 255, 255)
    x1, x2, y1, y2 = round(0.05 * w), round(0.95 * w), round(0.16 * h), round(0.84 * h)
    out[y1:y2, x1:x2, :3] = face
    picture = Image.fromarray(out)
    draw = ImageDraw.Draw(picture)
    font = _fit_font(name, x2 - x1, round((y2 - y1) * rng.uniform(0.7, 0.9)))
    left, top, right, bottom = draw.textbbox((0, 0), name, font=font)
    draw.text(((w - (right - left)) / 2 - left, (h - (bottom - top)) / 2 - top), name, font=font, fill=(*ink, 255))
    out = np.asarray(picture).copy()
    out[red] = base[red]
    return out
