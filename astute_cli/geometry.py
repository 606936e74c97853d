"""Pinhole-camera geometry shared by the distance estimate and the drive-clip renderer."""

from __future__ import annotations

import math

DEFAULT_HFOV_DEG = 70.0
"""Horizontal field of view assumed for a dashcam when the user gives none (a typical 16:9 dashcam)."""

SIGN_SIZE_M = 0.7
"""Width of a standard sign of GOST R 52290 typesize II (round 700 mm, triangle side 900 mm ≈ 0.78 m box)."""


def focal_px(width_px: int, hfov_deg: float = DEFAULT_HFOV_DEG) -> float:
    """Focal length in pixels of a camera whose image is ``width_px`` wide with this horizontal FOV."""
    return (width_px / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)


def distance_m(box_width_px: float, frame_width_px: int, sign_size_m: float = SIGN_SIZE_M,
               hfov_deg: float = DEFAULT_HFOV_DEG) -> float:
    """Distance to a sign from its box width: bigger boxes (or a wider FOV) give shorter distances."""
    return focal_px(frame_width_px, hfov_deg) * sign_size_m / max(float(box_width_px), 1.0)


def project(point_xyz_m: tuple[float, float, float], width_px: int, height_px: int,
            hfov_deg: float = DEFAULT_HFOV_DEG) -> tuple[float, float]:
    """Image position of a camera-frame point (x right, y down, z forward, metres)."""
    x, y, z = point_xyz_m
    f = focal_px(width_px, hfov_deg)
    return (width_px / 2.0 + f * x / z, height_px / 2.0 + f * y / z)
