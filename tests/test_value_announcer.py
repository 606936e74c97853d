"""The announcer with a detector that reads values: the number voted over the track's views (bigger views weigh
more), said once sure, or said without the number and completed once read; one alert plus one correction."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from astute_cli.announcer import Announcer, _tally_values
from astute_cli.types import Detections

KINDS = ["3_24", "3_11", "3_13", "5_19_1", "4_7"]
NAN = float("nan")


def view(kind: str, value: float, width: float = 30.0, confidence: float = 0.9, track: int = 1) -> Detections:
    return Detections(np.array([[100, 100, 100 + width, 100 + width]], np.float32), [0.8], [KINDS.index(kind)],
                      track_id=[track], value=[value], value_confidence=[0.0 if np.isnan(value) else confidence])


MECHANISM = {"value_votes": 2, "value_wait": 4, "value_say_width_px": 0.0}
"""The vote at fixed settings (the defaults are chosen by ``benchmarks/value_timing.py`` and may move)."""


def said(views: list[Detections], **options) -> list[tuple[int, str, float | None, str]]:
    announcer = Announcer(KINDS, fps=10, **{**MECHANISM, **options})
    return [(a.frame_index, a.sign, a.value, a.text) for i, d in enumerate(views) for a in announcer.update(d, i)]


@pytest.mark.parametrize(
    ("views", "options", "alerts"),
    [
        pytest.param([view("3_24", 110), view("3_24", 110)], {},
                     [(1, "3_24", 110, "Ограничение скорости 110")], id="sure-number-said-with-the-kind"),
        pytest.param([view("3_24", 10), view("3_24", 110), view("3_24", 110), view("3_24", 110)], {},
                     [(2, "3_24", 110, "Ограничение скорости 110")], id="waits-for-the-number"),
        pytest.param([view("3_11", 15)] * 3, {},
                     [(1, "3_11", 15, "Ограничение массы 15 тонн")], id="weight-limit"),
        pytest.param([view("3_13", 3.8)] * 2, {"lang": "en"},
                     [(1, "3_13", 3.8, "Height limit 3.8 metres")], id="height-limit-en"),
        pytest.param([view("3_24", NAN)] * 4 + [view("3_24", 90)] * 2, {"value_wait": 2},
                     [(3, "3_24", None, "Ограничение скорости"), (5, "3_24", 90, "Ограничение скорости 90")],
                     id="said-without-number-then-completed"),
        pytest.param([view("3_24", NAN)] * 4 + [view("3_24", 90)] * 2 + [view("3_24", 60)] * 8, {"value_wait": 2},
                     [(3, "3_24", None, "Ограничение скорости"), (5, "3_24", 90, "Ограничение скорости 90")],
                     id="completion-is-the-one-correction"),
        pytest.param([view("3_24", NAN)] * 6, {"value_wait": -1}, [], id="never-without-the-number"),
        pytest.param([view("3_24", 60)] * 2 + [view("3_24", 80, width=60)] * 5, {},
                     [(1, "3_24", 60, "Ограничение скорости 60"), (5, "3_24", 80, "Ограничение скорости 80")],
                     id="corrected-once-by-nearer-views"),
        pytest.param([view("5_19_1", NAN)] * 2, {}, [(1, "5_19_1", None, "Пешеходный переход")],
                     id="sign-without-value"),
        pytest.param([view("4_7", NAN)] * 2, {"value_wait": -1}, [(1, "4_7", None, "Конец минимальной скорости")],
                     id="a-number-the-reader-does-not-read-is-not-waited-for"),
        pytest.param([view("3_24", 60, width=12)] * 4, {}, [], id="too-small-to-vote"),
        pytest.param([view("3_24", 60, width=20)] * 3 + [view("3_24", 80, width=26)] * 2, {"value_min_width_px": 24},
                     [(4, "3_24", 80, "Ограничение скорости 80")], id="number-only-from-readable-widths"),
        pytest.param([view("3_24", NAN, width=20)] * 8, {"value_min_width_px": 24, "value_wait": 2}, [],
                     id="no-bare-alert-while-still-small"),
        pytest.param([view("3_24", NAN, width=20)] * 4 + [view("3_24", NAN, width=26)] * 3,
                     {"value_min_width_px": 24, "value_wait": 2},
                     [(6, "3_24", None, "Ограничение скорости")], id="the-wait-counts-from-readable-widths"),
        pytest.param([view("3_24", NAN, width=30)] * 3 + [view("3_24", NAN, width=50)], {"value_wait": -1,
                     "value_say_width_px": 48}, [(3, "3_24", None, "Ограничение скорости")], id="said-bare-once-near"),
        pytest.param([view("3_24", NAN, width=30)] * 9, {"value_wait": -1, "value_say_width_px": 48}, [],
                     id="a-far-sign-waits-for-its-number"),
        pytest.param([view("3_24", 90, width=30)] * 2 + [view("3_24", 90, width=50)], {"value_wait": -1,
                     "value_votes": 3, "value_say_width_px": 48}, [(2, "3_24", 90, "Ограничение скорости 90")],
                     id="near-and-read-said-with-the-number"),
        pytest.param([view("3_24", 20, confidence=0.1)] * 4 + [view("3_24", 90)] * 2, {"value_wait": -1},
                     [(5, "3_24", 90, "Ограничение скорости 90")], id="unsure-readings-do-not-vote"),
    ],
)
def test_value_alerts(views, options, alerts):
    assert said(views, **options) == alerts


@pytest.mark.parametrize(("votes", "first"), [
    pytest.param(2, 1, id="two-readings"),
    pytest.param(3, 2, id="three-readings"),
])
def test_the_number_waits_for_its_readings(votes, first):
    assert said([view("3_24", 90)] * 4, value_votes=votes) == [(first, "3_24", 90, "Ограничение скорости 90")]


def test_bigger_views_weigh_more():
    readings = deque([("3_24", 60.0, 20.0), ("3_24", 60.0, 20.0), ("3_24", 90.0, 50.0), ("3_11", 15.0, 99.0)])
    value, count, share = _tally_values(readings, "3_24")
    assert (value, count) == (90.0, 1)
    assert share == pytest.approx(50 / 90)
    assert _tally_values(readings, "3_13") == (None, 0, 0.0)


def test_the_number_of_another_kind_is_not_said():
    """Readings made while the track looked like a weight limit do not become a speed limit's number."""
    views = [view("3_11", 15)] + [view("3_24", 15)] + [view("3_24", NAN)] * 3
    assert said(views, min_share=0.5, value_wait=-1) == []  # one 3_24 reading of 15: not yet sure


def test_event_of_a_value_alert_has_unit():
    announcer = Announcer(KINDS, fps=10)
    alerts = [a for i, d in enumerate([view("3_13", 3.8)] * announcer.value_votes) for a in announcer.update(d, i)]
    assert alerts[0].to_event()["value"] == 3.8 and alerts[0].unit == "m" and alerts[0].label == "3_13_r3.8"
