"""Plates belong to the sign above them: binding geometry, what they mean, how they are spoken."""

from __future__ import annotations

import numpy as np
import pytest

from astute_cli.announcer import Announcer
from astute_cli.plates import PlateBinder, applies_to, is_conditional
from astute_cli.signs import phrase_with_plates, plate_phrase
from astute_cli.types import Announcement, Detections

LABELS = ["1_23", "3_24_n40", "8_1_1", "8_4_1", "8_5_4", "8_23", "background"]
SIGN = [100, 100, 130, 130]  # a 30 px sign


def tracked(rows: list[tuple[list[float], int, int]]) -> Detections:
    """Detections from (box, class id, track id) rows."""
    return Detections(np.array([r[0] for r in rows], np.float32).reshape(-1, 4), np.full(len(rows), 0.9),
                      np.array([r[1] for r in rows]), np.array([r[2] for r in rows]))


@pytest.mark.parametrize(
    ("plate_box", "bound"),
    [
        pytest.param([100, 132, 130, 142], True, id="right-under"),
        pytest.param([95, 135, 135, 147], True, id="under-slightly-wider"),
        pytest.param([110, 150, 140, 160], True, id="gap-of-two-thirds-and-offset"),
        pytest.param([100, 170, 130, 180], False, id="too-far-below"),
        pytest.param([160, 132, 190, 142], False, id="beside-not-under"),
        pytest.param([100, 80, 130, 90], False, id="above-the-sign"),
    ],
)
def test_plate_binds_to_the_sign_above_it(plate_box, bound):
    binder = PlateBinder(LABELS)
    binder.update(tracked([(SIGN, 0, 1), (plate_box, 2, 2)]))
    assert binder.plates_of(1, lambda track: {1: 0, 2: 2}[track]) == (("8_1_1",) if bound else ())


def test_two_plates_bind_top_first_and_the_nearest_sign_wins():
    binder = PlateBinder(LABELS)
    other_sign = [100, 40, 130, 70]  # a second sign higher on the same pole
    binder.update(tracked([(other_sign, 1, 5), (SIGN, 0, 1), ([100, 146, 130, 156], 4, 3),
                           ([100, 132, 130, 142], 3, 2)]))
    votes = {1: 0, 5: 1, 2: 3, 3: 4}
    assert binder.plates_of(1, votes.get) == ("8_4_1", "8_5_4")
    assert binder.plates_of(5, votes.get) == ()


def test_background_and_untracked_boxes_carry_no_plate():
    binder = PlateBinder(LABELS)
    binder.update(tracked([(SIGN, 6, 1), ([100, 132, 130, 142], 2, 2), (SIGN, 0, -1)]))
    assert binder.plates_of(1, lambda t: 6) == () and binder.plates_of(-1, lambda t: 0) == ()
    assert binder.is_plate(2) and not binder.is_plate(5) and not binder.is_plate(0)  # 8_23 stands alone


@pytest.mark.parametrize(
    ("plates", "vehicle", "applies"),
    [
        pytest.param((), "car", True, id="no-plate"),
        pytest.param(("8_4_1",), "car", False, id="trucks-only-car"),
        pytest.param(("8_4_1",), "truck", True, id="trucks-only-truck"),
        pytest.param(("8_4_3",), "car", True, id="cars-only-car"),
        pytest.param(("8_4_4",), "truck", False, id="buses-only-truck"),
        pytest.param(("8_4_7",), "car", False, id="bicycles-only-car"),
        pytest.param(("8_4_10",), "car", False, id="except-cars-car"),
        pytest.param(("8_4_10",), "bus", True, id="except-cars-bus"),
        pytest.param(("8_4_14",), "car", True, id="except-taxis-car"),
        pytest.param(("8_5_4", "8_4_1"), "truck", True, id="time-and-trucks-truck"),
        pytest.param(("8_1_1_n150",), "bus", True, id="distance-plate"),
    ],
)
def test_vehicle_plates(plates, vehicle, applies):
    assert applies_to(plates, vehicle) is applies


@pytest.mark.parametrize(
    ("plates", "conditional"),
    [pytest.param(("8_5_1",), True, id="weekends"), pytest.param(("8_5_7",), True, id="days-and-times"),
     pytest.param(("8_4_1",), False, id="vehicle"), pytest.param((), False, id="none")],
)
def test_day_and_time_plates_are_conditional(plates, conditional):
    assert is_conditional(plates) is conditional


