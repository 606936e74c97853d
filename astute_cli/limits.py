"""The speed limit in force, by the Russian traffic rules (ПДД 10.2–10.3, GOST R 52289-2019 §5.4, 5.6).

A stateful stage after the announcer: it reads each alert (with the plates bound to its sign) and keeps what the
rules say about the road the car is on: the type of place (settlement, outside, motorway), a residential zone, a
speed-limit zone (5.31) and a 3.24 limit. ``update`` returns a :class:`LimitChange` when the limit in force
changes. A sign's second alert (its one correction: another value, or a plate read late) replaces its first one
when no other sign was applied in between. Example::

    limit = SpeedLimit(vehicle="car")
    for frame_index, alerts in enumerate(per_frame_alerts):
        change = limit.update(alerts, frame_index, frame_index / fps)
        if change is not None:
            print(change.to_event())   # {"t": 1.36, "frame": 34, "limit": 60, "sign": "5_23_1"}

What the rules say and a camera cannot know (the end of a 3.24 at the next intersection, a truck's mass, the
time on an 8.5 plate) and the choices made are in ``docs/design.md`` ("The speed limit in force").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from astute_cli import plates
from astute_cli.types import Announcement

VEHICLES = ("car", "truck", "bus")

PLACE_LIMITS_KMH: dict[str, dict[str, int]] = {
    # ПДД 10.2: in a settlement 60 for everyone, 20 in a residential zone.
    # ПДД 10.3: outside settlements cars (and trucks up to 3.5 t) 90, 110 on motorways; trucks over 3.5 t and
    # buses other than intercity/small ones 70, 90 on motorways (intercity and small buses may do 90 on every
    # road: ``bus`` takes the lower, general bus limit).
    "car": {"settlement": 60, "residential": 20, "outside": 90, "motorway": 110},
    "truck": {"settlement": 60, "residential": 20, "outside": 70, "motorway": 90},
    "bus": {"settlement": 60, "residential": 20, "outside": 70, "motorway": 90},
}
"""The implicit limit of each kind of place, km/h, by vehicle (``truck``: over 3.5 t)."""

LIMIT_SIGNS: dict[str, str] = {
    # sign code (or its base) -> what it does to the state
    # a town's name on white: the town's rules from here (60); its end: outside (90). The same names on blue (5.25,
    # 5.26) mark a settlement where the town's rules do *not* apply on this road (ПДД, appendix 1): no change.
    "5_23": "enter_settlement", "5_24": "leave_settlement",
    "5_1": "enter_motorway", "5_2": "leave_motorway",         # 110 / back to 90
    "5_21": "enter_residential", "5_22": "leave_residential",  # 20 / back to the town's 60
    "5_31": "enter_zone", "5_32": "leave_zone",               # speed-limit zone with its value / end
    "3_24": "limit", "3_25": "end_limit", "3_31": "end_limit",  # max speed / end of it / end of all restrictions
    # intersection ahead or here (a 3.24 ends at the next intersection, ПДД 3.24 zone of action)
    "1_6": "intersection", "1_7": "intersection", "2_1": "intersection", "2_3": "intersection",
    "2_4": "intersection", "2_5": "intersection",
}
"""Signs that change the limit in force, and how (the facts; :class:`SpeedLimit` is the logic)."""


def limit_action(code: str) -> str | None:
    """What a sign does to the limit in force (a key of ``LIMIT_SIGNS``' values), or None; matched on the code or
    its base (``5_23_1`` -> ``5_23``, ``2_3_4`` -> ``2_3``)."""
    parts = code.split("_")
    for n in range(len(parts), 1, -1):
        action = LIMIT_SIGNS.get("_".join(parts[:n]))
        if action is not None:
            return action
    return None


@dataclass(frozen=True)
class LimitChange:
    """The limit in force from frame ``frame`` (time ``t``) on: ``limit`` km/h or None when unknown, set by
    ``sign``; ``conditional`` when an 8.5 plate (days, times) restricts it."""

    t: float
    frame: int
    limit: int | None
    sign: str | None
    conditional: bool = False

    def to_event(self) -> dict:
        """The record in the events file's ``speed_limits`` list (``conditional`` only when true)."""
        out: dict = {"t": round(self.t, 3), "frame": self.frame, "limit": self.limit, "sign": self.sign}
        if self.conditional:
            out["conditional"] = True
        return out


class SpeedLimit:
    """Track the speed limit in force from the alerts.

    Args:
        vehicle: ``car`` (default), ``truck`` (over 3.5 t) or ``bus``: picks the implicit limits and which
            plated signs (8.4.x) apply.
        place: the kind of place at the start (``settlement``, ``outside``, ``motorway``), or None: unknown
            until a sign says (the limit is None until then unless a 3.24 or 5.31 gives one).
    """

    def __init__(self, vehicle: str = "car", place: str | None = None) -> None:
        if vehicle not in VEHICLES:
            raise ValueError(f"Unknown vehicle {vehicle!r}: use one of {', '.join(VEHICLES)}")
        if place is not None and place not in ("settlement", "outside", "motorway"):
            raise ValueError(f"Unknown place {place!r}: use settlement, outside or motorway")
        self.vehicle = vehicle
        self.start_place = place
        self.reset()

    def reset(self) -> None:
        """Forget the road: back to the starting place, no limit signs seen."""
        self.place: str | None = self.start_place
        self.residential = False
        self.zone: tuple[int, str, bool] | None = None   # (km/h, sign, conditional) of a 5.31
        self.posted: tuple[int, str, bool] | None = None  # (km/h, sign, conditional) of a 3.24
        self.capped = False  # an intersection hint was seen while a 3.24 above the place's limit was in force
        self._implicit_sign: str | None = None
        self._current = self.current()
        self._last: tuple[int, tuple] | None = None  # (track, the state before its alert) of the last alert applied

    def current(self) -> tuple[int | None, str | None, bool]:
        """(limit km/h or None, the sign that set it, conditional) now."""
        implicit = self._implicit()
        if self.posted is not None:
            value, sign, conditional = self.posted
            if self.capped and implicit[0] is not None and implicit[0] < value:
                return implicit
            return value, sign, conditional
        if self.zone is not None:
            return self.zone
        return implicit

    @property
    def limit(self) -> int | None:
        """The limit in force now, km/h, or None when unknown."""
        return self.current()[0]

    def update(self, announcements: Iterable[Announcement], frame_index: int, t: float) -> LimitChange | None:
        """Apply this frame's alerts; return the new limit when it (or its being conditional) changed, else None
        (a sign that confirms the limit in force, such as a 3.24 60 in a town, is no change)."""
        for a in announcements:
            track = getattr(a, "track_id", -1)
            if track >= 0 and self._last is not None and self._last[0] == track:
                self._restore(self._last[1])  # a correction of the last sign applied: it replaces that alert
            self._last = (track, self._state()) if track >= 0 else None
            self.apply(a.sign, a.value, getattr(a, "plates", ()))
        now = self.current()
        if (now[0], now[2]) == (self._current[0], self._current[2]):
            return None
        self._current = now
        return LimitChange(t=t, frame=frame_index, limit=now[0], sign=now[1], conditional=now[2])

    def apply(self, code: str, value: float | None = None, plate_labels: Iterable[str] = ()) -> None:
        """Change the state for one sign (with the labels of the plates under it)."""
        action = limit_action(code)
        plate_labels = tuple(plate_labels)
        if action is None or not plates.applies_to(plate_labels, self.vehicle):
            return
        conditional = plates.is_conditional(plate_labels)
        limit = round(value) if value is not None and value > 0 else None
        if action in ("enter_settlement", "leave_settlement", "enter_motorway", "leave_motorway"):
            self.place = {"enter_settlement": "settlement", "enter_motorway": "motorway"}.get(action, "outside")
            self.residential = False
            self.zone = None
            self.posted = None  # ПДД: a 3.24 ends at the end of a settlement; a new kind of road starts afresh
            self._implicit_sign = code
        elif action == "enter_residential":
            self.residential, self.posted, self._implicit_sign = True, None, code
            self.place = self.place or "settlement"
        elif action == "leave_residential":
            self.residential, self._implicit_sign = False, code
            self.place = self.place or "settlement"  # back to the town's limit
        elif action == "enter_zone" and limit is not None:
            self.zone, self.posted = (limit, code, conditional), None
        elif action == "leave_zone":
            self.zone, self._implicit_sign = None, code
        elif action == "limit" and limit is not None:
            self.posted, self.capped = (limit, code, conditional), False
        elif action == "end_limit":
            if self.posted is not None:
                self.posted, self.capped = None, False
                self._implicit_sign = code
        elif action == "intersection" and self.posted is not None:
            self.capped = True

    def _state(self) -> tuple:
        return self.place, self.residential, self.zone, self.posted, self.capped, self._implicit_sign

    def _restore(self, state: tuple) -> None:
        self.place, self.residential, self.zone, self.posted, self.capped, self._implicit_sign = state

    def _implicit(self) -> tuple[int | None, str | None, bool]:
        if self.residential:
            return PLACE_LIMITS_KMH[self.vehicle]["residential"], self._implicit_sign, False
        if self.place is None:
            return None, self._implicit_sign, False
        return PLACE_LIMITS_KMH[self.vehicle][self.place], self._implicit_sign, False


def timeline(changes: Iterable[LimitChange]) -> list[dict]:
    """The events file's ``speed_limits`` list."""
    return [c.to_event() for c in changes]
