"""Camera models for synthetic frames: white balance and cast, gamma and tone mapping, sensor noise at high gain,
motion and rolling-shutter blur, vignetting and wide-angle (barrel) distortion.

Geometric effects (distortion, rolling shutter) move the sign boxes with the pixels: :func:`warp_boxes` maps each
box's outline through the same warp and takes its bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Camera:
    """One camera's look; :func:`sample_camera` draws one.

    Attributes:
        gains_bgr: white-balance gains per channel (1: neutral).
        gamma: tone curve exponent on [0, 1] (above 1 darker mid-tones).
        contrast: S-curve amount (0: linear).
        noise: sensor noise sigma at full gain, in 8-bit levels (dark frames get more: the gain is higher).
        motion_px: motion blur length along ``motion_angle`` (degrees), in px.
        shutter_px: rolling-shutter skew: the bottom row is shifted this many px against the top.
        vignette: brightness lost in the corners (0–1).
        barrel: wide-angle distortion k (0: none; 0.1–0.3: a dashcam's wide lens).
        jpeg: JPEG quality of the saved frame.
    """

    gains_bgr: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gamma: float = 1.0
    contrast: float = 0.0
    noise: float = 2.0
    motion_px: float = 0.0
    motion_angle: float = 0.0
    shutter_px: float = 0.0
    vignette: float = 0.0
    barrel: float = 0.0
    jpeg: int = 90


def sample_camera(rng: np.random.Generator, frame_w: int = 1280) -> Camera:
    """A random dashcam: each effect present with some probability, sizes in px scaled to ``frame_w``."""
    scale = frame_w / 1280
    cast = rng.normal(0, 0.06, 3) if rng.random() < 0.6 else np.zeros(3)
    return Camera(
        gains_bgr=tuple(float(g) for g in np.clip(1 + cast, 0.8, 1.25)),
        gamma=float(rng.uniform(0.8, 1.25)) if rng.random() < 0.5 else 1.0,
        contrast=float(rng.uniform(0, 0.6)) if rng.random() < 0.4 else 0.0,
        noise=float(rng.uniform(1, 6)),
        motion_px=float(rng.uniform(2, 7) * scale) if rng.random() < 0.25 else 0.0,
        motion_angle=float(rng.normal(0, 10)),
        shutter_px=float(rng.uniform(-12, 12) * scale) if rng.random() < 0.2 else 0.0,
        vignette=float(rng.uniform(0.1, 0.45)) if rng.random() < 0.4 else 0.0,
        barrel=float(rng.uniform(0.05, 0.3)) if rng.random() < 0.3 else 0.0,
        jpeg=int(rng.integers(40, 96)))


def white_balance(frame: np.ndarray, gains_bgr) -> np.ndarray:
    return frame * np.float32(gains_bgr)


def tone(frame: np.ndarray, gamma: float, contrast: float) -> np.ndarray:
    """Gamma, then an S-curve (smoothstep blend) of strength ``contrast``."""
    x = np.clip(frame / 255, 0, 1) ** gamma
    s = x * x * (3 - 2 * x)
    return 255 * (x * (1 - contrast) + s * contrast)


def sensor_noise(frame: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Shot noise that grows with the gain a dark frame needs, plus a little chroma noise."""
    gain = float(np.clip(100 / max(float(frame.mean()), 10), 1, 2.5))
    luma = rng.normal(0, sigma * gain, frame.shape[:2]).astype(np.float32)[:, :, None]
    chroma = rng.normal(0, sigma * gain * 0.3, frame.shape).astype(np.float32)
    return frame + luma + chroma


def motion_blur(frame: np.ndarray, length_px: float, angle_deg: float) -> np.ndarray:
    k = max(1, round(length_px))
    if k < 2:
        return frame
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0 / k
    rotation = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), angle_deg, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (k, k))
    return cv2.filter2D(frame, -1, kernel / max(float(kernel.sum()), 1e-6))


def vignette(frame: np.ndarray, amount: float) -> np.ndarray:
    h, w = frame.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    return frame * (1 - amount * np.clip(r2 / 2, 0, 1))[:, :, None]


