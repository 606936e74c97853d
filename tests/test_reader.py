"""The value reader: text -> value parsing, crop geometry per kind, CTC decoding, and the bundled model."""

from __future__ import annotations

from contextlib import ExitStack as DoesNotRaise

import cv2
import numpy as np
import pytest

from astute_cli import reader
from astute_cli.types import Reading


@pytest.mark.parametrize(("text", "code", "expected"), [
    pytest.param("90", "3_24", (90.0, None), id="speed"),
    pytest.param("130", "3_24", (130.0, None), id="top-speed"),
    pytest.param("5", "3_24", (5.0, None), id="lowest-speed"),
    pytest.param("900", "3_24", (None, None), id="speed-too-high"),
    pytest.param("37", "3_24", (None, None), id="speed-off-step"),
    pytest.param("0", "4_6", (None, None), id="speed-zero"),
    pytest.param("60", "6_2_n60", (60.0, None), id="label-with-value"),
    pytest.param("50", "3_25", (50.0, None), id="end-of-limit"),
    pytest.param("3,8м", "3_13", (3.8, "m"), id="height-decimal-comma"),
    pytest.param("3,8", "3_13", (3.8, None), id="height-unit-unread"),
    pytest.param("4м", "3_13", (4.0, "m"), id="height-whole"),
    pytest.param("2,7 м", "3_14", (2.7, "m"), id="width-with-space"),
    pytest.param("38м", "3_13", (None, None), id="height-comma-lost"),
    pytest.param("1,2м", "3_13", (None, None), id="height-too-low"),
    pytest.param("3,8т", "3_13", (None, None), id="tonnes-on-height-sign"),
    pytest.param("15т", "3_11", (15.0, "t"), id="weight"),
    pytest.param("7,5т", "3_11", (7.5, "t"), id="weight-decimal"),
    pytest.param("6т", "3_12", (6.0, "t"), id="axle-load"),
    pytest.param("61т", "3_11", (None, None), id="weight-too-high"),
    pytest.param("15м", "3_11", (None, None), id="metres-on-weight-sign"),
    pytest.param("12,5м", "3_15", (12.5, "m"), id="length"),
    pytest.param("41м", "3_15", (None, None), id="length-too-long"),
    pytest.param("70 м", "3_16", (70.0, "m"), id="headway"),
    pytest.param("73м", "3_16", (None, None), id="headway-off-step"),
    pytest.param("150м", "8_1_1", (150.0, "m"), id="plate-metres"),
    pytest.param("1,5км", "8_1_1", (1.5, "km"), id="plate-km"),
    pytest.param("5км", "8_2_1", (5.0, "km"), id="plate-5km"),
    pytest.param("6км", "8_2_1", (None, None), id="plate-too-far"),
    pytest.param("20м", "8_1_3", (None, None), id="plate-too-near"),
    pytest.param("", "3_24", (None, None), id="nothing-read"),
    pytest.param("1,2,3", "3_24", (None, None), id="garbage"),
    pytest.param("т15", "3_11", (None, None), id="unit-first"),
])
def test_parse_value(text, code, expected):
    assert reader.parse_value(text, code) == expected


@pytest.mark.parametrize(("code", "expected", "raises"), [
    pytest.param("3_24", "3_24", DoesNotRaise(), id="speed"),
    pytest.param("3_24_n60", "3_24", DoesNotRaise(), id="label"),
    pytest.param("8_1_3", "8_1", DoesNotRaise(), id="plate-variant"),
    pytest.param("8_2_4", "8_2", DoesNotRaise(), id="zone-plate"),
    pytest.param("5_19_1", None, pytest.raises(ValueError, match="carries no value"), id="crossing"),
])
def test_kind_of(code, expected, raises):
    with raises:
        assert reader.kind_of(code) == expected


def _frame_with_strips(strips, box: tuple[int, int, int, int], inside: bool) -> np.ndarray:
    """A black frame, white exactly where the value ``strips`` of ``box`` are (or everywhere else in the box)."""
    frame = np.zeros((200, 300, 3), np.uint8)
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    mask = np.zeros(frame.shape[:2], bool)
    for fx1, fy1, fx2, fy2 in strips:
        mask[round(y1 + fy1 * h):round(y1 + fy2 * h), round(x1 + fx1 * w):round(x1 + fx2 * w)] = True
    if not inside:
        box_mask = np.zeros_like(mask)
        box_mask[y1:y2, x1:x2] = True
        mask = box_mask & ~mask
    frame[mask] = 255
    return frame


