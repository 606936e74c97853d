"""Kinds and values of valued signs: the crop classifier says which kind of sign it is, the value reader reads
the number, and the printed unit settles kinds that look alike.

The classifier was trained on RTSD's value classes (``3_24_n60``, ``3_13_r3.5``): its probabilities are summed
per kind (``3_24``), so a far 15 t sign whose probability is spread over ``3_11_n13 … n17`` still wins over one
``3_24_n10``. The kind then picks the reader (when one is bundled); the reader's unit can overrule it: a printed
"т" is a weight sign (3.11/3.12), never a speed limit; a printed "м" a height, width, length or distance; a number
with a decimal comma is never a speed. Kinds the classifier tells apart by their look (the blue disc of 4.6, the
square of 6.2, the stripes of 3.25) keep their own probabilities: within the kinds a unit allows, the
classifier's best wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Protocol

import numpy as np

from astute_cli import signs
from astute_cli.types import Reading

UNIT_KINDS: dict[str, frozenset[str]] = {
    **{unit: frozenset(kind for kind, rule in signs.VALUE_RANGES.items() if rule.printed == unit)
       for unit in ("t", "m")},
    "km": frozenset({"distance"}),
}
"""Value kinds a printed unit allows (``km`` is printed on plates only)."""


class Reader(Protocol):
    """What the detector needs of a value reader (``reader.ValueReader``)."""

    def read(self, image: np.ndarray, xyxy: np.ndarray, codes: Sequence[str]) -> list[Reading]: ...


def value_kind(code: str) -> str | None:
    """What the number on this sign measures (``speed``, ``height``, ``weight``…), or None."""
    return signs.lookup(code).value_kind


def is_valued(code: str) -> bool:
    """True for a sign that carries a number (3.24, 3.13, 8.1.1…)."""
    return value_kind(code) is not None


def printed(reading: Reading) -> tuple[float | None, str | None]:
    """The number (as printed) and unit a reading shows: its value and unit, or, where the reader dropped the
    value (a "т" read on a box it was told is a speed limit is implausible *for that kind*), what its text says."""
    if reading.value is not None and math.isfinite(reading.value):
        return float(reading.value), reading.unit
    number, unit = signs.parse_printed(reading.text)
    return (number, unit) if number is not None else (None, reading.unit)


def in_catalogue_unit(reading: Reading) -> float | None:
    """The reading's number in the unit the catalogue uses for its kind: km become metres, others unchanged."""
    number, unit = printed(reading)
    if number is None:
        return None
    return number * 1000.0 if unit == "km" else number


@cache
def reader_reads(code: str) -> bool:
    """Whether the bundled reader reads this kind (its ``reader.kind_of`` knows where the kind prints its value);
    True while no reader module is installed (a reader given by the caller is trusted)."""
    try:
        from astute_cli.reader import kind_of
    except ImportError:
        return True
    try:
        kind_of(code)
    except (ValueError, KeyError):
        return False
    return True


def number_read(code: str) -> bool:
    """Whether a sign of this code gets its number read off its face: it carries one and the reader reads its kind
    (4.7, the end of a minimum speed, carries one the reader does not read: it is said without it, not waited on)."""
    return is_valued(code) and reader_reads(code)


def compatible(code: str, reading: Reading | None) -> bool:
    """Whether a reading can come from a sign of this code: its unit must be one the kind prints, and a number
    without a unit on a speed sign must be whole (speeds have no decimal comma). An implausible whole number
    (a misread) rules out no kind: it only gives no value (see :func:`plausible`)."""
    if reading is None:
        return True
    number, unit = printed(reading)
    if number is None and unit is None:
        return True
    kind = value_kind(code)
    if kind is None:
        return False
    if unit is not None:
        if unit == "km" and not signs.is_of_group_8(code):
            return False
        return kind in UNIT_KINDS.get(unit, frozenset())
    if kind == "speed":
        number = in_catalogue_unit(reading)
        return number is None or float(number).is_integer()
    return True  # a height or weight whose small unit was not read


def number_for(code: str, reading: Reading | None) -> float | None:
    """The number a reading gives a sign of this code (catalogue unit), or None: unread, a unit the kind does
    not print, or a value the kind cannot carry."""
    if reading is None or not compatible(code, reading):
        return None
    number = in_catalogue_unit(reading)
    return number if signs.plausible_value(code, number) else None


def choose_kind(probabilities: np.ndarray, kinds: Sequence[str], reading: Reading | None) -> int:
    """The kind of one sign: the classifier's most probable kind, unless the reading rules it out; then the
    most probable kind the reading allows (a "т" moves a speed limit to a weight limit). A reading no kind
    allows leaves the classifier's choice."""
    probabilities = np.asarray(probabilities, np.float64)
    best = int(probabilities.argmax())
    if compatible(kinds[best], reading):
        return best
    allowed = np.array([is_valued(k) and compatible(k, reading) for k in kinds], bool)
    if not allowed.any():
        return best
    return int(np.flatnonzero(allowed)[probabilities[allowed].argmax()])


class KindMap:
    """The classifier's labels folded into kinds: ``3_24_n60`` and ``3_24_n80`` are both kind ``3_24``; a label
    without a value is its own kind.

    Attributes:
        kinds: the kind labels, in the order of their first label.
        kind_of: (labels,) int64 the kind index of each label.
        label_value: (labels,) float32 the value a label names, NaN for none.
    """

    def __init__(self, labels: Sequence[str]) -> None:
        self.kinds: list[str] = []
        index: dict[str, int] = {}
        kind_of, values = [], []
        for label in labels:
            code, value = signs.parse_label(label)
            kind = code if value is not None else str(label)
            if kind not in index:
                index[kind] = len(self.kinds)
                self.kinds.append(kind)
            kind_of.append(index[kind])
            values.append(np.nan if value is None else value)
        self.kind_of = np.array(kind_of, np.int64)
        self.label_value = np.array(values, np.float32)
        self._fold = np.zeros((len(kind_of), len(self.kinds)), np.float32)
        self._fold[np.arange(len(kind_of)), self.kind_of] = 1.0

    def collapse(self, probabilities: np.ndarray) -> np.ndarray:
        """(N, labels) probabilities → (N, kinds), summed over each kind's labels."""
        return np.asarray(probabilities, np.float32) @ self._fold

    def label_values(self, probabilities: np.ndarray, kind_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The classifier's own reading of the value, for a detector without a reader: per row, the value of the
        most probable label of the row's kind and that label's share of the kind's probability ((N,) values,
        NaN for kinds without value labels; (N,) confidences)."""
        probabilities = np.asarray(probabilities, np.float32)
        kind_ids = np.asarray(kind_ids, np.int64)
        mask = (self.kind_of[None, :] == kind_ids[:, None]) & ~np.isnan(self.label_value)[None, :]
        masked = np.where(mask, probabilities, -1.0)
        best = masked.argmax(axis=1)
        rows = np.arange(len(kind_ids))
        has = mask[rows, best]
        total = np.where(mask, probabilities, 0.0).sum(axis=1)
        value = np.where(has, self.label_value[best], np.nan).astype(np.float32)
        confidence = np.where(has, probabilities[rows, best] / np.maximum(total, 1e-9), 0.0).astype(np.float32)
        return value, confidence