def _barrel_source(xd: np.ndarray, yd: np.ndarray, wh: tuple[int, int], k: float) -> tuple[np.ndarray, np.ndarray]:
    """Where output pixel (xd, yd) of a barrel-distorted frame samples the undistorted one. Radii are in half
    diagonals; dividing by 1 + k keeps the corners on the corners, so the frame stays full."""
    w, h = wh
    cx, cy, norm = w / 2, h / 2, np.hypot(w / 2, h / 2)
    factor = (1 + k * (((xd - cx) ** 2 + (yd - cy) ** 2) / norm**2)) / (1 + k)
    return cx + (xd - cx) * factor, cy + (yd - cy) * factor


def _barrel_forward(xs: np.ndarray, ys: np.ndarray, wh: tuple[int, int], k: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`_barrel_source`: where an undistorted point lands (fixed-point iteration)."""
    w, h = wh
    cx, cy, norm = w / 2, h / 2, np.hypot(w / 2, h / 2)
    rs = np.hypot(xs - cx, ys - cy) / norm
    rd = rs.copy()
    for _ in range(30):
        rd = rs * (1 + k) / (1 + k * rd**2)
    ratio = np.where(rs > 1e-9, rd / np.maximum(rs, 1e-9), 1 + k)
    return cx + (xs - cx) * ratio, cy + (ys - cy) * ratio


def _shutter_shift(y: np.ndarray, h: int, shutter_px: float) -> np.ndarray:
    """Rolling shutter: each row is read later than the one above, so a sideways motion shifts row y by this."""
    return shutter_px * (y / max(h - 1, 1) - 0.5)


def warp(frame: np.ndarray, barrel: float, shutter_px: float) -> np.ndarray:
    """Barrel distortion then rolling-shutter skew of a frame (either 0: skipped)."""
    h, w = frame.shape[:2]
    if not barrel and not shutter_px:
        return frame
    yd, xd = np.mgrid[0:h, 0:w].astype(np.float32)
    xd = xd - _shutter_shift(yd, h, shutter_px)  # output x came from x - shift
    xs, ys = _barrel_source(xd, yd, (w, h), barrel) if barrel else (xd, yd)
    return cv2.remap(frame, xs.astype(np.float32), ys.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT)


def warp_boxes(xyxy: np.ndarray, wh: tuple[int, int], barrel: float, shutter_px: float, samples: int = 16
               ) -> np.ndarray:
    """Boxes (N, 4) xyxy through the same warp as :func:`warp`: the bounds of each box's mapped outline,
    clipped to the frame."""
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    if not len(xyxy) or (not barrel and not shutter_px):
        return xyxy.copy()
    w, h = wh
    t = np.linspace(0, 1, samples, dtype=np.float64)
    out = []
    for x1, y1, x2, y2 in xyxy.astype(np.float64):
        xs = np.concatenate([x1 + (x2 - x1) * t, np.full(samples, x2), x1 + (x2 - x1) * t, np.full(samples, x1)])
        ys = np.concatenate([np.full(samples, y1), y1 + (y2 - y1) * t, np.full(samples, y2), y1 + (y2 - y1) * t])
        if barrel:
            xs, ys = _barrel_forward(xs, ys, wh, barrel)
        xs = xs + _shutter_shift(ys, h, shutter_px)
        out.append([xs.min(), ys.min(), xs.max(), ys.max()])
    return np.clip(np.array(out, np.float32), 0, [w, h, w, h]).astype(np.float32)


def shoot(frame: np.ndarray, boxes: np.ndarray, camera: Camera, rng: np.random.Generator
          ) -> tuple[np.ndarray, np.ndarray]:
    """A float BGR scene (0–255) as ``camera`` records it: the uint8 frame after JPEG, and the boxes moved with it.

    Order: lens (distortion, vignetting), exposure (rolling shutter, motion blur), sensor (white balance, noise),
    processing (tone curve, JPEG).
    """
    h, w = frame.shape[:2]
    out = warp(np.asarray(frame, np.float32), camera.barrel, camera.shutter_px)
    boxes = warp_boxes(boxes, (w, h), camera.barrel, camera.shutter_px)
    if camera.vignette:
        out = vignette(out, camera.vignette)
    if camera.motion_px >= 2:
        out = motion_blur(out, camera.motion_px, camera.motion_angle)
    out = sensor_noise(white_balance(out, camera.gains_bgr), camera.noise, rng)
    out = tone(out, camera.gamma, camera.contrast)
    image = np.clip(out, 0, 255).astype(np.uint8)
    _, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(camera.jpeg)])
    return cv2.imdecode(data, cv2.IMREAD_COLOR), boxes
