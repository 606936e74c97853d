"""Values on signs: the kind from the classifier (value classes summed), the number from a reader, the unit
deciding kinds that look alike; the value column of Detections; loading the reader."""

from __future__ import annotations

import math

import numpy as np
import pytest

from astute_cli import detector as detector_module
from astute_cli import signs
from astute_cli.detector import TwoStageDetector, load_detector
from astute_cli.types import Detections, Reading
from astute_cli.values import KindMap, choose_kind, compatible, in_catalogue_unit, number_for
from tests.fakes import FakeReader
from tests.onnx_factories import make_classifier_onnx, make_detector_onnx

LABELS = ["3_24_n10", "3_24_n60", "3_11_n13", "3_11_n17", "3_13_r3.5", "6_2_n50", "3_25_n50", "8_1_1", "5_19_1",
          "background"]
FRAME = np.zeros((64, 64, 3), np.uint8)


def test_kind_map_sums_value_classes():
    kinds = KindMap(LABELS)
    assert kinds.kinds == ["3_24", "3_11", "3_13", "6_2", "3_25", "8_1_1", "5_19_1", "background"]
    probs = np.array([[0.30, 0.0, 0.20, 0.25, 0.0, 0.0, 0.0, 0.0, 0.05, 0.2]], np.float32)
    folded = kinds.collapse(probs)
    assert folded[0].tolist() == pytest.approx([0.30, 0.45, 0, 0, 0, 0, 0.05, 0.2])
    value, confidence = kinds.label_values(probs, np.array([1]))
    assert value[0] == 17 and confidence[0] == pytest.approx(0.25 / 0.45)
    value, confidence = kinds.label_values(probs, np.array([6]))
    assert math.isnan(value[0]) and confidence[0] == 0


def _reading(value, unit=None, confidence=0.9):
    return Reading(str(value), value, unit, confidence)


@pytest.mark.parametrize(
    ("probs", "reading", "kind"),
    [
        pytest.param({"3_24": 0.6, "3_11": 0.3}, _reading(15, "t"), "3_11", id="t-makes-speed-a-weight"),
        pytest.param({"3_24": 0.6, "3_13": 0.1, "3_11": 0.2}, _reading(3.8, "m"), "3_13", id="m-makes-speed-height"),
        pytest.param({"3_24": 0.6, "3_11": 0.3}, _reading(90), "3_24", id="speed-number-keeps-speed"),
        pytest.param({"3_11": 0.5, "3_24": 0.4}, _reading(15), "3_11", id="weight-without-its-unit-stays"),
        pytest.param({"3_24": 0.6, "3_13": 0.3}, _reading(3.8), "3_13", id="decimal-is-never-a-speed"),
        pytest.param({"3_24": 0.5, "3_13": 0.2}, _reading(133), "3_24", id="misread-speed-keeps-kind"),
        pytest.param({"6_2": 0.5, "3_24": 0.4}, _reading(50), "6_2", id="square-of-6_2-kept"),
        pytest.param({"3_25": 0.5, "3_24": 0.4}, _reading(50), "3_25", id="stripes-of-3_25-kept"),
        pytest.param({"3_13": 0.6, "8_1_1": 0.3}, _reading(1.5, "km"), "8_1_1", id="km-only-on-plates"),
        pytest.param({"3_24": 0.7, "3_11": 0.3}, _reading(None), "3_24", id="nothing-read"),
        pytest.param({"3_24": 0.9}, _reading(15, "t"), "3_11", id="t-is-a-weight-however-unlikely"),
        pytest.param({"3_24": 0.9}, Reading("15т", None, None, 0.8), "3_11", id="unit-in-text-of-dropped-value"),
        pytest.param({"3_24": 0.9}, Reading("3,8м", None, None, 0.8), "3_13", id="height-text-on-speed-box"),
    ],
)
def test_choose_kind(probs, reading, kind):
    kinds = ["3_24", "3_11", "3_13", "6_2", "3_25", "8_1_1", "5_19_1"]
    row = np.array([probs.get(k, 0.0) for k in kinds])
    assert kinds[choose_kind(row, kinds, reading)] == kind


