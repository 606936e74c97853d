"""Plates (group 8) belong to the sign above them: bind plate tracks to sign tracks, and say what a plate means.

GOST R 52289 mounts a plate right under its sign; :func:`detector.plates_under_signs` holds that geometry and is
reused here box pair by box pair. :class:`PlateBinder` watches the tracked detections frame by frame and remembers
under which sign track each plate track hangs; the announcer asks it for a sign's plates when it makes the sign's
alert, so that one alert carries the sign with its plates and a plate is never announced alone. Example::

    binder = PlateBinder(detector.labels)
    binder.update(tracked)                                 # every frame
    binder.plates_of(sign_track, announcer.label_of)       # ('8_4_1',): the plate labels under that sign

The facts about plates (which vehicles an 8.4.x plate names, which plates make a rule conditional) are the small
tables below; the spoken words are in ``signs.plate_phrase``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from astute_cli.detector import plates_under_signs
from astute_cli.signs import BACKGROUND_LABELS, is_mounted_plate, make_label, parse_label
from astute_cli.types import Detections

VEHICLE_PLATES: dict[str, frozenset[str]] = {
    # 8.4.1–8.4.8: the sign applies only to this vehicle type (our vehicles: car, truck, bus)
    "8_4_1": frozenset({"truck"}),   # trucks (over 3.5 t, with or without a trailer)
    "8_4_2": frozenset({"truck"}),   # vehicles with a trailer: taken for trucks (the option has no trailer flag)
    "8_4_3": frozenset({"car"}),     # cars
    "8_4_4": frozenset({"bus"}),     # buses
    "8_4_5": frozenset(),            # tractors
    "8_4_6": frozenset(),            # motorcycles
    "8_4_7": frozenset(),            # bicycles
    "8_4_8": frozenset(),            # vehicles with dangerous goods
}
"""Plates "for this vehicle type only": code -> the vehicles of ``limits.VEHICLES`` it names."""

EXCEPT_PLATES: dict[str, frozenset[str]] = {
    # 8.4.9–8.4.15: the sign applies to everyone except this vehicle type
    "8_4_9": frozenset({"truck"}), "8_4_10": frozenset({"car"}), "8_4_11": frozenset({"bus"}),
    "8_4_12": frozenset(), "8_4_13": frozenset(),  # except motorcycles, bicycles
    "8_4_14": frozenset(), "8_4_15": frozenset(),  # except taxis, electric cars: a car is taken for neither
}
"""Plates "except this vehicle type": code -> the vehicles it exempts."""

CONDITIONAL_PLATES = ("8_5",)
"""Plates that limit a sign to some days or hours (8.5.1–8.5.7): the camera cannot read the clock."""


def _code(label: str) -> str:
    return parse_label(label)[0]


def _table_key(code: str, table: dict) -> str | None:
    parts = code.split("_")
    for n in range(len(parts), 2, -1):
        key = "_".join(parts[:n])
        if key in table:
            return key
    return None


def applies_to(plate_labels: Iterable[str], vehicle: str) -> bool:
    """True when a sign with these plates applies to ``vehicle`` (no vehicle plate: it applies to all)."""
    named: set[str] | None = None
    for label in plate_labels:
        code = _code(label)
        if (key := _table_key(code, VEHICLE_PLATES)) is not None:
            named = (named or set()) | VEHICLE_PLATES[key]
        elif (key := _table_key(code, EXCEPT_PLATES)) is not None and vehicle in EXCEPT_PLATES[key]:
            return False
    return named is None or vehicle in named


def is_conditional(plate_labels: Iterable[str]) -> bool:
    """True when a plate limits the sign to some days or times (8.5.x)."""
    return any(_code(label).startswith(CONDITIONAL_PLATES) for label in plate_labels)


class PlateBinder:
    """Remember which plate track hangs under which sign track, and whether a sign should wait for its plate.

    A plate is smaller than its sign (0.6 m against 0.7 m): it becomes readable a few metres after the sign. A sign
    with a plate-class box under it that has not yet been seen readable ``min_seen`` times waits for it (``waiting``),
    at most ``max_wait_s``, so that its one alert carries the plate.

    Args:
        labels: the detector's class names; mounted group 8 plates (``signs.is_mounted_plate``) are the plates,
            every other class but the background can carry one.
        min_width_px: a plate box at least this wide counts as seen readable (the announcer's voting width).
        min_seen: readable sightings of a plate before its sign stops waiting for it.
        max_wait_s: the longest a sign's alert waits for a plate under it.
    """

    def __init__(self, labels: list[str], min_width_px: float = 18.0, min_seen: int = 2,
                 max_wait_s: float = 1.0) -> None:
        self.labels = list(labels)
        self.min_width_px, self.min_seen, self.max_wait_s = min_width_px, min_seen, max_wait_s
        self._plate = np.array([is_mounted_plate(label) for label in self.labels] + [False], bool)
        self._parent = np.array([not is_mounted_plate(label) and label not in BACKGROUND_LABELS
                                 for label in self.labels] + [False], bool)
        self.reset()

    def reset(self) -> None:
        self._sign_of: dict[int, int] = {}      # plate track -> sign track
        self._top: dict[int, float] = {}        # plate track -> its box top (orders two plates)
        self._seen: dict[int, int] = {}         # plate track -> frames seen at least min_width_px wide
        self._pending: set[int] = set()         # sign tracks with an unread plate under them when last seen
        self._wait_from: dict[int, float] = {}  # sign track -> when it started waiting

    def is_plate(self, class_id: int) -> bool:
        """True for a class that is a mounted plate (never announced alone)."""
        return bool(self._plate[min(int(class_id), len(self.labels))])

    def update(self, detections: Detections) -> None:
        """Bind this frame's plate tracks to the sign track right above them (or above a plate bound to one), and
        note the signs with a plate under them that is not yet readable (untracked, or seen too few times).

        What is noted is for the sign tracks in ``detections``: a sign not among them (a look between scans at some
        of the tracks only) keeps what was noted for it before."""
        if detections.track_id is None or not len(detections):
            return
        ids = detections.track_id
        classes = np.minimum(detections.class_id, len(self.labels))
        parents = [int(j) for j in np.flatnonzero((ids >= 0) & self._parent[classes])]
        owner = {j: int(ids[j]) for j in parents}  # detection row -> the sign track it belongs to
        self._pending -= set(owner.values())
        waiting = [int(i) for i in np.flatnonzero(self._plate[classes])]
        for i in waiting:
            if ids[i] >= 0 and detections.width[i] >= self.min_width_px:
                self._seen[int(ids[i])] = self._seen.get(int(ids[i]), 0) + 1
        while waiting:  # a plate under a bound plate belongs to the same sign (signs with two plates)
            bound = []
            for i in waiting:
                j = self._parent_row(detections.xyxy, i, list(owner))
                if j is None:
                    continue
                owner[i], plate = owner[j], int(ids[i])
                if plate >= 0:
                    self._sign_of[plate] = owner[j]
                    self._top[plate] = float(detections.xyxy[i, 1])
                if plate < 0 or self._seen.get(plate, 0) < self.min_seen:
                    self._pending.add(owner[j])
                bound.append(i)
            if not bound:
                break
            waiting = [i for i in waiting if i not in bound]

    def waiting(self, sign_track: int, t: float, number_unsure: bool = False) -> bool:
        """True while the sign's alert should wait for a plate under it, or (``number_unsure``) for the number on
        it: at most ``max_wait_s`` from the first time this is asked for it."""
        if sign_track not in self._pending and not number_unsure:
            return False
        start = self._wait_from.setdefault(sign_track, t)
        return t - start < self.max_wait_s

    @staticmethod
    def _parent_row(xyxy: np.ndarray, i: int, rows: list[int]) -> int | None:
        """The row among ``rows`` the plate ``i`` hangs under (GOST geometry), the closest above it; or None."""
        best, best_gap = None, np.inf
        for j in rows:
            if j == i or not plates_under_signs(xyxy[[j, i]], np.array([False, True]))[1]:
                continue
            gap = abs(float(xyxy[i, 1] - xyxy[j, 3]))
            if gap < best_gap:
                best, best_gap = j, gap
        return best

    def sign_of(self, plate_track: int) -> int | None:
        """The sign track a plate track hangs under, or None while it is bound to none."""
        return self._sign_of.get(int(plate_track))

    def unread(self, sign_track: int) -> bool:
        """True when a plate under the sign was seen, the last time the sign was, but not yet readable."""
        return sign_track in self._pending

    def plate_tracks(self, sign_track: int) -> list[int]:
        """The plate tracks bound under a sign track, top first."""
        return sorted((p for p, s in self._sign_of.items() if s == sign_track), key=self._top.__getitem__)

    def plates_of(self, sign_track: int, label_of: Callable[[int], int | None],
                  value_of: Callable[[int, str], float | None] = lambda track, code: None) -> tuple[str, ...]:
        """Labels of the plates under a sign track, top first, each as its plate track votes (``label_of``), with
        the number read on it (``value_of(plate track, its code)``, None: none) as its value (``8_1_1_n150``)."""
        out = []
        for plate in self.plate_tracks(sign_track):
            class_id = label_of(plate)
            if class_id is not None and self.is_plate(class_id):
                code = self.labels[class_id]
                out.append(make_label(code, value_of(plate, code)))
        return tuple(out)