@pytest.mark.parametrize(
    ("code", "value", "plates", "ru", "en"),
    [
        pytest.param("1_23", None, ("8_1_1_n150",), "Дети, через 150 метров", "Children, in 150 metres",
                     id="children-150m"),
        pytest.param("1_23", None, ("8_1_1",), "Дети, впереди", "Children, ahead", id="distance-unread"),
        pytest.param("1_25", None, ("8_1_1_n1",), "Дорожные работы, через 1 метр", "Roadworks, in 1 metre",
                     id="one-metre"),
        pytest.param("3_24", 40, ("8_4_1",), "Ограничение скорости 40, для грузовых",
                     "Speed limit 40 km/h, for trucks", id="limit-for-trucks"),
        pytest.param("3_24", 60, ("8_4_9",), "Ограничение скорости 60, кроме грузовых",
                     "Speed limit 60 km/h, except trucks", id="limit-except-trucks"),
        pytest.param("3_27", None, ("8_2_1_n200",), "Остановка запрещена, на протяжении 200 метров",
                     "No stopping, for the next 200 metres", id="zone-length"),
        pytest.param("1_23", None, ("8_2_1_n1000",), "Дети, на протяжении 1 километра",
                     "Children, for the next 1 kilometre", id="zone-of-one-kilometre-genitive"),
        pytest.param("3_27", None, ("8_2_1_n2000",), "Остановка запрещена, на протяжении 2 километров",
                     "No stopping, for the next 2 kilometres", id="zone-of-two-kilometres-genitive"),
        pytest.param("3_27", None, ("8_2_2_n1500",), "Остановка запрещена, на протяжении 1,5 километра",
                     "No stopping, for the next 1.5 kilometres", id="zone-of-a-fraction-genitive"),
        pytest.param("3_27", None, ("8_2_1_n21",), "Остановка запрещена, на протяжении 21 метра",
                     "No stopping, for the next 21 metres", id="zone-of-21-metres-genitive"),
        pytest.param("1_25", None, ("8_1_1_n2000",), "Дорожные работы, через 2 километра", "Roadworks, in 2 kilometres",
                     id="distance-of-two-kilometres-accusative"),
        pytest.param("3_28", None, ("8_2_3",), "Стоянка запрещена, конец зоны", "No parking, end of zone",
                     id="end-of-zone"),
        pytest.param("3_24", 30, ("8_5_2", "8_5_4"), "Ограничение скорости 30, в рабочие дни, в указанное время",
                     "Speed limit 30 km/h, on working days, at the hours shown", id="days-and-time"),
        pytest.param("5_23_1", None, ("8_5_1",), "Начало населённого пункта, в выходные и праздничные дни",
                     "Built-up area, on weekends and holidays", id="weekends"),
        pytest.param("1_23", None, ("8_1_3_n50",), "Дети, через 50 метров направо",
                     "Children, in 50 metres to the right", id="distance-right"),
        pytest.param("2_1", None, ("8_13",), "Главная дорога, направление главной дороги",
                     "Priority road, direction of priority road", id="plate-by-its-name"),
        pytest.param("1_23", None, (), "Дети", "Children", id="no-plate"),
    ],
)
def test_sign_with_plate_phrase(code, value, plates, ru, en):
    assert phrase_with_plates(code, value, plates, "ru") == ru
    assert phrase_with_plates(code, value, plates, "en") == en


def test_every_vehicle_and_day_plate_has_words_in_both_languages():
    for code in [f"8_4_{i}" for i in range(1, 16)] + [f"8_5_{i}" for i in range(1, 8)]:
        ru, en = plate_phrase(code, "ru"), plate_phrase(code, "en")
        assert ru and en and ru != en and not ru[0].isupper(), code