def test_choose_kind_without_an_allowed_kind_keeps_the_classifier():
    assert choose_kind(np.array([0.9, 0.1]), ["3_24", "5_19_1"], _reading(15, "t")) == 0


@pytest.mark.parametrize(
    ("code", "value", "ok"),
    [
        pytest.param("3_24", 110, True, id="speed-110"), pytest.param("3_24", 135, False, id="speed-135"),
        pytest.param("3_24", 47, False, id="speed-not-step-5"), pytest.param("3_13", 3.8, True, id="height"),
        pytest.param("3_13", 38, False, id="height-38"), pytest.param("3_11", 60, True, id="weight-60"),
        pytest.param("3_11", 0.5, False, id="weight-0.5"), pytest.param("8_1_1", 1500, True, id="plate-1.5km"),
        pytest.param("5_19_1", 5, False, id="no-value-kind"), pytest.param("3_24", None, False, id="none"),
    ],
)
def test_plausible(code, value, ok):
    assert signs.plausible_value(code, value) == ok


@pytest.mark.parametrize(
    ("code", "reading", "ok"),
    [
        pytest.param("3_24", _reading(15, "t"), False, id="speed-with-t"),
        pytest.param("3_11", _reading(15, "t"), True, id="weight-with-t"),
        pytest.param("3_12", _reading(8, "t"), True, id="axle-with-t"),
        pytest.param("3_14", _reading(2.5, "m"), True, id="width-with-m"),
        pytest.param("3_13", _reading(1.5, "km"), False, id="km-on-a-sign"),
        pytest.param("4_6", _reading(60), True, id="minimum-speed"),
    ],
)
def test_compatible(code, reading, ok):
    assert compatible(code, reading) == ok


def test_kilometres_become_metres():
    assert in_catalogue_unit(_reading(1.5, "km")) == 1500
    assert in_catalogue_unit(Reading("1,5км", None, None, 0.5)) == 1500
    assert in_catalogue_unit(_reading(None)) is None
    assert in_catalogue_unit(Reading("x7", None, None, 0.5)) is None


@pytest.mark.parametrize(
    ("code", "reading", "number"),
    [
        pytest.param("3_11", Reading("15т", None, None, 0.8), 15, id="weight-from-text"),
        pytest.param("3_24", Reading("15т", None, None, 0.8), None, id="tonnes-are-no-speed"),
        pytest.param("3_13", _reading(3.8, "m"), 3.8, id="height"),
        pytest.param("3_13", _reading(38), None, id="implausible-height"),
        pytest.param("8_1_1", _reading(1.5, "km"), 1500, id="plate-km"),
        pytest.param("3_24", None, None, id="no-reading"),
    ],
)
def test_number_for(code, reading, number):
    assert number_for(code, reading) == number


def test_detections_keep_values_through_selection_and_merge():
    dets = Detections(np.zeros((3, 4)), [0.9, 0.8, 0.7], [0, 1, 2], value=[60, np.nan, 3.8],
                      value_confidence=[0.9, 0, 0.7])
    picked = dets[np.array([True, False, True])]
    assert picked.value.tolist() == pytest.approx([60, 3.8]) and picked.value_confidence.tolist() == \
        pytest.approx([0.9, 0.7])
    merged = Detections.merge([dets[[0]], Detections(np.zeros((1, 4)), [0.5], [3])])
    assert merged.value[0] == 60 and math.isnan(merged.value[1]) and merged.value_confidence[1] == 0
    assert Detections.merge([Detections(np.zeros((1, 4)), [0.5], [3])]).value is None
    tracked = dets.with_tracks(np.array([4, 5, 6]))
    assert tracked.track_id.tolist() == [4, 5, 6] and tracked.value[0] == 60
    with pytest.raises(ValueError, match="value has 1 rows"):
        Detections(np.zeros((2, 4)), [0.9, 0.8], [0, 1], value=[1.0])


