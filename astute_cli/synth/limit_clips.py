"""Drive clips labelled with the speed limit in force: town signs, limits, their ends and plates beside the road.

Each clip is a hand-written list of poles with the limit a driver of a car must keep after passing each one (by
ПДД 10.2–10.3, written by hand, not computed by ``limits.py``, so that the benchmark checks the rules too). The
clip's labels gain ``speed_limits``: the limit from the frame each changing pole is passed (format in
``annotations/README.md``). Example::

    make_limit_clips("limit-clips")   # limit-clips/limits_town_50kmh_720p.mp4 + .labels.json, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from astute_cli.labels.clips import ClipLabels
from astute_cli.signs import parse_label
from astute_cli.synth.drive import render_drive
from astute_cli.synth.scenarios import pole_signs

SAME = "same"
"""A pole that leaves the limit as it was."""


@dataclass(frozen=True)
class LimitPole:
    """One pole: its signs top to bottom (plates last), where it stands, and the limit after it (km/h, None for
    unknown, or ``SAME``)."""

    z_m: float
    labels: tuple[str, ...]
    limit: int | str | None
    x_m: float = 4.0


@dataclass(frozen=True)
class LimitClip:
    """A labelled limit clip: the drive and its poles."""

    name: str
    speed_kmh: float
    duration_s: float
    poles: tuple[LimitPole, ...]
    fps: float = 25.0
    background: str = "solidWhiteRight"
    seed: int = 0


LIMIT_CLIPS: tuple[LimitClip, ...] = (
    LimitClip("limits_town_50kmh_720p", 50, 12.0, (
        LimitPole(38, ("5_23_1",), 60),                 # a settlement: 60
        LimitPole(75, ("3_24_n40",), 40),
        LimitPole(108, ("1_23", "8_1_1_n150"), SAME),   # children, in 150 m: no change
        LimitPole(135, ("3_25_n40",), 60),              # end of the 40: back to the town's 60
        LimitPole(163, ("5_24_1",), 90, x_m=4.5),       # end of the settlement: 90 for a car
    ), seed=181),
    LimitClip("limits_residential_40kmh_720p", 40, 12.0, (
        LimitPole(36, ("5_21",), 20),                   # residential zone: 20 (so, a town)
        LimitPole(68, ("5_22",), 60),                   # its end: the town's 60
        LimitPole(98, ("3_24_n40", "8_4_1"), SAME),     # 40 for trucks only: a car keeps 60
        LimitPole(127, ("3_24_n50",), 50),
    ), seed=182),
    LimitClip("limits_motorway_90kmh_720p", 90, 12.0, (
        LimitPole(60, ("5_1",), 110, x_m=5.0),          # motorway: 110 for a car
        LimitPole(130, ("3_24_n80",), 80, x_m=5.0),
        LimitPole(190, ("3_31",), 110, x_m=5.0),        # end of all restrictions: the motorway's 110
        LimitPole(250, ("5_2",), 90, x_m=5.0),          # end of the motorway: 90
        LimitPole(288, ("3_24_n70",), 70, x_m=5.0),
    ), seed=183),
)
"""The committed limit clips in ``limit-clips/`` (``astute make-clips limit-clips --limits``)."""


def render_limit_clip(clip: LimitClip, out_dir: str | Path, crf: int = 27) -> Path:
    """Render one limit clip to ``out_dir/<name>.mp4`` with its labels (``speed_limits`` included); return the
    label file."""
    out_dir = Path(out_dir)
    placed, first_sign_of_pole = [], []
    for pole in clip.poles:
        first_sign_of_pole.append(len(placed))
        placed += pole_signs(pole.labels, pole.x_m, pole.z_m)
    labels_path = out_dir / f"{clip.name}.labels.json"
    labels = render_drive(out_dir / f"{clip.name}.mp4", placed, clip.speed_kmh, clip.fps, (1280, 720),
                          clip.duration_s, clip.background, clip.seed, crf=crf)
    labels.video = f"{clip.name}.mp4"
    labels.speed_limits = limit_timeline(clip, labels, first_sign_of_pole)
    labels.save(labels_path)
    return labels_path


def limit_timeline(clip: LimitClip, labels: ClipLabels, first_sign_of_pole: list[int]) -> list[dict]:
    """The labelled limit: unknown at the start, then each pole's limit from the frame its first sign is passed."""
    timeline: list[dict] = [{"frame": 0, "t": 0.0, "limit": None, "sign": None}]
    for pole, index in zip(clip.poles, first_sign_of_pole, strict=True):
        if pole.limit == SAME:
            continue
        sign = labels.signs[index]
        if sign.passed_frame >= labels.n_frames:
            raise ValueError(f"{clip.name}: the pole at {pole.z_m} m is not passed before the clip ends")
        timeline.append({"frame": sign.passed_frame, "t": round(sign.passed_frame / labels.fps, 3),
                         "limit": pole.limit, "sign": parse_label(pole.labels[0])[0], "sign_id": sign.id})
    return timeline