@pytest.mark.parametrize(("code", "layout"), [
    *[pytest.param(code, 0, id=code) for code in
      ["3_24", "3_25", "4_6", "6_2", "3_11", "3_12", "3_13", "3_14", "8_1_1", "8_2_1"]],
    pytest.param("3_13", 1, id="3_13-one-line"),
    pytest.param("3_14", 1, id="3_14-one-line"),
])
def test_crop_takes_the_kinds_value_strips(code, layout):
    box = (50, 40, 250, 160) if code.startswith("8_") else (80, 20, 200, 140)
    strips = reader.layouts(code)[layout]
    inside = reader.crop(_frame_with_strips(strips, box, inside=True), np.array(box, np.float32), code, strips=strips)
    outside = reader.crop(_frame_with_strips(strips, box, inside=False), np.array(box, np.float32), code,
                          strips=strips)
    assert inside.shape == reader.INPUT_HW and inside.dtype == np.uint8
    assert inside[2:-2, 2:-2].mean() > 240  # all of the crop comes from the strips
    assert outside[2:-2, 2:-2].mean() < 15  # nothing from the rest of the box


@pytest.mark.parametrize(("code", "n_layouts"), [
    pytest.param("3_24_n60", 1, id="speed-one-layout"),
    pytest.param("3_11", 1, id="weight-one-layout"),
    pytest.param("3_13_r3.8", 2, id="height-gost-and-one-line"),
    pytest.param("3_14", 2, id="width-gost-and-one-line"),
    pytest.param("8_1_1", 1, id="plate-one-layout"),
])
def test_layouts_put_gost_first(code, n_layouts):
    options = reader.layouts(code)
    assert len(options) == n_layouts
    assert options[0] == reader.CROPS[reader.kind_of(code)]


def test_the_generator_draws_every_layout_the_reader_reads():
    from astute_cli.synth import values

    assert set(values.ONE_LINE) == set(reader.ONE_LINE)
    for code in values.KINDS:
        options = reader.layouts(code)
        assert values.strips_for(code) == options[0]
        assert values.strips_for(code, one_line=1) == options[-1]
        assert values.strips_for(code, one_line=1, misread=True) == options[0]


@pytest.mark.parametrize("weights, kinds", [
    pytest.param(None, None, id="alike"),
    pytest.param([0] * 9 + [1, 0, 0], {"3_16"}, id="one-kind"),
    pytest.param([0, 0, 0, 5] + [0] * 7 + [5], {"6_2", "8_2_1"}, id="two-kinds"),
])
def test_training_crops_are_drawn_by_kind_weight(weights, kinds):
    from astute_cli.synth import values

    crops, texts, drawn = values.make_batch(24, np.random.default_rng(0), weights=weights)
    assert crops.shape == (24, *reader.INPUT_HW) and len(texts) == 24
    assert set(drawn) == (kinds or set(drawn)) and (kinds or len(set(drawn)) > 4)


@pytest.mark.parametrize("missed, balance, expected", [
    pytest.param({"3_16": 3}, 0.0, {}, id="off"),
    pytest.param({"3_16": 3}, 1.0, {"3_16": 1.0}, id="all-on-the-missed-kind"),
    pytest.param({"3_16": 1, "8_2_1": 3}, 1.0, {"3_16": 0.25, "8_2_1": 0.75}, id="by-share-of-misses"),
    pytest.param({"3_16": 2}, 0.5, {"3_16": 1.0}, id="half-alike"),
    pytest.param({}, 1.0, None, id="no-misses-means-alike"),
])
def test_reader_training_draws_kinds_it_misses_more(missed, balance, expected):
    from astute_cli.synth import values
    from astute_cli.train_reader import kind_weights

    kinds = [code for code in values.KINDS for _ in range(4)]
    right = np.array([i % 4 >= missed.get(code, 0) for i, code in enumerate(kinds)])
    weights = dict(zip(values.KINDS, kind_weights(kinds, right, balance), strict=True))
    n = len(values.KINDS)
    spread = {code: 1 / n for code in values.KINDS} if expected is None else expected
    want = {code: (1 - balance) / n + balance * spread.get(code, 0.0) for code in values.KINDS}
    assert weights == pytest.approx(want)


def test_crop_of_a_box_leaving_the_frame_has_the_input_size():
    frame = np.full((100, 100, 3), 200, np.uint8)
    assert reader.crop(frame, np.array([-20, 80, 30, 130], np.float32), "3_24").shape == reader.INPUT_HW