def _two_stage(tmp_path, probs, reader=None) -> TwoStageDetector:
    make_classifier_onnx(tmp_path / "c.onnx", probs, LABELS)
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 16, 16, 0.5]], ["sign"], astute_classifier="c.onnx")
    found = load_detector(model, tile=0, reader=False)
    found.reader = reader
    return found


@pytest.mark.parametrize(
    ("probs", "reading", "kind", "value"),
    [
        pytest.param([0.3, 0, 0.2, 0.25, 0, 0, 0, 0, 0.05, 0.2], None, "3_11", 17, id="classifier-value-of-kind"),
        pytest.param([0.5, 0.2, 0.1, 0, 0, 0, 0, 0, 0, 0.2], _reading(90), "3_24", 90, id="reader-number"),
        pytest.param([0.5, 0.2, 0.1, 0, 0, 0, 0, 0, 0, 0.2], _reading(15, "t"), "3_11", 15, id="reader-unit-kind"),
        pytest.param([0.5, 0.2, 0.1, 0, 0, 0, 0, 0, 0, 0.2], _reading(None), "3_24", None, id="unreadable"),
        pytest.param([0.5, 0.2, 0.1, 0, 0, 0, 0, 0, 0, 0.2], _reading(47), "3_24", None, id="implausible"),
        pytest.param([0.5, 0.2, 0, 0, 0, 0, 0, 0, 0, 0.3], _reading(15, "t"), "3_11", 15,
                     id="t-moves-to-weight-however-unlikely"),
        pytest.param([0, 0, 0, 0, 0, 0, 0, 0, 0.8, 0.2], _reading(90), "5_19_1", None, id="not-valued-not-read"),
    ],
)
def test_two_stage_kind_and_value(tmp_path, probs, reading, kind, value):
    reader = None if reading is None else FakeReader([reading])
    found = _two_stage(tmp_path, probs, reader).detect(FRAME)
    labels = KindMap(LABELS).kinds
    assert [labels[c] for c in found.class_id] == [kind]
    assert (math.isnan(found.value[0]) if value is None else found.value[0] == pytest.approx(value))
    if reader is not None:
        assert reader.calls[:1] == ([] if kind == "5_19_1" else [["3_24"]])
        assert reader.calls[1:] == ([[kind]] if kind not in ("3_24", "5_19_1") else [])  # read again as its kind


def test_reader_from_metadata_must_exist(tmp_path):
    make_classifier_onnx(tmp_path / "c.onnx", [0.9, 0.1], ["3_24_n60", "background"])
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 16, 16, 0.5]], ["sign"], astute_classifier="c.onnx",
                               astute_reader="reader.onnx")
    with pytest.raises(ValueError, match=r"Cannot load value reader .*reader\.onnx.*: no such file"):
        load_detector(model, tile=0)
    assert load_detector(model, tile=0, reader=False).reader is None
    opted_out = make_detector_onnx(tmp_path / "o.onnx", [[32, 32, 16, 16, 0.5]], ["sign"],
                                   astute_classifier="c.onnx", astute_reader="none")
    assert load_detector(opted_out, tile=0).reader is None


def test_no_bundled_reader_means_classifier_values(tmp_path, monkeypatch):
    monkeypatch.setattr(detector_module, "READER_MODEL", tmp_path / "absent.onnx")
    make_classifier_onnx(tmp_path / "c.onnx", [0.9, 0.1], ["3_24_n60", "background"])
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 16, 16, 0.5]], ["sign"], astute_classifier="c.onnx")
    found = load_detector(model, tile=0)
    assert found.reader is None
    assert found.detect(FRAME).value.tolist() == [60]
    with pytest.raises(ValueError, match="no such file"):
        load_detector(model, tile=0, reader=True)
