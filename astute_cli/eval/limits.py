"""Score the speed limit in force Euro NCAP-style on clips labelled with a limit timeline.

A clip's labels may carry ``speed_limits``: the limit in force as changes, each from the frame its sign is passed
(format in ``annotations/README.md``). Two numbers, as Euro NCAP scores speed assistance:

- **time right**: the share of frames whose shown limit equals the labelled one. Around each labelled change
  (``CHANGE_BEFORE_S`` before to ``CHANGE_AFTER_S`` after its sign is passed) the old and the new limit are both
  right: an alert comes before the sign is passed, and that is the window in which a change counts as caught.
- **changes caught**: the share of labelled changes (those set by a sign) that the shown limit makes to the same
  value within that window.

``oracle`` scores the rules alone: every labelled sign announced at the frame it is passed, with the plates
hanging under it (bound by ``plates.PlateBinder`` from the labelled boxes): what the limit would be with a perfect
detector. Example::

    score = score_clip(labels, alerts)            # the product's alerts on the clip
    rules = score_clip(labels, oracle_alerts(labels))
    print(summarize([score])["time_right"], summarize([rules])["time_right"])
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from astute_cli.limits import SpeedLimit
from astute_cli.plates import PlateBinder
from astute_cli.signs import lookup
from astute_cli.types import Announcement, Detections

CHANGE_BEFORE_S = 3.0
CHANGE_AFTER_S = 1.0
"""A change counts when the shown limit makes it from this long before to this long after passing its sign."""


@dataclass
class LimitScore:
    """The limit timeline of one clip against its labels."""

    clip: str
    frames: int
    frames_right: int
    changes: int
    caught: int
    shown_changes: int
    missed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def time_right(self) -> float:
        return self.frames_right / self.frames if self.frames else 0.0


def labelled_timeline(labels) -> list[dict] | None:
    """The clip's labelled ``speed_limits`` (sorted by frame), or None when it has none."""
    timeline = getattr(labels, "speed_limits", None)
    if timeline is None:
        return None
    return sorted(timeline, key=lambda c: int(c["frame"]))


def per_frame(changes: list[dict], n_frames: int, start: int | None = None) -> list[int | None]:
    """The limit in each frame from a list of changes (``frame``, ``limit``); ``start`` before the first."""
    out: list[int | None] = [start] * n_frames
    for change in sorted(changes, key=lambda c: int(c["frame"])):
        frame = max(int(change["frame"]), 0)
        out[frame:] = [change["limit"]] * (n_frames - frame) if frame < n_frames else []
    return out


def score_timeline(truth: list[dict], shown: list[dict], n_frames: int, fps: float, clip: str = "") -> LimitScore:
    """Score the shown changes (``frame``, ``limit``) against the labelled ones (see the module docstring)."""
    true_frames = per_frame(truth, n_frames)
    shown_frames = per_frame(shown, n_frames)
    before, after = round(CHANGE_BEFORE_S * fps), round(CHANGE_AFTER_S * fps)
    either: dict[int, set] = defaultdict(set)  # frame -> limits that are right there (around a change)
    changes, caught, missed = 0, 0, []
    for change in truth:
        frame = int(change["frame"])
        if change.get("sign") is None:
            continue  # the limit at the start of the clip, set by no sign in it
        old = true_frames[frame - 1] if 0 < frame <= n_frames else None
        for f in range(max(frame - before, 0), min(frame + after + 1, n_frames)):
            either[f] |= {old, change["limit"]}
        changes += 1
        if any(c["limit"] == change["limit"] and frame - before <= int(c["frame"]) <= frame + after for c in shown):
            caught += 1
        else:
            missed.append({"frame": frame, "limit": change["limit"], "sign": change.get("sign")})
    right = sum(s == t or s in either.get(f, ()) for f, (s, t) in enumerate(zip(shown_frames, true_frames,
                                                                             strict=True)))
    return LimitScore(clip=clip, frames=n_frames, frames_right=int(right), changes=changes, caught=caught,
                      shown_changes=len(shown), missed=missed)


def shown_changes(alerts: list[Announcement], vehicle: str = "car") -> list[dict]:
    """The limit changes the product shows for these alerts (``limits.SpeedLimit``), as events records."""
    limit = SpeedLimit(vehicle)
    by_frame: dict[int, list[Announcement]] = defaultdict(list)
    for a in alerts:
        by_frame[a.frame_index].append(a)
    out = []
    for frame in sorted(by_frame):
        change = limit.update(by_frame[frame], frame, by_frame[frame][0].t)
        if change is not None:
            out.append(change.to_event())
    return out


def score_clip(labels, alerts: list[Announcement], vehicle: str = "car", name: str | None = None
               ) -> LimitScore | None:
    """Score the limit the product shows on a clip from its alerts; None when the clip has no limit timeline."""
    truth = labelled_timeline(labels)
    if truth is None:
        return None
    return score_timeline(truth, shown_changes(alerts, vehicle), labels.n_frames, labels.fps,
                          name or str(labels.video))


def oracle_alerts(labels) -> list[Announcement]:
    """Every labelled sign (plates aside) announced at the frame it is passed, with the plates under it."""
    names = sorted({s.label for s in labels.signs})
    class_of = {name: i for i, name in enumerate(names)}
    binder = PlateBinder(names)
    rows: dict[int, list[tuple[int, np.ndarray]]] = defaultdict(list)
    for sign in labels.signs:
        for frame, box in zip(sign.frames, sign.xyxy, strict=True):
            rows[int(frame)].append((sign.id, box))
    label_of_id = {s.id: s.label for s in labels.signs}
    for frame in sorted(rows):
        ids = [i for i, _ in rows[frame]]
        binder.update(Detections(np.array([b for _, b in rows[frame]]), np.ones(len(ids)),
                                 [class_of[label_of_id[i]] for i in ids], ids))
    out = []
    for sign in sorted(labels.signs, key=lambda s: s.passed_frame):
        if binder.is_plate(class_of[sign.label]):
            continue
        frame = max(min(sign.passed_frame, labels.n_frames) - 1, 0)
        plates = binder.plates_of(sign.id, lambda track: class_of[label_of_id[track]])
        out.append(Announcement(frame, frame / labels.fps, sign.id, class_of[sign.label], sign.label, sign.sign,
                                sign.value, sign.unit, sign.label, (0.0, 0.0, 0.0, 0.0),
                                lookup(sign.sign).priority, plates))
    return out


def summarize(scores: list[LimitScore | None]) -> dict[str, Any] | None:
    """Pool clip scores: time right, changes caught, and each clip's numbers; None without any scored clip."""
    kept = [s for s in scores if s is not None]
    if not kept:
        return None
    frames = sum(s.frames for s in kept)
    changes = sum(s.changes for s in kept)
    return {
        "clips": len(kept), "frames": frames, "changes": changes,
        "time_right": sum(s.frames_right for s in kept) / frames if frames else None,
        "changes_caught": sum(s.caught for s in kept) / changes if changes else None,
        "per_clip": {s.clip: {**asdict(s), "time_right": s.time_right} for s in kept},
    }