def _frames(n: int, plate: bool = True) -> list[Detections]:
    out = []
    for i in range(n):
        s = 20 + 2 * i
        rows = [([100, 100, 100 + s, 100 + s], 0, 1)]
        if plate:
            rows.append(([100, 102 + s, 100 + s, 102 + s + s // 3], 2, 2))
        out.append(tracked(rows))
    return out


@pytest.mark.parametrize(
    ("lang", "text"),
    [pytest.param("ru", "Дети, впереди", id="ru"), pytest.param("en", "Children, ahead", id="en")],
)
def test_announcer_says_the_sign_with_its_plate_once_and_never_the_plate_alone(lang, text):
    announcer = Announcer(LABELS, fps=10, lang=lang)
    alerts: list[Announcement] = []
    for i, frame in enumerate(_frames(12)):
        alerts += announcer.update(frame, i)
    assert [(a.sign, a.text, a.plates) for a in alerts] == [("1_23", text, ("8_1_1",))]
    assert alerts[0].to_event()["plates"] == [{"sign": "8_1_1", "value": None}]


def test_a_lone_plate_is_never_announced():
    announcer = Announcer(LABELS, fps=10)
    lone = [tracked([([100, 100, 130 + i, 110 + i], 2, 7)]) for i in range(12)]
    assert [a for i, frame in enumerate(lone) for a in announcer.update(frame, i)] == []


def test_a_sign_without_plate_keeps_its_event_record():
    announcer = Announcer(LABELS, fps=10)
    alerts = [a for i, frame in enumerate(_frames(6, plate=False)) for a in announcer.update(frame, i)]
    assert len(alerts) == 1 and alerts[0].plates == () and "plates" not in alerts[0].to_event()


@pytest.mark.parametrize(
    ("plate_widths", "alert_frame", "plates", "sign_px"),
    [
        pytest.param([10, 12, 14, 16, 18, 19, 20, 21, 22, 23, 24, 25], 5, ("8_4_1",), 30, id="waits-for-the-plate"),
        pytest.param([10] * 12, 11, (), 30, id="gives-up-1s-after-due"),
        pytest.param([None] * 12, 1, (), 30, id="no-plate-no-wait"),
        pytest.param([10] * 12, 1, (), 48, id="a-near-sign-waits-for-no-plate"),
    ],
)
def test_a_sign_waits_for_a_plate_still_too_small_to_read(plate_widths, alert_frame, plates, sign_px):
    announcer = Announcer(LABELS, fps=10)  # waits at most 1 s = 10 frames, and not once the sign is 48 px wide
    alerts = []
    for i, width in enumerate(plate_widths):
        rows = [([100, 100, 100 + sign_px, 100 + sign_px], 1, 1)]  # a 3.24 40, readable from the first frame
        if width is not None:
            rows.append(([100, 131, 100 + width, 131 + width / 3], 3, 2))  # its trucks-only plate
        alerts += announcer.update(tracked(rows), i)
    assert [(a.frame_index, a.plates) for a in alerts] == [(alert_frame, plates)]


def _with_plate_reading(frame: int, plate_from: int | None, read_from: int | None) -> Detections:
    """Frame ``frame`` of a 30 px 1.23 (track 1) with, from ``plate_from``, a 24 px 8.1.1 plate under it (track 2)
    whose "150 м" is read from ``read_from`` on (None: never)."""
    rows = [(SIGN, 0, 1)]
    if plate_from is not None and frame >= plate_from:
        rows.append(([103, 132, 127, 140], 2, 2))
    found = tracked(rows)
    read = read_from is not None and frame >= read_from
    found.value = np.array([np.nan] + [150.0 if read else np.nan] * (len(rows) - 1), np.float32)
    found.value_confidence = np.array([0.0] + [0.9 if read else 0.0] * (len(rows) - 1), np.float32)
    return found


@pytest.mark.parametrize(
    ("plate_from", "read_from", "texts"),
    [
        pytest.param(0, 0, ["Дети, через 150 метров"], id="plate-and-number-in-time-one-alert"),
        pytest.param(5, 5, ["Дети", "Дети, через 150 метров"], id="plate-found-late-completes-the-alert"),
        pytest.param(0, 14, ["Дети, впереди", "Дети, через 150 метров"], id="number-read-late-completes-it"),
        pytest.param(5, None, ["Дети"], id="a-plate-never-read-adds-nothing"),
        pytest.param(None, None, ["Дети"], id="no-plate"),
    ],
)
def test_a_plate_read_after_its_sign_was_said_completes_the_alert_once(plate_from, read_from, texts):
    announcer = Announcer(LABELS, fps=10)
    alerts = [a for i in range(24) for a in announcer.update(_with_plate_reading(i, plate_from, read_from), i)]
    assert [a.text for a in alerts] == texts
    assert {a.track_id for a in alerts} == {1}


def test_a_look_at_other_tracks_keeps_a_sign_waiting_for_its_plate():
    binder = PlateBinder(LABELS)
    binder.update(tracked([(SIGN, 1, 1), ([100, 131, 110, 134], 3, 2)]))  # a 10 px plate: not yet readable
    assert binder.unread(1) and binder.sign_of(2) == 1 and binder.sign_of(9) is None
    binder.update(tracked([([300, 100, 330, 130], 0, 5)]))  # a look between scans at another sign only
    assert binder.unread(1)
    binder.update(tracked([(SIGN, 1, 1)]))  # the sign seen again without the plate
    assert not binder.unread(1)


@pytest.mark.parametrize(
    ("frames", "read_from", "texts", "expected"),
    [
        pytest.param(1, None, [], [True, True], id="sign-not-said-both-looked-at"),
        pytest.param(12, None, ["Дети, впереди"], [False, True], id="said-plate-number-unread"),
        pytest.param(12, 0, ["Дети, через 150 метров"], [False, False], id="said-with-the-plate-number"),
    ],
)
def test_undecided_looks_at_a_plate_while_its_sign_or_number_waits(frames, read_from, texts, expected):
    announcer = Announcer(LABELS, fps=10)
    alerts = [a for i in range(frames) for a in announcer.update(_with_plate_reading(i, 0, read_from), i)]
    assert [a.text for a in alerts] == texts
    assert announcer.undecided(_with_plate_reading(frames, 0, read_from)).tolist() == expected  # sign, plate


@pytest.mark.parametrize(
    ("plate_width", "texts"),
    [
        pytest.param(24, ["Дети, через 150 метров"], id="read-at-24-px-votes"),
        pytest.param(20, ["Дети, впереди"], id="read-at-20-px-does-not-vote"),  # said once its wait is over
    ],
)
def test_plate_numbers_vote_only_from_a_readable_width(plate_width, texts):
    announcer = Announcer(LABELS, fps=10)
    alerts = []
    for i in range(24):
        found = tracked([(SIGN, 0, 1), ([103, 132, 103 + plate_width, 140], 2, 2)])
        found.value = np.array([np.nan, 150.0], np.float32)
        found.value_confidence = np.array([0.0, 0.9], np.float32)
        alerts += announcer.update(found, i)
    assert [a.text for a in alerts] == texts
