"""Light, weather and camera conditions for synthetic frames, each a seeded switch.

Every condition is a function ``apply(frame, signs, rng, strength) -> frame`` over a float32 BGR frame (0–255)
and ``signs``, a float32 (H, W) map of the sign faces (1 on a face, 0 elsewhere): sign faces are retroreflective
and are lit differently from the scene at night, carry snow on their edges in winter and go dark against the sun.
``strength`` in [0, 1] scales the effect (0: barely there, 1: as bad as a dashcam gets).

Camera effects (``camera``) also move the sign boxes: barrel distortion and rolling shutter map every box through
the same warp as the pixels.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

CONDITIONS = ("clear", "dusk", "night", "winter", "rain", "fog", "glare")
"""Condition names; ``clear`` is daylight as the footage was shot."""


def draw_strength(rng: np.random.Generator) -> float:
    """A condition's strength when none is given: 0.3–1, never so faint that the condition is not there."""
    return float(rng.uniform(0.3, 1.0))


def _horizon(h: int) -> int:
    return round(h * 0.5)


def _blob(frame: np.ndarray, centre: tuple[float, float], radius: float, colour, gain: float) -> None:
    """Add a soft light (a lamp, a headlight, the sun) with its bloom: a bright core and a wide halo."""
    h, w = frame.shape[:2]
    r = max(radius, 1.0)
    reach = int(r * 8)
    x0, x1 = max(0, int(centre[0]) - reach), min(w, int(centre[0]) + reach + 1)
    y0, y1 = max(0, int(centre[1]) - reach), min(h, int(centre[1]) + reach + 1)
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d2 = ((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (r * r)
    light = np.exp(-d2) * 255 + np.exp(-d2 / 12) * 70 * gain
    frame[y0:y1, x0:x1] += light[:, :, None] * np.float32(colour) / 255 * gain


def _lights(frame: np.ndarray, rng: np.random.Generator, strength: float, street: bool = True) -> None:
    """Street lights above the road and oncoming headlights near the horizon, with bloom and glare streaks."""
    h, w = frame.shape[:2]
    scale = w / 1280
    if street:
        for _ in range(int(rng.integers(2, 7))):
            x, y = rng.uniform(0, w), rng.uniform(0.05, 0.4) * h
            _blob(frame, (x, y), rng.uniform(2, 5) * scale, (120, 200, 255), rng.uniform(0.6, 1.2))
    for _ in range(int(rng.integers(0, 3))):  # oncoming cars: two headlights each
        x, y = rng.uniform(0.3, 0.7) * w, _horizon(h) + rng.uniform(0, 0.12) * h
        gap, r = rng.uniform(10, 40) * scale, rng.uniform(2, 6) * scale
        for side in (-1, 1):
            _blob(frame, (x + side * gap / 2, y), r, (235, 245, 255), 0.8 + strength)
        if rng.random() < 0.5 * strength:  # a horizontal glare streak across the lens
            band = np.exp(-((np.arange(h, dtype=np.float32) - y) / (r * 1.5)) ** 2)
            across = np.exp(-np.abs(np.arange(w, dtype=np.float32) - x) / (w * 0.15))
            frame += (band[:, None] * across[None, :] * 90 * strength)[:, :, None]


def dusk(frame: np.ndarray, signs: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Evening light: a darker, bluer scene, the sky still bright near the horizon, the first lamps lit; signs
    a little brighter than the scene around them (headlights reach them)."""
    h = frame.shape[0]
    dark = 0.75 - 0.4 * strength
    gamma = 1.2 + 0.6 * strength
    scene = 255 * (frame / 255) ** gamma * dark
    scene *= np.float32([1.15, 0.95, 0.85 - 0.1 * strength])  # blue hour cast (BGR)
    sky = np.clip(1 - np.arange(h, dtype=np.float32) / (0.5 * h), 0, 1)[:, None, None]
    scene += sky * np.float32([40, 25, 30]) * (1 - strength * 0.5)
    lit = 255 * (frame / 255) ** (gamma * 0.8) * min(1.0, dark + 0.25)
    out = scene * (1 - signs[:, :, None]) + lit * signs[:, :, None]
    _lights(out, rng, strength)
    return out


def night(frame: np.ndarray, signs: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Night: a dark scene lit in front by the headlights, street lights and oncoming cars with bloom; sign faces
    retroreflective, so bright and a little washed out, with a faint glow."""
    h, w = frame.shape[:2]
    dark = 0.35 - 0.25 * strength
    scene = 255 * (frame / 255) ** (2.0 + strength) * dark * np.float32([1.1, 0.95, 0.9])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    beam = np.exp(-(((xx - w / 2) / (0.45 * w)) ** 2) - (((yy - 0.85 * h) / (0.3 * h)) ** 2))
    scene += frame * beam[:, :, None] * 0.35
    face = np.clip(frame * rng.uniform(1.0, 1.4) + rng.uniform(10, 50), 0, 255)
    face = face * 0.85 + face.mean(axis=2, keepdims=True) * 0.15  # the reflection washes colour a little
    glow = cv2.GaussianBlur(signs, (0, 0), max(1.0, w / 1280 * 3)) * 60 * strength
    out = scene * (1 - signs[:, :, None]) + face * signs[:, :, None] + glow[:, :, None]
    _lights(out, rng, strength)
    return out


def winter(frame: np.ndarray, signs: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Winter: snow on the ground and on the top edges of signs, a blue cast, a low sun, falling flakes."""
    h, w = frame.shape[:2]
    out = frame * np.float32([1.12, 1.0, 0.88])
    snow_line = _horizon(h) + rng.uniform(0.05, 0.2) * h
    ground = np.clip((np.arange(h, dtype=np.float32) - snow_line) / (0.1 * h), 0, 1)[:, None]
    coarse = rng.uniform(0.3, 1.0, (max(2, h // 24), max(2, w // 24))).astype(np.float32)
    texture = cv2.GaussianBlur(cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC), (0, 0), w / 300)
    texture = np.clip(texture + rng.normal(0, 0.05, (h, w)).astype(np.float32), 0, 1)
    cover = np.clip(ground * texture * (0.5 + 0.5 * strength), 0, 1)[:, :, None] * (1 - signs[:, :, None])
    out = out * (1 - cover) + np.float32([245, 240, 232]) * cover
    out = _snow_on_signs(out, signs, rng, strength)
    if rng.random() < 0.6:  # low sun near the horizon, off to one side
        x = rng.choice([rng.uniform(0, 0.25), rng.uniform(0.75, 1.0)]) * w
        _blob(out, (x, _horizon(h) - rng.uniform(0, 0.15) * h), w * 0.01, (200, 235, 255), 1.0 + strength)
    flakes = np.zeros((h, w), np.float32)
    n = int(strength * w * h / 2000)
    xs, ys = rng.integers(0, w, n), rng.integers(0, h, n)
    flakes[ys, xs] = rng.uniform(0.4, 1.0, n)
    flakes = cv2.dilate(flakes, np.ones((2, 2), np.uint8)) if w > 2000 else flakes
    out = out * (1 - flakes[:, :, None]) + 245 * flakes[:, :, None]
    return out


def _snow_on_signs(out: np.ndarray, signs: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Snow caps the top of each sign face and sticks to its edges."""
    binary = (signs > 0.5).astype(np.uint8)
    if not binary.any():
        return out
    shifted = np.zeros_like(binary)
    drop = max(1, round(out.shape[1] / 1280 * 3 * (0.5 + strength)))
    shifted[drop:] = binary[:-drop]
    cap = (binary & (1 - shifted)).astype(np.float32)  # the top rim of each face
    edge = binary - cv2.erode(binary, np.ones((3, 3), np.uint8))
    noise = (rng.random(binary.shape) < 0.5 * strength).astype(np.float32)
    snow = np.clip(cap + edge * noise, 0, 1)[:, :, None] * rng.uniform(0.6, 1.0)
    return out * (1 - snow) + 240 * snow


def rain(frame: np.ndarray, signs: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Rain and wet glass: grey, lower-contrast light, drops on the windscreen (each a blurred lens), a smeared
    patch and the streak a wiper leaves."""
    h, w = frame.shape[:2]
    out = frame * (0.8 - 0.2 * strength) + 30 * strength
    blurred = cv2.GaussianBlur(out, (0, 0), max(2.0, w / 1280 * 6))
    scale = w / 1280
    for _ in range(int(30 + 150 * strength)):  # drops: a blurred, slightly shifted view with a dark rim
        r = int(rng.uniform(2, 9) * scale) + 1
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        x0, x1, y0, y1 = max(0, x - r), min(w, x + r + 1), max(0, y - r), min(h, y + r + 1)
        yy, xx = np.mgrid[y0:y1, x0:x1]
        inside = ((xx - x) ** 2 + (yy - y) ** 2) <= r * r
        sx, sy = np.clip(xx + r // 2, 0, w - 1), np.clip(yy + r, 0, h - 1)
        drop = blurred[sy, sx] * 1.1 + 10
        region = out[y0:y1, x0:x1]
        region[inside] = drop[inside]
        rim = inside & (((xx - x) ** 2 + (yy - y) ** 2) > (r - 1.5 * scale) ** 2)
        region[rim] *= 0.7
    if rng.random() < 0.5 + 0.5 * strength:  # a wiper's arc: a band of smeared, brighter glass
        centre = (w * rng.uniform(0.3, 0.7), h * 1.3)
        radius = h * rng.uniform(0.8, 1.2)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        d = np.sqrt((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2)
        band = np.exp(-(((d - radius) / (h * 0.04 * (1 + strength))) ** 2))[:, :, None] * (0.4 + 0.4 * strength)
        out = out * (1 - band) + (blurred + 20) * band
    if rng.random() < strength:  # a smear across part of the glass
        mask = np.zeros((h, w), np.float32)
        cv2.ellipse(mask, (int(rng.integers(0, w)), int(rng.integers(0, h))),
                    (int(w * rng.uniform(0.1, 0.3)), int(h * rng.uniform(0.05, 0.2))), float(rng.uniform(0, 180)),
                    0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), w / 100)[:, :, None] * 0.8
        out = out * (1 - mask) + blurred * mask
    return out


def fog(frame: np.ndarray, signs: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Fog and haze: the scene, sign faces included, fades into grey-white airlight with distance (the rows near
    the horizon and above are far, the frame's bottom near)."""
    h = frame.shape[0]
    rows = np.arange(h, dtype=np.float32)
    distance = np.where(rows < _horizon(h) * 1.1, 1.0, np.clip(1 - (rows - _horizon(h) * 1.1) / (0.6 * h), 0.1, 1))
    density = 0.4 + 1.6 * strength
    transmission = np.exp(-density * distance)[:, None, None] * rng.uniform(0.9, 1.1)
    air = np.float32(rng.uniform(185, 230)) * np.float32([1.0, 1.0, rng.uniform(0.95, 1.02)])
    return frame * transmission + air * (1 - transmission)


def glare(frame: np.ndarray, signs: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Backlight and lens flare: the sun low in the frame, veiling glare over everything, sign faces in their
    own shadow (dark, low contrast) and a row of flare ghosts through the frame's centre."""
    h, w = frame.shape[:2]
    sun = (rng.uniform(0.15, 0.85) * w, rng.uniform(0.05, 0.45) * h)
    shade = 1 - (0.3 + 0.4 * strength) * signs[:, :, None]
    out = frame * shade
    out = out * (1 - 0.3 * strength) + 60 * strength  # veiling glare lifts the blacks
    light = np.zeros_like(out)
    _blob(light, sun, w * rng.uniform(0.015, 0.03), (230, 250, 255), 1.5 + 2 * strength)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    halo = np.exp(-np.sqrt((xx - sun[0]) ** 2 + (yy - sun[1]) ** 2) / (0.25 * w))
    light += halo[:, :, None] * 120 * strength
    out += light * (1 - 0.8 * signs[:, :, None])  # a sign in front of the sun blocks most of it
    centre = np.float32([w / 2, h / 2])
    for k in range(int(rng.integers(3, 7))):  # ghosts along the line from the sun through the centre
        t = rng.uniform(0.3, 1.8)
        gx, gy = np.float32(sun) + (centre - np.float32(sun)) * t
        ghost = np.zeros((h, w), np.float32)
        cv2.circle(ghost, (int(gx), int(gy)), int(w * rng.uniform(0.01, 0.05)), 1.0, -1, cv2.LINE_AA)
        ghost = cv2.GaussianBlur(ghost, (0, 0), 2 + k)
        tint = rng.uniform(0.3, 1.0, 3).astype(np.float32) * 60 * strength
        out += ghost[:, :, None] * tint
    return out


APPLY: dict[str, Callable[[np.ndarray, np.ndarray, np.random.Generator, float], np.ndarray]] = {
    "clear": lambda frame, signs, rng, strength: frame,
    "dusk": dusk, "night": night, "winter": winter, "rain": rain, "fog": fog, "glare": glare}


def parse_names(value: str | list[str] | tuple[str, ...] | None, known, what: str) -> tuple[str, ...]:
    """Names from ``"a,b"`` or a list, each one of ``known``; ``None``/``""`` give none.

    Raises:
        ValueError: an unknown name (``what`` names the kind, e.g. "condition").
    """
    if value is None:
        return ()
    parts = value.split(",") if isinstance(value, str) else list(value)
    names = tuple(p.strip().lower() for p in parts if p.strip())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"Unknown {what} {unknown[0]!r} (one of: {', '.join(known)})")
    return names


def parse_conditions(value: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """Condition names from ``"dusk,night"`` or a list (see :func:`parse_names`)."""
    return parse_names(value, CONDITIONS, "condition")


def apply(name: str, frame: np.ndarray, signs: np.ndarray, rng: np.random.Generator, strength: float
          ) -> np.ndarray:
    """Condition ``name`` over a uint8 or float BGR frame; returns a float32 frame (0–255, not yet clipped away
    from the lights' over-exposure: clip when you quantise)."""
    if name not in APPLY:
        raise ValueError(f"Unknown condition {name!r} (one of: {', '.join(CONDITIONS)})")
    out = APPLY[name](frame.astype(np.float32), signs.astype(np.float32), rng, float(np.clip(strength, 0, 1)))
    return np.clip(out, 0, 255).astype(np.float32)