def _one_hot(path: list[int], n_classes: int = len(reader.CHARSET) + 1, p: float = 0.9) -> np.ndarray:
    probs = np.full((len(path), n_classes), (1 - p) / (n_classes - 1), np.float32)
    probs[np.arange(len(path)), path] = p
    return probs


@pytest.mark.parametrize(("path", "text"), [
    pytest.param([0, 0, 0], "", id="all-blank"),
    pytest.param([10, 10, 0, 1, 1], "90", id="repeats-collapse"),
    pytest.param([2, 0, 1, 1, 0, 1], "100", id="blank-separates-a-double"),
    pytest.param([4, 11, 9, 12], "3,8м", id="comma-and-unit"),
    pytest.param([2, 6, 13, 0], "15т", id="tonnes"),
    pytest.param([2, 11, 6, 14, 12], "1,5км", id="kilometres"),
])
def test_ctc_decode(path, text):
    (decoded, confidence), = reader.ctc_decode(_one_hot(path)[None], reader.CHARSET)
    assert decoded == text
    assert confidence == pytest.approx(0.9 ** len(path))


def test_missing_model_is_one_error(tmp_path):
    with pytest.raises(ValueError, match="model not found"):
        reader.ValueReader(tmp_path / "nope.onnx")


@pytest.fixture(scope="module")
def bundled() -> reader.ValueReader:
    return reader.ValueReader(threads=1)


def _path(text: str) -> list[int]:
    """A CTC path spelling ``text`` (blanks between the characters)."""
    return [k for ch in text for k in (reader.CHARSET.index(ch) + 1, 0)] or [0]


class _Scripted:
    """An ONNX session stand-in that reads the crops it is given as the scripted texts, in order."""

    def __init__(self, texts: list[tuple[str, float]]) -> None:
        self.texts = texts

    def run(self, _outputs, feeds):
        (crops,) = feeds.values()
        assert len(crops) == len(self.texts)
        width = max(len(_path(t)) for t, _ in self.texts)
        return [np.stack([_one_hot(_path(t) + [0] * (width - len(_path(t))), p=p) for t, p in self.texts])]


@pytest.mark.parametrize(("code", "scripted", "expected"), [
    pytest.param("3_13", [("1,9м", 0.6), ("3,8м", 0.9)], 3.8, id="one-line-surer"),
    pytest.param("3_13", [("3,8м", 0.9), ("1,9м", 0.6)], 3.8, id="gost-surer"),
    pytest.param("3_13", [("", 0.95), ("4,5м", 0.5)], 4.5, id="a-value-beats-a-surer-nothing"),
    pytest.param("3_13", [("45т", 0.95), ("4,5м", 0.5)], 4.5, id="a-wrong-unit-is-no-value"),
    pytest.param("3_13", [("", 0.9), ("", 0.8)], None, id="neither-reads"),
    pytest.param("3_24", [("90", 0.7)], 90.0, id="one-layout-one-read"),
])
def test_read_keeps_the_surer_layout(bundled, monkeypatch, code, scripted, expected):
    monkeypatch.setattr(bundled, "session", _Scripted(scripted))
    monkeypatch.setattr(bundled, "views", ((0.0, 0.0),))
    frame = np.full((80, 80, 3), 128, np.uint8)
    (reading,) = bundled.read(frame, np.array([[20, 20, 60, 60]], np.float32), [code])
    assert reading.value == expected


