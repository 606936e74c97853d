"""Decide what to say: one alert per physical sign, once its class and value are confirmed.

Like supervision's ``LineZone``: a per-track history, an event fired once when the history settles. A track is
announced at the first frame its class wins a confidence-weighted vote; the classifier may flicker between 60
and 80 on a far, blurred sign, and the vote waits until one value clearly leads. When a track's vote later
settles clearly on another sign (a far sign first read wrong, then read right as it grows), the alert is
corrected once: the driver hears the sign that is really there.

With a detector that reads values (``Detections.value``: labels are kinds such as ``3_24``), the kind and the
number are voted apart: the number by the weight of its readings, each the reading's confidence times the box
width (a bigger view is read from more pixels). A valued sign is announced once its number is sure; a sign
whose kind is sure but whose number is not by the time its box is ``value_say_width_px`` wide (it is near) is
announced without it ("Ограничение скорости") and completed once the number is sure; that completion is its one
correction.

Plates are said with their sign, never alone, and the number read on a plate goes with it ("Дети, через 150
метров"). A plate is smaller than its sign and often classified only after the sign was said: a plate that becomes
sure under a sign already said completes its alert ("Дети, через 150 метров" after "Дети"); that completion is
the sign's one correction.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

import numpy as np

from astute_cli import signs
from astute_cli.geometry import DEFAULT_HFOV_DEG, distance_m
from astute_cli.plates import PlateBinder
from astute_cli.types import Announcement, Detections
from astute_cli.values import number_read


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
        value_votes: readings of the winning number before it is announced (detectors that read values).
        value_share: share of the reading weight the winning number must hold; bigger speaks surer and later.
        value_wait: views of a confirmed valued kind to wait for a sure number before the sign is announced
            without it (completed later); negative: never announce without the number.
        value_min_width_px: readings of boxes narrower than this do not vote on the number, and the ``value_wait``
            views are counted only from this width (a far sign waits while it grows to where its number can be
            read); 0: every box that votes on the kind also reads.
        value_say_width_px: a sign this wide is said at once, without its number or a plate's if that is still
            unsure (a sign this near is passed within a second or two: saying it late helps no one); 0: never.
        value_min_confidence: readings less sure than this do not vote on the number (the bundled reader's
            plausible readings under 0.3 are right one time in five, from 0.5 on 97 times in 100:
            ``benchmarks/README.md``, "When to say the number").
        plate_value_min_width_px: readings of plates narrower than this do not vote on the plate's number (a
            distance plate prints its number in small type: the bundled reader reads 8.2.1 plates right 32 times
            in 100 at 16-24 px and 88 at 24 px or more, 8.1.1 68 and 97; ``benchmarks/results/values-reader.json``).
    """

    def __init__(self, labels: list[str], fps: float = 25.0, lang: str = "ru", min_votes: int = 2,
                 min_share: float = 0.6, history: int = 12, split_window_s: float = 2.0,
                 hfov_deg: float = DEFAULT_HFOV_DEG, min_width_px: float = 18.0, correct_votes: int = 4,
                 correct_share: float = 0.75, value_votes: int = 3, value_share: float = 0.6,
                 value_wait: int = -1, value_min_width_px: float = 0.0, value_say_width_px: float = 48.0,
                 value_min_confidence: float = 0.3, plate_value_min_width_px: float = 24.0) -> None:
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
        self.value_votes, self.value_share, self.value_wait = value_votes, value_share, value_wait
        self.value_min_width_px, self.value_say_width_px = value_min_width_px, value_say_width_px
        self.value_min_confidence = value_min_confidence
        self.plate_value_min_width_px = plate_value_min_width_px
        self._parsed = [signs.parse_label(label) for label in self.labels]
        self._silent = np.array([label in signs.SILENT_LABELS for label in self.labels] + [True])
        self.plates = PlateBinder(self.labels, min_width_px)  # plates are spoken with their sign, never alone
        self.reset()

    def reset(self) -> None:
        self._votes: dict[int, deque] = defaultdict(lambda: deque(maxlen=self.history))
        self._announced: dict[int, tuple[str, float | None]] = {}  # track -> the sign said for it
        self._readings: dict[int, deque] = defaultdict(lambda: deque(maxlen=self.history))
        self._waited: dict[int, int] = defaultdict(int)  # track -> views since its valued kind was confirmed
        self._corrected: set[int] = set()
        self._said_plates: dict[int, tuple[str, ...]] = {}  # track -> the plates said with it
        self._recent: list[_Recent] = []
        self.plates.reset()

    def label_of(self, track_id: int) -> int | None:
        """The class a track currently votes for, or None for an unknown track."""
        votes = self._votes.get(track_id)
        if not votes:
            return None
        winner, _, _ = _tally(votes)
        return winner

    def undecided(self, detections: Detections) -> np.ndarray:
        """(N,) bool: the rows whose sign is still to be said, or its number still to be read (confirmed tracks wide
        enough to vote, not silent), and the plates under such a sign or whose own number is still to be read (also
        while too narrow to vote, so that a look at the sign sees that it still waits for its plate): another look at
        them now decides them sooner."""
        if detections.track_id is None:
            return np.zeros(len(detections), bool)
        out = np.zeros(len(detections), bool)
        for i, (track, class_id) in enumerate(zip(detections.track_id, detections.class_id, strict=True)):
            class_id = min(int(class_id), len(self.labels))
            if track < 0 or self._silent[class_id]:
                continue
            if self.plates.is_plate(class_id):  # even while too narrow to vote: its sign waits for it
                sign = self.plates.sign_of(int(track))
                out[i] = sign is not None and (self._undecided(sign) or self._plate_number_unsure(sign))
            elif detections.width[i] >= self.min_width_px:
                out[i] = self._undecided(int(track))
        return out

    def _undecided(self, track: int) -> bool:
        """True for a sign track not yet said, or said without the number it carries."""
        said = self._announced.get(track)
        return said is None or (said[1] is None and number_read(said[0]))

    def update(self, detections: Detections, frame_index: int) -> list[Announcement]:
        """Record this frame's tracked detections; return the alerts that become due now."""
        if detections.track_id is None or not len(detections):
            return []
        t = frame_index / self.fps
        self.plates.update(detections)
        values = None if detections.value is None else detections.values()
        out = []
        for i in np.argsort(-detections.confidence):
            track = int(detections.track_id[i])
            class_id = int(detections.class_id[i])
            if track < 0 or self._silent[min(class_id, len(self.labels))] or detections.width[i] < self.min_width_px:
                continue
            self._votes[track].append((class_id, float(detections.confidence[i])))
            width = float(detections.width[i])
            readable = width >= (self.plate_value_min_width_px if self.plates.is_plate(class_id)
                                 else self.value_min_width_px)
            if values is not None and not np.isnan(values[i]) and readable \
                    and detections.value_confidence[i] >= self.value_min_confidence:
                weight = float(detections.value_confidence[i]) * width
                self._readings[track].append((self._parsed[class_id][0], float(values[i]), weight))
            said = self._announced.get(track)
            if said is not None and (self.correct_votes <= 0 or track in self._corrected):
                continue
            winner = self.label_of(track)
            if winner is not None and self.plates.is_plate(winner):
                continue  # a plate is spoken with its sign, never alone
            key = self._decide(track, said, values is not None, width)
            plates_grew = key is None and said is not None and self._plates_grew(track)
            key = said if plates_grew else key
            if key is None or (said is None and not self._near(width)
                               and self.plates.waiting(track, t, self._plate_number_unsure(track))):
                continue  # not due yet, or the sign's one alert waits (briefly, while far) for the plate under it
            if said is not None:
                self._corrected.add(track)
            self._announced[track] = key
            if plates_grew or not self._is_repeat(key, t):
                out.append(self._announcement(frame_index, t, track, key, detections.xyxy[i]))
        return out

    def _decide(self, track: int, said: tuple[str, float | None] | None, reads_values: bool, width: float
                ) -> tuple[str, float | None] | None:
        """The (code, value) to say for a track now, or None: a first alert, a correction, or the completion
        of an alert said without its number (``width``: this view's box width)."""
        winner, count, share = _tally(self._votes[track])
        code, value = self._parsed[winner]
        kind_sure = count >= self.min_votes and share >= self.min_share
        if not reads_values or value is not None or not number_read(code):
            if said is None:
                return (code, value) if kind_sure else None
            changed = (code, value) != said and count >= self.correct_votes and share >= self.correct_share
            return (code, value) if changed else None
        number, n_reads, read_share = _tally_values(self._readings[track], code)
        if said is None:
            if not kind_sure:
                return None
            if n_reads >= self.value_votes and read_share >= self.value_share:
                return (code, number)
            self._waited[track] += int(width >= self.value_min_width_px)
            return (code, None) if self._near(width) or 0 <= self.value_wait < self._waited[track] else None
        if said == (code, None):  # said without its number: complete it once the number is sure
            sure = n_reads >= self.value_votes and read_share >= self.value_share
            return (code, number) if sure else None
        changed = (code, number) != said and count >= self.correct_votes and share >= self.correct_share \
            and n_reads >= self.correct_votes and read_share >= self.correct_share
        return (code, number) if changed else None

    def _near(self, width: float) -> bool:
        """A sign this wide is said at once, without what it still waits for (its number, a plate's): it is passed
        within a second or two (``value_say_width_px``; 0: never)."""
        return 0 < self.value_say_width_px <= width

    def _plate_labels(self, track: int) -> tuple[str, ...]:
        """The plates under a sign track as they vote now, each with its number once that is sure."""
        return self.plates.plates_of(track, self.label_of, self._plate_number)

    def _plate_number(self, plate: int, code: str) -> float | None:
        """The number read on a plate track, once sure (as a sign's number), else None."""
        number, n_reads, share = _tally_values(self._readings[plate], code)
        return number if n_reads >= self.value_votes and share >= self.value_share else None

    def _plate_number_unsure(self, track: int) -> bool:
        """True when a plate under the sign carries a number (8.1.x, 8.2.x distances) not yet sure."""
        return any(_number_unsure(code, value) for code, value in map(signs.parse_label, self._plate_labels(track)))

    def _plates_grew(self, track: int) -> bool:
        """True when a sign already said has a plate under it, sure as a correction must be (``correct_votes``,
        ``correct_share``), that was not said with it, or a plate's number that was not; a plate that carries a
        number (8.1.x, 8.2.x distances) counts only once its number is sure."""
        if self.plates.unread(track):
            return False
        said = {signs.parse_label(label) for label in self._said_plates.get(track, ())}
        said_codes = {code for code, _ in said}
        for plate in self.plates.plate_tracks(track):
            if not self._votes.get(plate):
                continue
            winner, count, share = _tally(self._votes[plate])
            if not self.plates.is_plate(winner) or count < self.correct_votes or share < self.correct_share:
                continue  # not a plate, or not sure enough to speak again for it
            code = self._parsed[winner][0]
            value = self._plate_number(plate, code)
            if _number_unsure(code, value):
                continue  # a distance plate is worth a second alert only with its distance
            if code not in said_codes or (value is not None and (code, value) not in said):
                return True
        return False

    def _is_repeat(self, key: tuple[str, float | None], t: float) -> bool:
        self._recent = [r for r in self._recent if t - r.t <= self.split_window_s]
        if any(r.key == key for r in self._recent):
            return True
        self._recent.append(_Recent(key, t))
        return False

    def _announcement(self, frame_index: int, t: float, track: int, key: tuple[str, float | None],
                      xyxy: np.ndarray) -> Announcement:
        code, value = key
        class_id = self.label_of(track)
        info = signs.lookup(code)
        plates = self._said_plates[track] = self._plate_labels(track)
        return Announcement(frame_index=frame_index, t=t, track_id=track, class_id=-1 if class_id is None else class_id,
                            label=signs.make_label(code, value), sign=code, value=value,
                            unit=info.unit if value is not None else None,
                            text=signs.phrase_with_plates(code, value, plates, self.lang),
                            xyxy=tuple(float(v) for v in xyxy), priority=info.priority, plates=plates)

    def estimate_distance(self, xyxy: np.ndarray, frame_width: int, code: str) -> float:
        """Metres to a sign from its box width, the sign's standard size and the camera's field of view."""
        return distance_m(float(xyxy[2] - xyxy[0]), frame_width, signs.lookup(code).size_m, self.hfov_deg)


def _number_unsure(code: str, value: float | None) -> bool:
    """True for a sign or plate that carries a number the reader reads, not sure yet (``value`` None)."""
    return value is None and number_read(code)


def _tally(votes: deque) -> tuple[int, int, float]:
    """(winning class, its observations, its share of the confidence) over a track's history."""
    weight: dict[int, float] = defaultdict(float)
    count: dict[int, int] = defaultdict(int)
    for class_id, confidence in votes:
        weight[class_id] += confidence
        count[class_id] += 1
    winner = max(weight, key=weight.__getitem__)
    return winner, count[winner], weight[winner] / max(sum(weight.values()), 1e-9)


def _tally_values(readings: deque, code: str) -> tuple[float | None, int, float]:
    """(winning number, its readings, its share of the reading weight) over a track's readings of this kind."""
    weight: dict[float, float] = defaultdict(float)
    count: dict[float, int] = defaultdict(int)
    for kind, value, w in readings:
        if kind == code:
            key = round(value, 2)
            weight[key] += w
            count[key] += 1
    if not weight:
        return None, 0, 0.0
    winner = max(weight, key=weight.__getitem__)
    return winner, count[winner], weight[winner] / max(sum(weight.values()), 1e-9)
