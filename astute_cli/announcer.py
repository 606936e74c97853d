"""Decide what to say: one alert per physical sign, once its class and value are confirmed.

Like supervision's ``LineZone``: a per-track history, an event fired once when the history settles. A track is
announced at the first frame its class wins a confidence-weighted vote; the classifier may flicker between 60
and 80 on a far, blurred sign, and the vote waits until one value clearly leads. When a track's vote later
settles clearly on another sign (a far sign first read wrong, then read right as it grows), the alert is
corrected once: the driver hears the sign that is really there.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

import numpy as np

from astute_cli import signs
from astute_cli.geometry import DEFAULT_HFOV_DEG, distance_m
from astute_cli.plates import PlateBinder
from astute_cli.types import Announcement, Detections


@dataclass
class _Recent:
    key: tuple[str, float | None]
    t: float


class Announcer:
    """Turn tracked detections into announcements.

    Args:
        labels: the detector's class names (RTSD labels with values, e.g. ``3_24_n60``).
        fps: frame rate of the frames given to ``update`` (for alert times and the split window).
        lang: ``ru`` or ``en``.
        min_votes: observations of the winning class before it is announced; bigger is surer and later.
        min_share: share of the track's confidence the winner must hold; bigger resists flicker, delays alerts.
        history: observations kept per track (older ones stop voting).
        split_window_s: a new track of the same sign and value within this many seconds of an alert is taken
            for the same sign (a track split, or the twin sign on the other side of the road) and not re-announced.
        hfov_deg: camera field of view, for ``estimate_distance``.
        min_width_px: boxes narrower than this do not vote (a sign's class and value cannot be read from fewer
            pixels); bigger waits for surer reads, and alerts later.
        correct_votes: after its alert, a track whose vote moves to another sign or value with at least this
            many observations and ``correct_share`` of the weight is announced again, once, with the new one
            (0: never); bigger corrects fewer wrong alerts, and says fewer flickers twice.
        correct_share: share of the track's recent confidence the new winner needs for a correction.
    """

    def __init__(self, labels: list[str], fps: float = 25.0, lang: str = "ru", min_votes: int = 2,
                 min_share: float = 0.6, history: int = 12, split_window_s: float = 2.0,
                 hfov_deg: float = DEFAULT_HFOV_DEG, min_width_px: float = 18.0, correct_votes: int = 4,
                 correct_share: float = 0.75) -> None:
        self.labels = list(labels)
        self.fps = fps
        self.lang = lang
        self.min_votes = min_votes
        self.min_share = min_share
        self.history = history
        self.split_window_s = split_window_s
        self.hfov_deg = hfov_deg
        self.min_width_px = min_width_px
        self.correct_votes, self.correct_share = correct_votes, correct_share
        self._parsed = [signs.parse_label(label) for label in self.labels]
        self._silent = np.array([label in signs.SILENT_LABELS for label in self.labels] + [True])
        self.plates = PlateBinder(self.labels, min_width_px)  # plates are spoken with their sign, never alone
        self.reset()

    def reset(self) -> None:
        self._votes: dict[int, deque] = defaultdict(lambda: deque(maxlen=self.history))
        self._announced: dict[int, tuple[str, float | None]] = {}  # track -> the sign said for it
        self._corrected: set[int] = set()
        self._recent: list[_Recent] = []
        self.plates.reset()

    def label_of(self, track_id: int) -> int | None:
        """The class a track currently votes for, or None for an unknown track."""
        votes = self._votes.get(track_id)
        if not votes:
            return None
        winner, _, _ = _tally(votes)
        return winner

    def update(self, detections: Detections, frame_index: int) -> list[Announcement]:
        """Record this frame's tracked detections; return the alerts that become due now."""
        if detections.track_id is None or not len(detections):
            return []
        t = frame_index / self.fps
        self.plates.update(detections)
        out = []
        for i in np.argsort(-detections.confidence):
            track = int(detections.track_id[i])
            class_id = int(detections.class_id[i])
            if track < 0 or self._silent[min(class_id, len(self.labels))] or detections.width[i] < self.min_width_px:
                continue
            self._votes[track].append((class_id, float(detections.confidence[i])))
            said = self._announced.get(track)
            if said is not None and (self.correct_votes <= 0 or track in self._corrected):
                continue
            winner, count, share = _tally(self._votes[track])
            if self.plates.is_plate(winner):
                continue
            if said is None:
                due = count >= self.min_votes and share >= self.min_share and not self.plates.waiting(track, t)
            else:
                due = (self._parsed[winner] != said and count >= self.correct_votes
                       and share >= self.correct_share)
                if due:
                    self._corrected.add(track)
            if due:
                self._announced[track] = self._parsed[winner]
                if not self._is_repeat(winner, t):
                    out.append(self._announcement(frame_index, t, track, winner, detections.xyxy[i]))
        return out

    def _is_repeat(self, class_id: int, t: float) -> bool:
        key = self._parsed[class_id]
        self._recent = [r for r in self._recent if t - r.t <= self.split_window_s]
        if any(r.key == key for r in self._recent):
            return True
        self._recent.append(_Recent(key, t))
        return False

    def _announcement(self, frame_index: int, t: float, track: int, class_id: int, xyxy: np.ndarray
                      ) -> Announcement:
        code, value = self._parsed[class_id]
        info = signs.lookup(code)
        plates = self.plates.plates_of(track, self.label_of)
        return Announcement(frame_index=frame_index, t=t, track_id=track, class_id=class_id,
                            label=self.labels[class_id], sign=code, value=value, unit=info.unit,
                            text=signs.phrase_with_plates(code, value, plates, self.lang),
                            xyxy=tuple(float(v) for v in xyxy), priority=info.priority, plates=plates)

    def estimate_distance(self, xyxy: np.ndarray, frame_width: int, code: str) -> float:
        """Metres to a sign from its box width, the sign's standard size and the camera's field of view."""
        return distance_m(float(xyxy[2] - xyxy[0]), frame_width, signs.lookup(code).size_m, self.hfov_deg)


def _tally(votes: deque) -> tuple[int, int, float]:
    """(winning class, its observations, its share of the confidence) over a track's history."""
    weight: dict[int, float] = defaultdict(float)
    count: dict[int, int] = defaultdict(int)
    for class_id, confidence in votes:
        weight[class_id] += confidence
        count[class_id] += 1
    winner = max(weight, key=weight.__getitem__)
    return winner, count[winner], weight[winner] / max(sum(weight.values()), 1e-9)