@pytest.mark.parametrize(("code", "scripted", "expected"), [
    # one reading per view (and per layout within a view), in the order of the views; expected: the number, its
    # text, and the step probabilities of the views that read it (a reading's confidence is that to the path's length)
    pytest.param("3_24", [("90", 0.8), ("60", 0.85), ("90", 0.8)], (90.0, "90", [0.8, 0.8]),
                 id="two-views-outweigh-a-surer-one"),
    pytest.param("3_24", [("90", 0.6), ("60", 0.9), ("", 0.99)], (60.0, "60", [0.9]),
                 id="views-reading-else-make-it-less-sure"),
    pytest.param("3_24", [("", 0.9), ("", 0.8), ("", 0.7)], (None, "", None), id="no-view-reads-a-number"),
    pytest.param("3_13", [("", 0.5), ("3,8м", 0.9), ("3,9м", 0.95), ("", 0.99), ("", 0.1), ("3,8м", 0.9)],
                 (3.8, "3,8м", [0.9, 0.9]), id="each-view-keeps-its-layout-with-a-number"),
])
def test_views_vote_on_the_number(bundled, monkeypatch, code, scripted, expected):
    monkeypatch.setattr(bundled, "session", _Scripted(scripted))
    monkeypatch.setattr(bundled, "views", ((0.0, 0.0), (0.04, 0.0), (-0.04, 0.0)))
    frame = np.full((80, 80, 3), 128, np.uint8)
    (reading,) = bundled.read(frame, np.array([[20, 20, 60, 60]], np.float32), [code])
    value, text, agreeing = expected
    assert (reading.value, reading.text) == (value, text)
    steps = max(len(_path(t)) for t, _ in scripted)
    want = 0.9 ** steps if agreeing is None else sum(p ** steps for p in agreeing) / 3
    assert reading.confidence == pytest.approx(want, rel=1e-3)


def test_a_reader_needs_a_view():
    with pytest.raises(ValueError, match="at least one view"):
        reader.ValueReader(views=())


def test_bundled_model_names_its_charset_and_input(bundled):
    assert bundled.charset == reader.CHARSET
    assert bundled.input_hw == reader.INPUT_HW


def test_read_checks_its_inputs(bundled):
    frame = np.zeros((64, 64, 3), np.uint8)
    assert bundled.read(frame, np.zeros((0, 4), np.float32), []) == []
    with pytest.raises(ValueError, match="2 boxes but 1 sign codes"):
        bundled.read(frame, np.zeros((2, 4), np.float32), ["3_24"])


def _scene(faces: list[tuple], width_px: int) -> tuple[np.ndarray, np.ndarray]:
    """A grey frame with each face pasted ``width_px`` wide in a row, and their boxes. A face is (code, text) in
    GOST's layout, (code, text, k) in the k-th one-line layout, or (label,) as the detector's generator draws it."""
    from astute_cli.synth.pictograms import MASTER_PX, render_sign
    from astute_cli.synth.values import face

    frame = np.full((160, 80 + len(faces) * 2 * width_px, 3), (90, 110, 100), np.uint8)
    boxes = []
    for i, spec in enumerate(faces):
        rgba = render_sign(spec[0], MASTER_PX) if len(spec) == 1 else face(*spec)
        h = round(width_px * rgba.shape[0] / rgba.shape[1])
        sign = cv2.resize(rgba, (width_px, h), interpolation=cv2.INTER_AREA)
        x, y = 40 + i * 2 * width_px, 50
        alpha = sign[:, :, 3:4] / 255
        frame[y:y + h, x:x + width_px] = (sign[:, :, 2::-1] * alpha + frame[y:y + h, x:x + width_px] * (1 - alpha))
        boxes.append([x, y, x + width_px, y + h])
    return frame, np.array(boxes, np.float32)


HELD_OUT_FACES = [
    pytest.param(("3_24", "90"), (90.0, None), id="90-kmh"),
    pytest.param(("3_24", "110"), (110.0, None), id="110-kmh"),
    pytest.param(("3_13", "3,8м"), (3.8, "m"), id="3.8-m"),
    pytest.param(("3_11", "15т"), (15.0, "t"), id="15-t"),
    pytest.param(("8_1_1", "250м"), (250.0, "m"), id="250-m-plate"),
    pytest.param(("6_2", "90"), (90.0, None), id="recommended-90"),
    pytest.param(("3_13", "3,8м", 1), (3.8, "m"), id="3.8-m-one-line"),
    pytest.param(("3_13", "3,8м", 2), (3.8, "m"), id="3.8-m-one-line-small-print"),
    pytest.param(("3_13_r3.8",), (3.8, "m"), id="3.8-m-as-the-clips-draw-it"),
    pytest.param(("3_15", "15м"), (15.0, "m"), id="15-m-length"),
    pytest.param(("3_16", "90м"), (90.0, "m"), id="90-m-headway"),
]


@pytest.mark.usefixtures("shared_data")
@pytest.mark.parametrize(("face", "expected"), HELD_OUT_FACES)
def test_bundled_model_reads_held_out_values_at_40_px(bundled, face, expected):
    frame, boxes = _scene([face], 40)
    (reading,) = bundled.read(frame, boxes, [face[0]])
    assert isinstance(reading, Reading)
    assert (reading.value, reading.unit) == expected, reading
    assert 0 < reading.confidence <= 1
