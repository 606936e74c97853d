"""The speed limit in force (ПДД 10.2–10.3): rules by table, vehicles, plates, the events key, the CLI option."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from astute_cli.cli import app
from astute_cli.limits import LIMIT_SIGNS, PLACE_LIMITS_KMH, LimitChange, SpeedLimit, limit_action
from astute_cli.pipeline import annotate
from astute_cli.signs import parse_label
from astute_cli.types import Announcement
from tests.conftest import make_video
from tests.fakes import FakeDetector, FirstSightAnnouncer, IdentityTracker, make_detections


class ParsingAnnouncer(FirstSightAnnouncer):
    """Announces each track the first time it is seen, with the sign and value of its label."""

    def update(self, detections, frame_index):
        return [alert(a.label, frame=frame_index, fps=self.fps) for a in super().update(detections, frame_index)]


def alert(label: str, plates: tuple[str, ...] = (), frame: int = 0, fps: float = 25.0,
          track: int | None = None) -> Announcement:
    """An alert of ``label`` at ``frame``; its track is ``track`` (default: one of its own, numbered as the frame)."""
    code, value = parse_label(label)
    return Announcement(frame, frame / fps, frame if track is None else track, 0, label, code, value, None, label,
                        (0, 0, 1, 1), 1, plates)


def drive(signs: list, vehicle: str = "car", place: str | None = None) -> list[int | None]:
    """The limit after each sign (a sign is a label or (label, plates))."""
    limit = SpeedLimit(vehicle, place)
    out = []
    for i, sign in enumerate(signs):
        label, plates = (sign, ()) if isinstance(sign, str) else sign
        limit.update([alert(label, plates, i)], i, i / 25)
        out.append(limit.limit)
    return out


@pytest.mark.parametrize(
    ("signs", "expected"),
    [
        pytest.param(["5_23_1"], [60], id="5.23.1-settlement-60"),
        pytest.param(["5_23_2"], [60], id="5.23.2-settlement-60"),
        pytest.param(["5_25"], [None], id="5.25-blue-town-rules-do-not-apply"),
        pytest.param(["5_24_1", "5_25", "5_26"], [90, 90, 90], id="5.25-5.26-blue-keep-outside-90"),
        pytest.param(["5_1", "5_25"], [110, 110], id="5.25-blue-keeps-the-motorway"),
        pytest.param(["5_23_1", "5_24_1"], [60, 90], id="5.24.1-end-of-settlement-90"),
        pytest.param(["5_23_1", "5_24_2"], [60, 90], id="5.24.2-end-of-settlement-90"),
        pytest.param(["5_1"], [110], id="5.1-motorway-110"),
        pytest.param(["5_1", "5_2"], [110, 90], id="5.2-end-of-motorway-90"),
        pytest.param(["5_23_1", "5_21"], [60, 20], id="5.21-residential-20"),
        pytest.param(["5_23_1", "5_21", "5_22"], [60, 20, 60], id="5.22-back-to-the-towns-60"),
        pytest.param(["5_21", "5_22"], [20, 60], id="5.22-implies-a-town"),
        pytest.param(["3_24_n40"], [40], id="3.24-sets-its-value"),
        pytest.param(["5_23_1", "3_24_n40", "3_25_n40"], [60, 40, 60], id="3.25-same-value-back-to-town"),
        pytest.param(["5_24_1", "3_24_n50", "3_31"], [90, 50, 90], id="3.31-back-to-outside-90"),
        pytest.param(["3_24_n40", "3_25_n40"], [40, None], id="3.25-unknown-place-unknown"),
        pytest.param(["5_23_1", "3_24_n40", "3_24_n20"], [60, 40, 20], id="3.24-replaces-3.24"),
        pytest.param(["5_23_1", "3_24_n40", "5_24_1"], [60, 40, 90], id="end-of-town-ends-3.24"),
        pytest.param(["5_23_1", "5_31_n30", "5_32"], [60, 30, 60], id="5.31-zone-and-5.32"),
        pytest.param(["5_23_1", "5_31_n30", "3_24_n20", "3_25_n20"], [60, 30, 20, 30],
                     id="3.24-inside-a-zone-returns-to-the-zone"),
        pytest.param(["5_23_1", "5_31"], [60, 60], id="5.31-without-a-value-changes-nothing"),
        pytest.param(["5_23_1", "3_24_n40", "2_1", "2_4"], [60, 40, 40, 40], id="intersection-keeps-a-lower-3.24"),
        pytest.param(["5_23_1", "3_24_n80", "1_6"], [60, 80, 60], id="intersection-caps-a-higher-3.24"),
        pytest.param(["5_23_1", "3_24_n80", "2_3_4", "3_24_n80"], [60, 80, 60, 80], id="repeated-3.24-after-it"),
        pytest.param(["3_24_n80", "2_5"], [80, 80], id="intersection-unknown-place-keeps"),
        pytest.param(["5_23_1", "5_19_1", "1_23", "3_20"], [60, 60, 60, 60], id="other-signs-change-nothing"),
        pytest.param(["5_23_1", "3_31"], [60, 60], id="3.31-without-a-3.24"),
    ],
)
def test_rules_for_a_car(signs, expected):
    assert drive(signs) == expected


@pytest.mark.parametrize(
    ("signs", "vehicle", "expected"),
    [
        pytest.param(["5_24_1"], "truck", [70], id="truck-outside-70"),
        pytest.param(["5_1"], "truck", [90], id="truck-motorway-90"),
        pytest.param(["5_23_1"], "truck", [60], id="truck-town-60"),
        pytest.param(["5_24_1"], "bus", [70], id="bus-outside-70"),
        pytest.param(["5_1", "5_2"], "bus", [90, 70], id="bus-end-of-motorway-70"),
        pytest.param([("3_24_n40", ("8_4_1",))], "car", [None], id="truck-plate-not-for-a-car"),
        pytest.param(["5_23_1", ("3_24_n40", ("8_4_1",))], "truck", [60, 40], id="truck-plate-for-a-truck"),
        pytest.param(["5_24_1", ("3_24_n60", ("8_4_4",))], "bus", [70, 60], id="bus-plate-for-a-bus"),
        pytest.param(["5_24_1", ("3_24_n60", ("8_4_4",))], "car", [90, 90], id="bus-plate-not-for-a-car"),
        pytest.param(["5_24_1", ("3_24_n60", ("8_4_9",))], "truck", [70, 70], id="except-trucks"),
        pytest.param(["5_24_1", ("3_24_n60", ("8_4_9",))], "car", [90, 60], id="except-trucks-for-a-car"),
        pytest.param(["5_24_1", ("3_24_n60", ("8_4_1", "8_4_4"))], "bus", [70, 60], id="two-vehicle-plates"),
        pytest.param(["5_23_1", ("3_24_n40", ("8_1_1_n150",))], "car", [60, 40], id="distance-plate-applies"),
    ],
)
def test_vehicles_and_plates(signs, vehicle, expected):
    assert drive(signs, vehicle) == expected


def test_time_plate_marks_the_limit_conditional():
    limit = SpeedLimit()
    limit.update([alert("5_23_1")], 0, 0.0)
    change = limit.update([alert("3_24_n40", ("8_5_4",), 10)], 10, 0.4)
    assert change == LimitChange(0.4, 10, 40, "3_24", conditional=True)
    assert change.to_event() == {"t": 0.4, "frame": 10, "limit": 40, "sign": "3_24", "conditional": True}


def test_update_reports_changes_only_with_the_sign_that_set_them():
    limit = SpeedLimit()
    changes = [limit.update([alert(label, frame=i)], i, i / 25) for i, label in
               enumerate(["5_23_1", "3_24_n60", "1_23", "3_24_n40", "3_25_n40", "5_24_1"])]
    assert [c.to_event() if c else None for c in changes] == [
        {"t": 0.0, "frame": 0, "limit": 60, "sign": "5_23_1"}, None, None,
        {"t": 0.12, "frame": 3, "limit": 40, "sign": "3_24"},
        {"t": 0.16, "frame": 4, "limit": 60, "sign": "3_25"},
        {"t": 0.2, "frame": 5, "limit": 90, "sign": "5_24_1"}]


def test_reset_and_starting_place():
    limit = SpeedLimit("car", place="outside")
    assert limit.limit == 90
    limit.update([alert("3_24_n50")], 1, 0.04)
    limit.reset()
    assert limit.limit == 90


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("plane",), "Unknown vehicle", id="vehicle"),
        pytest.param(("car", "village"), "Unknown place", id="place"),
    ],
)
def test_bad_arguments_name_the_problem(args, message):
    with pytest.raises(ValueError, match=message):
        SpeedLimit(*args)


def test_every_place_has_a_limit_for_every_vehicle():
    places = {"settlement", "residential", "outside", "motorway"}
    assert all(set(table) == places for table in PLACE_LIMITS_KMH.values())
    assert limit_action("5_23_1") == "enter_settlement" and limit_action("2_3_6") == "intersection"
    assert limit_action("5_19_1") is None and "3_24" in LIMIT_SIGNS


def test_events_file_has_the_speed_limits(tmp_path):
    labels = ["5_23_1", "3_24_n40"]
    video = make_video(tmp_path / "v.mp4", n_frames=8, size_wh=(160, 96), fps=10.0)
    script = [make_detections()] * 2 + [make_detections([[60, 10, 80, 30]], class_id=[0])] * 2 \
        + [make_detections([[60, 10, 80, 30], [90, 10, 110, 30]], class_id=[0, 1])] * 4
    result = annotate(video, FakeDetector(labels, script), IdentityTracker(), ParsingAnnouncer(labels, 10.0),
                      out=tmp_path / "o.mp4")
    doc = json.loads(result.events.read_text())
    assert doc["speed_limits"] == [{"t": 0.2, "frame": 2, "limit": 60, "sign": "5_23_1"},
                                   {"t": 0.4, "frame": 4, "limit": 40, "sign": "3_24"}]
    assert [c.limit for c in result.speed_limits] == [60, 40]


@pytest.mark.parametrize(
    ("value", "ok"),
    [pytest.param("plane", False, id="unknown"), pytest.param("TRUCK", False, id="case")],
)
def test_cli_vehicle_option_is_validated(tmp_path, value, ok):
    video = make_video(tmp_path / "v.mp4")
    result = CliRunner().invoke(app, ["annotate", str(video), "--no-voice", "--vehicle", value])
    assert (result.exit_code == 0) is ok
    assert "vehicle" in result.output.lower()
    assert not list(tmp_path.glob("*.astute.mp4"))


@pytest.mark.parametrize(
    ("alerts", "expected"),
    [
        pytest.param([("5_23_1", (), 1), ("3_24_n40", ("8_4_3",), 2), ("3_24_n40", ("8_4_1",), 2)], 60,
                     id="plate-corrected-to-trucks-only-gives-the-car-back-its-60"),
        pytest.param([("5_23_1", (), 1), ("3_24_n40", (), 2), ("3_24_n40", ("8_4_1",), 2)], 60,
                     id="trucks-plate-read-after-the-sign-was-said"),
        pytest.param([("5_23_1", (), 1), ("3_24_n40", (), 2), ("3_24_n80", (), 2)], 80, id="value-corrected"),
        pytest.param([("5_23_1", (), 1), ("3_24_n40", (), 2), ("1_23", (), 3), ("3_24_n40", ("8_4_1",), 2)], 40,
                     id="another-sign-in-between-the-first-alert-stays"),
    ],
)
def test_a_signs_correction_replaces_its_first_alert(alerts, expected):
    limit = SpeedLimit()
    for frame, (label, plates, track) in enumerate(alerts):
        limit.update([alert(label, plates, frame=frame, track=track)], frame, frame / 25)
    assert limit.limit == expected