# Random limit drives: each road is a list of steps, and each step a list of choices of (signs, limit after it).
# The limits are written here by hand from ПДД 10.2–10.3 for a car (as the committed clips' are), never computed by
# ``limits.py``; "{v}" is a value drawn from the step's values.
_TOWN = (
    ((("5_23_1",), 60), (("5_23_2",), 60)),                                     # a settlement: 60
    ((("3_24_n{v}",), "{v}"),),                                                 # a posted limit
    ((("1_23", "8_1_1_n{d}"), SAME), (("5_19_1",), SAME), (("3_24_n{w}", "8_4_1"), SAME)),  # no change for a car
    ((("3_25_n{v}",), 60), (("3_31",), 60)),                                    # its end: back to the town's 60
    ((("5_24_1",), 90), (("5_24_2",), 90)),                                     # end of the settlement: 90
)
_MOTORWAY = (
    ((("5_1",), 110),),                                                         # a motorway: 110
    ((("3_24_n{v}",), "{v}"),),
    ((("3_31",), 110), (("3_25_n{v}",), 110)),                                  # its end: the motorway's 110
    ((("5_2",), 90),),                                                          # end of the motorway: 90
    ((("3_24_n{w}",), "{w}"),),
)
_ROADS = {  # road: (steps, the car's speed km/h, values of v, values of w)
    "town": (_TOWN, (40, 60), (20, 30, 40, 50), (30, 40, 50)),
    "motorway": (_MOTORWAY, (80, 100), (70, 80, 90, 100), (50, 60, 70)),
}


def random_limit_clip(seed: int, road: str | None = None) -> LimitClip:
    """A random drive labelled with the limit in force: a town (its sign, a posted limit, a pole that changes
    nothing for a car, the limit's end, the town's end) or a motorway (its sign, a limit, its end, the motorway's
    end, a limit), every value drawn, 2.2–3.5 s between poles. A wider check than the three committed clips
    (``astute make-clips OUT --limit-drives N``); never trained on."""
    import numpy as np

    from astute_cli.synth.drive import BACKGROUNDS

    rng = np.random.default_rng([seed, 52289])
    road = road or str(rng.choice(sorted(_ROADS)))
    steps, speeds, v_values, w_values = _ROADS[road]
    speed = float(rng.integers(speeds[0], speeds[1] + 1))
    values = {"v": int(rng.choice(v_values)), "w": int(rng.choice(w_values)),
              "d": int(rng.choice((100, 150, 200, 250, 300)))}
    z, poles = float(rng.uniform(35, 55)), []
    for choices in steps:
        labels, limit = choices[int(rng.integers(len(choices)))]
        labels = tuple(label.format(**values) for label in labels)
        limit = limit if not isinstance(limit, str) or limit == SAME else int(limit.format(**values))
        poles.append(LimitPole(round(z, 1), labels, limit, x_m=round(float(rng.uniform(3.8, 5.2)), 2)))
        z += speed / 3.6 * float(rng.uniform(2.2, 3.5))
    duration = round((poles[-1].z_m + speed / 3.6 * 1.5) / (speed / 3.6), 1)  # the last pole passed, 1.5 s more
    background = str(rng.choice(sorted(BACKGROUNDS)))
    return LimitClip(f"limit_drive_{seed:05d}_{road}_{speed:g}kmh", speed, duration, tuple(poles),
                     background=background, seed=seed)


def make_limit_clips(out_dir: str | Path, clips: tuple[LimitClip, ...] = LIMIT_CLIPS) -> list[Path]:
    """Render every limit clip into ``out_dir``; return the label files."""
    return [render_limit_clip(clip, out_dir) for clip in clips]
