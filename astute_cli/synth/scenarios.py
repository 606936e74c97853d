"""What the drive clips drive past: random and hand-placed scenarios of signs beside the road, the bundled demo
and the clip sets of ``astute make-clips``, rendered by :func:`astute_cli.synth.drive.render_drive`. Example::

    signs = random_scenario(seed=1, duration_s=10, speed_kmh=60)
    make_clips("clips", random_specs(5))   # clips/drive_01000_....mp4 + .labels.json, ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astute_cli.geometry import DEFAULT_HFOV_DEG
from astute_cli.labels.clips import ClipLabels
from astute_cli.synth.drive import BACKGROUNDS, PlacedSign, _pictogram_cached, render_drive, sign_size_m

SCENARIO_SIGNS = ("3_24_n40", "3_24_n60", "3_24_n90", "3_24_n20", "3_24_n70", "5_19_1", "2_1", "1_23",
                  "2_4", "3_27", "4_1_1", "5_16", "5_20", "3_13_r3.5", "3_13_r4.5", "3_11_n8", "3_1",
                  "1_17", "2_5", "3_20", "1_25", "3_2", "4_2_1", "5_15_1")
PLATES = ("8_2_1", "8_13", "8_5_4", "8_1_1")


def random_scenario(seed: int, duration_s: float = 10.0, speed_kmh: float = 60.0, n_signs: int | None = None,
                    labels: tuple[str, ...] = SCENARIO_SIGNS, hfov_deg: float = DEFAULT_HFOV_DEG,
                    p_left: float = 0.2, p_pair: float = 0.2, p_plate: float = 0.15) -> list[PlacedSign]:
    """Random signs along the road, all passed before the clip ends.

    Args:
        seed: the scenario's random seed.
        duration_s, speed_kmh: the drive; together they fix how much road there is.
        n_signs: number of poles; default about one per 2 s of driving (at least 1).
        labels: the labels to choose from.
        hfov_deg: the camera's FOV (a sign is passed when it leaves the frame, before the car reaches it).
        p_left, p_pair, p_plate: chance of a pole on the left, of a second sign on a pole, of a plate.
    """
    rng = np.random.default_rng(seed)
    v = speed_kmh / 3.6
    road_m = v * duration_s
    leave_m = 6.0 / math.tan(math.radians(hfov_deg) / 2)  # a sign 6 m aside leaves the frame this far ahead
    first, last = 30.0 + 0.5 * v, road_m + 3.0
    n = n_signs or max(1, int(duration_s / 2))
    if last - first < 5:
        first = max(leave_m + 2, last - 5)
    gap = max(12.0, (last - first) / n)
    z_positions = first + gap * np.arange(n) + rng.uniform(0, max(gap - 12.0, 0.1), n)
    signs: list[PlacedSign] = []
    for z in z_positions[z_positions < last + leave_m]:
        signs += _pole(rng, float(z), labels, p_left, p_pair, p_plate)
    return signs


def _pole(rng: np.random.Generator, z: float, labels: tuple[str, ...], p_left: float, p_pair: float,
          p_plate: float) -> list[PlacedSign]:
    """One pole: a sign, maybe a second sign above it, maybe a plate under the lower one."""
    side = -1.0 if rng.random() < p_left else 1.0
    x = side * float(rng.uniform(3.0, 6.0))
    top = float(rng.uniform(2.0, 2.5))
    chosen = [str(rng.choice(labels))]
    if rng.random() < p_pair:
        chosen.append(str(rng.choice([label for label in labels if label != chosen[0]])))
    if rng.random() < p_plate:
        chosen.append(str(rng.choice(PLATES)))
    return pole_signs(chosen, x, z, top)


def pole_signs(labels: list[str] | tuple[str, ...], x_m: float, z_m: float, top_m: float = 2.3
               ) -> list[PlacedSign]:
    """Signs stacked on one pole, top first, 5 cm apart (plates last, right under their sign); the top edge of
    the first is ``top_m + 0.4`` m above the road."""
    out, y = [], top_m + 0.4
    for i, label in enumerate(labels):
        size = sign_size_m(label)
        picture = _pictogram_cached(label, 256)
        h = size * picture.shape[0] / picture.shape[1]
        y -= h / 2
        out.append(PlacedSign(label, x_m, z_m, round(y, 3), size, pole=(i == len(labels) - 1)))
        y -= h / 2 + 0.05
    return out


def demo_scenario() -> list[PlacedSign]:
    """The bundled demo: speed limit 60, pedestrian crossing (both sides), main road, height 3.5 m,
    children with a distance plate."""
    return [
        PlacedSign("3_24_n60", 4.2, 40.0, 2.3),
        PlacedSign("5_19_1", 4.5, 72.0, 2.3),
        PlacedSign("5_19_1", -5.0, 72.0, 2.3),
        PlacedSign("2_1", 4.0, 100.0, 2.3),
        PlacedSign("3_13_r3.5", 4.6, 128.0, 2.4),
        PlacedSign("1_23", 4.3, 155.0, 2.5, pole=False),
        PlacedSign("8_2_1", 4.3, 155.0, 2.5 - 0.39 - 0.05 - 0.175, 0.7),
    ]


def make_demo(out_mp4: str | Path, labels_path: str | Path | None = None) -> ClipLabels:
    """Render the bundled demo clip: 720p, 25 fps, 10 s at 60 km/h over solidWhiteRight."""
    out_mp4 = Path(out_mp4)
    labels_path = labels_path or out_mp4.with_suffix(".labels.json")
    return render_drive(out_mp4, demo_scenario(), speed_kmh=60, fps=25, resolution_wh=(1280, 720),
                        duration_s=10.0, background="solidWhiteRight", seed=2026, crf=27,
                        labels_path=labels_path)


@dataclass(frozen=True)
class ClipSpec:
    """One clip of a generated set: the drive and the scenario seed."""

    name: str
    speed_kmh: float
    fps: float
    resolution_wh: tuple[int, int]
    duration_s: float
    background: str = "solidWhiteRight"
    seed: int = 0
    signs: tuple[PlacedSign, ...] | None = None
    """A fixed scenario; None: a random one from ``seed``."""
    condition: str = "clear"
    """Light or weather over the drive (``synth.conditions``)."""


STANDARD_CLIPS: tuple[ClipSpec, ...] = (
    ClipSpec("drive_40kmh_10fps_720p", 40, 10, (1280, 720), 12.0, "solidWhiteRight", 1),
    ClipSpec("drive_60kmh_25fps_720p", 60, 25, (1280, 720), 10.0, "solidWhiteRight", 2),
    ClipSpec("drive_90kmh_25fps_720p", 90, 25, (1280, 720), 8.0, "solidWhiteRight", 3),
    ClipSpec("drive_60kmh_5fps_720p", 60, 5, (1280, 720), 12.0, "test1", 4),
    ClipSpec("drive_90kmh_30fps_720p", 90, 30, (1280, 720), 6.0, "vehicle-detection", 5),
    ClipSpec("drive_60kmh_25fps_1080p_short", 60, 25, (1920, 1080), 4.0, "solidWhiteRight", 6),
    # valued signs outside RTSD's class list: high speeds, heights and weights, a weight limit beside a speed limit
    ClipSpec("values_speeds_90kmh_25fps_720p", 90, 25, (1280, 720), 9.0, "solidWhiteRight", 7, (
        PlacedSign("3_24_n90", 4.3, 50.0, 2.3), PlacedSign("3_24_n110", 4.8, 115.0, 2.3),
        PlacedSign("3_24_n130", -4.6, 180.0, 2.4))),
    ClipSpec("values_limits_60kmh_25fps_720p", 60, 25, (1280, 720), 10.0, "solidWhiteRight", 8, (
        PlacedSign("3_13_r3.8", 4.2, 38.0, 2.4), PlacedSign("3_11_n15", 4.6, 75.0, 2.3),
        PlacedSign("3_13_r4.3", 4.0, 110.0, 2.4), PlacedSign("3_11_r7.5", 4.4, 145.0, 2.3))),
    ClipSpec("values_pair_60kmh_25fps_720p", 60, 25, (1280, 720), 8.0, "test1", 9, (
        PlacedSign("3_11_n15", 4.4, 45.0, 2.78, pole=False), PlacedSign("3_24_n50", 4.4, 45.0, 2.03),
        PlacedSign("3_24_n100", 4.6, 95.0, 2.3), PlacedSign("3_13_r4.3", -4.4, 120.0, 2.4))),
)
"""The committed set in ``annotations/`` (``astute make-clips annotations --standard``)."""


def random_specs(n: int, seed: int = 1000, conditions: tuple[str, ...] = ()) -> list[ClipSpec]:
    """``n`` varied drives (speed, fps, size, background) for a larger evaluation set; with ``conditions``, drive
    ``i`` is under ``conditions[i % len(conditions)]`` (its name ends with the condition), the drives themselves
    the same as without."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        speed, fps = float(rng.choice([40, 60, 90])), float(rng.choice([5, 10, 25, 30]))
        size = (1920, 1080) if rng.random() < 0.25 else (1280, 720)
        background = str(rng.choice(list(BACKGROUNDS)))
        condition = conditions[i % len(conditions)] if conditions else "clear"
        suffix = "" if condition == "clear" else f"_{condition}"
        out.append(ClipSpec(f"drive_{seed + i:05d}_{speed:g}kmh_{fps:g}fps_{size[1]}p{suffix}", speed, fps, size,
                            float(rng.uniform(8, 16)), background, seed + i, condition=condition))
    return out


def make_clips(out_dir: str | Path, specs: list[ClipSpec] | tuple[ClipSpec, ...] = STANDARD_CLIPS,
               crf: int = 27) -> list[Path]:
    """Render every spec to ``out_dir/<name>.mp4`` with ``<name>.labels.json``; return the label paths."""
    out_dir = Path(out_dir)
    paths = []
    for spec in specs:
        signs = list(spec.signs) if spec.signs is not None else random_scenario(spec.seed, spec.duration_s,
                                                                                 spec.speed_kmh)
        labels_path = out_dir / f"{spec.name}.labels.json"
        render_drive(out_dir / f"{spec.name}.mp4", signs, spec.speed_kmh, spec.fps, spec.resolution_wh,
                     spec.duration_s, spec.background, spec.seed, crf=crf, labels_path=labels_path,
                     condition=spec.condition)
        paths.append(labels_path)
    return paths
