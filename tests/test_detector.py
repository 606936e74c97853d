from __future__ import annotations

import numpy as np
import pytest

from astute_cli.detector import (
    EXPERT_READ_MIN_PX,
    CropClassifier,
    OnnxDetector,
    TwoStageDetector,
    decode_yolo,
    letterbox,
    load_detector,
    plates_under_signs,
)
from astute_cli.signs import is_mounted_plate
from astute_cli.tiling import SIGN_ROI, parse_size, parse_zoom, tiles_for, zoom_strips
from astute_cli.types import Detections, Reading
from tests.onnx_factories import make_classifier_onnx, make_detector_onnx, make_end2end_onnx


@pytest.mark.parametrize(
    ("shape", "new_hw", "scale", "pad"),
    [
        pytest.param((720, 1280), (640, 640), 0.5, (0, 140), id="wide"),
        pytest.param((640, 320), (640, 640), 1.0, (160, 0), id="tall"),
        pytest.param((100, 100), (200, 200), 2.0, (0, 0), id="upscale"),
    ],
)
def test_letterbox(shape, new_hw, scale, pad):
    out, s, p = letterbox(np.zeros((*shape, 3), np.uint8), new_hw)
    assert out.shape == (*new_hw, 3)
    assert s == pytest.approx(scale) and p == pad


@pytest.mark.parametrize(
    ("frame_wh", "tile", "expected"),
    [
        pytest.param((1280, 720), 640, [(0, 0, 640, 640), (640, 0, 1280, 640)], id="720p-two-tiles"),
        pytest.param((960, 540), 640, [(0, 0, 640, 540), (320, 0, 960, 540)], id="540p-overlap"),
        pytest.param((640, 360), 640, [(0, 0, 640, 360)], id="small-one-tile"),
        pytest.param((1280, 720), "672x576", [(0, 0, 672, 576), (608, 0, 1280, 576)], id="720p-rect-overlap-64"),
        pytest.param((1280, 720), (672, 576), [(0, 0, 672, 576), (608, 0, 1280, 576)], id="rect-as-pair"),
    ],
)
def test_tiles_cover_the_roi(frame_wh, tile, expected):
    assert tiles_for(frame_wh, tile, SIGN_ROI) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(640, (640, 640)), ("640", (640, 640)), ("672x576", (672, 576)), ("672X576", (672, 576)),
     ((672, 576), (672, 576)), (None, (0, 0)), (0, (0, 0))],
)
def test_parse_size(value, expected):
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", ["", "x", "64x", "6.4", "-64", "64x64x64"])
def test_parse_size_rejects(value):
    with pytest.raises(ValueError, match="N or WxH"):
        parse_size(value)


def test_tiles_cover_a_tall_roi_with_overlap():
    tiles = tiles_for((1280, 1280), 640, (0, 0, 1, 1))
    assert len(tiles) == 4
    assert {t[2] for t in tiles} == {640, 1280}


def test_decode_raw_head_applies_threshold_and_nms():
    rows = np.array([[32, 32, 10, 10, 0.9, 0.1], [33, 33, 10, 10, 0.8, 0.1], [10, 10, 4, 4, 0.1, 0.7],
                     [50, 50, 4, 4, 0.1, 0.2]], np.float32)
    found = decode_yolo(rows.T[None], conf=0.25, iou=0.5)
    assert sorted(found.class_id.tolist()) == [0, 1]
    np.testing.assert_allclose(found[found.class_id == 0].xyxy, [[27, 27, 37, 37]])


def test_decode_end_to_end_rows():
    rows = np.array([[[1, 2, 3, 4, 0.9, 2], [5, 6, 7, 8, 0.1, 1]]], np.float32)
    found = decode_yolo(rows, conf=0.25, iou=0.5)
    assert found.class_id.tolist() == [2] and found.xyxy.tolist() == [[1, 2, 3, 4]]


def test_whole_frame_mode_maps_boxes_back(tmp_path):
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.9]], ["sign"])
    detector = OnnxDetector(model, tile=0)
    found = detector.detect(np.zeros((128, 256, 3), np.uint8))  # scale 0.25, pad y 16
    np.testing.assert_allclose(found.xyxy, [[112, 48, 144, 80]], atol=1)


def test_tiled_mode_runs_each_tile_at_native_scale(tmp_path):
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.9]], ["sign"], astute_tile="64",
                               astute_roi="0,0,1,0.5")
    detector = OnnxDetector(model)
    found = detector.detect(np.zeros((128, 128, 3), np.uint8))
    assert detector.tile == (64, 64) and detector.roi == (0.0, 0.0, 1.0, 0.5)
    np.testing.assert_allclose(sorted(found.xyxy.tolist()), [[28, 28, 36, 36], [92, 28, 100, 36]])


def test_rectangular_tiles_overlap_and_map_back(tmp_path):
    # a 64x48 (W x H) model on a 112 x 48 frame: tiles at x 0 and 48, overlapping by 16 px
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 24, 8, 8, 0.9]], ["sign"], imgsz=(48, 64),
                               astute_tile="64x48", astute_roi="0,0,1,1")
    detector = OnnxDetector(model)
    assert detector.tile == (64, 48) and detector.input_hw == (48, 64)
    found = detector.detect(np.zeros((48, 112, 3), np.uint8))
    np.testing.assert_allclose(sorted(found.xyxy.tolist()), [[28, 20, 36, 28], [76, 20, 84, 28]])


def test_sign_cut_by_a_tile_seam_is_joined(tmp_path):
    # each 64-px tile reports the half of one sign that lies inside it: x 56..64 and 64..72
    model = make_detector_onnx(tmp_path / "d.onnx", [[60, 32, 8, 8, 0.9, 0.0], [4, 32, 8, 8, 0.0, 0.9]],
                               ["a", "b"], astute_tile="64", astute_roi="0,0,1,0.5")
    found = OnnxDetector(model).detect(np.zeros((128, 128, 3), np.uint8))
    assert len(found) == 4  # different classes are never joined
    # halves of a 16-px sign are narrow (8 x 16); two whole 8 x 8 signs touching there stay two (test_neighbours)
    same = make_detector_onnx(tmp_path / "s.onnx", [[60, 32, 8, 16, 0.9], [4, 32, 8, 16, 0.9]], ["sign"],
                              astute_tile="64", astute_roi="0,0,1,0.5")
    joined = OnnxDetector(same).detect(np.zeros((128, 128, 3), np.uint8))
    assert [56.0, 24.0, 72.0, 40.0] in joined.xyxy.tolist()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("1.5", ((0.15, 0.305, 0.797, 0.6), 1.5), id="factor-only-uses-the-far-band"),
        pytest.param("0.25,0.5,0.75,0.625,2", ((0.25, 0.5, 0.75, 0.625), 2.0), id="band-and-factor"),
        pytest.param(None, None, id="none"),
        pytest.param("0", None, id="zero-is-off"),
        pytest.param("1", None, id="one-is-off"),
    ],
)
def test_parse_zoom(value, expected):
    assert parse_zoom(value) == expected


@pytest.mark.parametrize("value", ["0.5", "5", "abc", "0.5,0.5,0.4,0.6,2", "0,0,1,1", "0,0,1.2,1,2"])
def test_parse_zoom_rejects(value):
    with pytest.raises(ValueError, match="zoom"):
        parse_zoom(value)


@pytest.mark.parametrize(
    ("frame_wh", "band", "factor", "tile", "expected"),
    [
        pytest.param((1280, 720), (0.15, 0.305, 0.797, 0.6), 1.5, (640, 640),
                     ((192, 219, 1021, 432), [[(0, 640), (604, 1244)]]), id="720p-one-tile-of-two-strips"),
        pytest.param((1280, 720), (0.0, 0.25, 1.0, 0.4), 2.0, (640, 640),
                     ((0, 180, 1280, 288), [[(0, 640), (640, 1280)], [(1280, 1920), (1920, 2560)]]),
                     id="2x-four-strips-two-tiles"),
        pytest.param((360, 640), (0.0, 0.0, 1.0, 1.0), 2.0, (640, 640),
                     ((0, 0, 360, 320), [[(0, 640)], [(80, 720)]]), id="portrait-band-cut-to-a-tile"),
    ],
)
def test_zoom_strips(frame_wh, band, factor, tile, expected):
    assert zoom_strips(frame_wh, band, factor, tile) == expected


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param([16, 8, 4, 4, 0.9], [39, 67, 41, 69], id="first-strip"),
        pytest.param([16, 40, 4, 4, 0.9], [71, 67, 73, 69], id="second-strip-below-it"),
        pytest.param([1, 8, 4, 4, 0.9], None, id="cut-at-the-strip-edge-is-left-to-native-tiles"),
    ],
)
def test_zoom_pass_maps_strip_boxes_back_to_the_frame(tmp_path, row, expected):
    # band x 32..96, y 64..80 of a 128 px frame, 2x: 128 x 32 px, two 64 x 32 strips stacked in one 64 px tile
    model = make_detector_onnx(tmp_path / "d.onnx", [row], ["sign"], astute_tile="64", astute_roi="0,0,1,0.5",
                               astute_zoom="0.25,0.5,0.75,0.625,2")
    detector = OnnxDetector(model)
    zoomed = detector._zoomed(np.zeros((128, 128, 3), np.uint8))
    assert zoomed.xyxy.tolist() == ([] if expected is None else [expected])
    unzoomed = OnnxDetector(model, zoom="0").detect(np.zeros((128, 128, 3), np.uint8))
    assert (detector.runs_per_frame((128, 128)), OnnxDetector(model, zoom="0").runs_per_frame((128, 128))) == (3, 2)
    assert len(detector.detect(np.zeros((128, 128, 3), np.uint8))) == len(unzoomed) + (expected is not None)


def test_classifier_averages_its_contexts(tmp_path, monkeypatch):
    # a white 20 px square on black: the wider the margin, the darker the crop; "probability" = crop brightness
    make_classifier_onnx(tmp_path / "c.onnx", [0.5, 0.5], ["a", "b"])
    image = np.zeros((100, 100, 3), np.uint8)
    image[40:60, 40:60] = 255
    box = np.float32([[40, 40, 60, 60]])

    def brightness(classifier, crops):
        mean = np.float32([c.mean() / 255 for c in crops])
        return np.stack([mean, np.zeros_like(mean)], 1)

    monkeypatch.setattr(CropClassifier, "_probabilities", brightness)
    single = {c: CropClassifier(tmp_path / "c.onnx", c).classify(image, box)[1][0] for c in (0.1, 0.5)}
    both = CropClassifier(tmp_path / "c.onnx", (0.1, 0.5)).classify(image, box)[1][0]
    assert single[0.1] > single[0.5]
    assert both == pytest.approx((single[0.1] + single[0.5]) / 2, abs=1e-6)


def test_two_stage_reads_classifier_contexts_from_metadata(tmp_path):
    make_classifier_onnx(tmp_path / "c.onnx", [0.2, 0.8], ["a", "b"])
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx",
                               astute_contexts="0.05,0.1,0.2")
    assert load_detector(model, tile=0).classifier.contexts == (0.05, 0.1, 0.2)
    plain = make_detector_onnx(tmp_path / "p.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx")
    assert load_detector(plain, tile=0).classifier.contexts == (0.1,)


def test_two_stage_uses_classifier_labels_and_drops_background(tmp_path):
    make_classifier_onnx(tmp_path / "c.onnx", [0.1, 0.8, 0.1], ["5_19_1", "3_24_n60", "background"])
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx")
    detector = load_detector(model, tile=0, reader=False)
    assert isinstance(detector, TwoStageDetector)
    assert detector.labels == ["5_19_1", "3_24", "background"]  # value classes become kinds
    found = detector.detect(np.zeros((64, 64, 3), np.uint8))
    assert found.class_id.tolist() == [1]
    assert found.value.tolist() == [60]
    assert found.confidence[0] == pytest.approx(0.4)
    make_classifier_onnx(tmp_path / "c.onnx", [0.1, 0.1, 0.8], ["5_19_1", "3_24_n60", "background"])
    assert len(load_detector(model, tile=0).detect(np.zeros((64, 64, 3), np.uint8))) == 0


@pytest.mark.parametrize(("haze", "frame_low", "lifted"), [
    pytest.param(True, 110, True, id="hazy-frame-lifted"),
    pytest.param(False, 110, False, id="haze-off-as-it-is"),
    pytest.param(True, 0, False, id="clear-frame-as-it-is"),
])
def test_both_stages_see_a_hazy_frame_lifted(tmp_path, monkeypatch, haze, frame_low, lifted):
    make_classifier_onnx(tmp_path / "c.onnx", [0.9, 0.1], ["5_19_1", "background"])
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx")
    detector = load_detector(model, tile=0, reader=False, haze=haze)
    seen = {}
    whole, classify = OnnxDetector._whole, CropClassifier.probabilities
    monkeypatch.setattr(OnnxDetector, "_whole", lambda self, image: whole(self, seen.setdefault("detector", image)))
    monkeypatch.setattr(CropClassifier, "probabilities",
                        lambda self, image, xyxy: classify(self, seen.setdefault("classifier", image), xyxy))
    ramp = np.tile(np.linspace(frame_low, frame_low + 100, 64, dtype=np.float32)[None, :, None], (64, 1, 3))
    frame = np.random.default_rng(0).normal(ramp, 2).clip(0, 255).astype(np.uint8)
    assert len(detector.detect(frame)) == 1
    for stage in ("detector", "classifier"):
        assert np.array_equal(seen[stage], frame) is not lifted, stage
        if lifted:  # stretched to the full range
            assert np.percentile(seen[stage], 1) <= 12 and np.percentile(seen[stage], 99) >= 243, stage


SIGN_ABOVE, UNDER_IT, ALONE = [20, 10, 40, 30], [19, 32, 41, 40], [100, 10, 140, 26]
LABELS = ["1_17", "5_23_1", "8_13", "8_5_4", "background"]
SPEED_BUMP, TOWN, TOWN_OR_TIMES, TOWN_OR_DIRECTION = (
    [0.9, 0.05, 0.03, 0.01, 0.01], [0.02, 0.9, 0.03, 0.04, 0.01], [0.02, 0.6, 0.1, 0.27, 0.01],
    [0.02, 0.6, 0.3, 0.07, 0.01])


@pytest.mark.parametrize(
    ("boxes", "probs", "said"),
    [
        pytest.param([SIGN_ABOVE, UNDER_IT], [SPEED_BUMP, TOWN_OR_TIMES], ["1_17", "8_5_4"],
                     id="white-plate-under-a-sign-is-a-plate"),
        pytest.param([SIGN_ABOVE, UNDER_IT], [SPEED_BUMP, TOWN_OR_DIRECTION], ["1_17", "8_13"],
                     id="the-likeliest-plate"),
        pytest.param([ALONE], [TOWN], ["5_23_1"], id="town-sign-alone-stays"),
        pytest.param([SIGN_ABOVE, ALONE], [SPEED_BUMP, TOWN], ["1_17", "5_23_1"], id="town-sign-beside-a-sign-stays"),
    ],
)
def test_a_town_sign_never_hangs_under_a_sign(tmp_path, monkeypatch, boxes, probs, said):
    make_classifier_onnx(tmp_path / "c.onnx", [0.2] * 5, LABELS)
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx")
    detector = load_detector(model, tile=0, reader=False)
    monkeypatch.setattr(CropClassifier, "probabilities", lambda self, image, xyxy: np.float32(probs))
    found = detector.describe(np.zeros((64, 160, 3), np.uint8),
                              Detections(np.float32(boxes), np.ones(len(boxes), np.float32), np.zeros(len(boxes), int)))
    assert [detector.labels[k] for k in found.class_id] == said


@pytest.mark.parametrize(
    ("boxes", "plate", "keep"),
    [
        pytest.param([[100, 100, 130, 130], [98, 132, 132, 145]], [0, 1], [1, 1], id="plate-under-sign"),
        pytest.param([[98, 132, 132, 145]], [1], [0], id="lone-plate"),
        pytest.param([[100, 100, 130, 130], [300, 132, 334, 145]], [0, 1], [1, 0], id="plate-beside-another-sign"),
        pytest.param([[100, 100, 130, 130], [98, 200, 132, 213]], [0, 1], [1, 0], id="plate-far-below"),
        pytest.param([[98, 60, 132, 73], [100, 100, 130, 130]], [1, 0], [0, 1], id="plate-above-sign"),
        pytest.param([[100, 100, 130, 130], [98, 147, 132, 160], [98, 132, 132, 145]], [0, 1, 1], [1, 1, 1],
                     id="two-plates-chained"),
        pytest.param([[100, 100, 130, 130], [102, 128, 128, 150]], [0, 0], [1, 1], id="signs-never-dropped"),
    ],
)
def test_plates_need_a_sign_above(boxes, plate, keep):
    assert plates_under_signs(np.array(boxes, np.float32), np.array(plate, bool)).tolist() == [bool(k) for k in keep]


@pytest.mark.parametrize(("label", "mounted"), [("8_2_1", True), ("8_13", True), ("8_22_1", False),
                                                ("8_23", False), ("3_24_n60", False), ("background", False)])
def test_which_labels_are_mounted_plates(label, mounted):
    assert is_mounted_plate(label) == mounted


def test_two_stage_drops_a_lone_plate(tmp_path):
    make_classifier_onnx(tmp_path / "c.onnx", [0.9, 0.1], ["8_2_1", "background"])
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx")
    detector = load_detector(model, tile=0)
    assert len(detector.detect(np.zeros((64, 64, 3), np.uint8))) == 0
    detector.plates_need_sign = False
    assert detector.detect(np.zeros((64, 64, 3), np.uint8)).class_id.tolist() == [0]


@pytest.mark.parametrize(
    ("rows", "kept"),
    [
        # cx, cy, w, h, then a score per class (3_24_n60, 8_2_1)
        pytest.param([[32, 32, 8, 8, 0.0, 0.5]], [], id="lone-plate-dropped"),
        pytest.param([[32, 20, 10, 10, 0.6, 0.0], [32, 29, 10, 6, 0.0, 0.5]], [0, 1], id="plate-under-sign-kept"),
        pytest.param([[32, 20, 10, 10, 0.6, 0.0]], [0], id="sign-alone-kept"),
    ],
)
def test_one_stage_model_drops_lone_plates(tmp_path, rows, kept):
    model = make_detector_onnx(tmp_path / "d.onnx", rows, ["3_24_n60", "8_2_1"])
    detector = load_detector(model, tile=0)
    assert sorted(detector.detect(np.zeros((64, 64, 3), np.uint8)).class_id.tolist()) == kept
    detector.plates_need_sign = False
    assert len(detector.detect(np.zeros((64, 64, 3), np.uint8))) == len(rows)


def test_end_to_end_model_loads(tmp_path):
    model = make_end2end_onnx(tmp_path / "e.onnx", [[10, 10, 20, 20, 0.9, 0]], ["2_1"])
    found = load_detector(model, tile=0).detect(np.zeros((64, 64, 3), np.uint8))
    assert found.xyxy.tolist() == [[10, 10, 20, 20]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "no such file", id="missing"),
        pytest.param(b"", "Cannot load model", id="empty"),
        pytest.param(b"definitely not a protobuf" * 10, "Cannot load model", id="garbage"),
    ],
)
def test_bad_model_files(tmp_path, content, message):
    path = tmp_path / "m.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        load_detector(path)


@pytest.mark.parametrize(
    ("zoom", "far_only", "runs"),
    [
        pytest.param(None, False, 3, id="whole-frame-tiles-and-zoom"),
        pytest.param(None, True, 1, id="far-only-zoom-pass-alone"),
        pytest.param("0", True, 2, id="far-only-without-zoom-searches-everything"),
    ],
)
def test_far_only_runs_the_zoom_pass_alone(tmp_path, monkeypatch, zoom, far_only, runs):
    model = make_detector_onnx(tmp_path / "d.onnx", [[16, 8, 4, 4, 0.9]], ["sign"], astute_tile="64",
                               astute_roi="0,0,1,0.5", astute_zoom="0.25,0.5,0.75,0.625,2")
    detector = OnnxDetector(model, zoom=zoom)
    calls = []
    run = detector._run
    monkeypatch.setattr(detector, "_run", lambda image: calls.append(image.shape) or run(image))
    found = detector.detect(np.zeros((128, 128, 3), np.uint8), far_only=far_only)
    assert len(calls) == runs
    if far_only and zoom is None:
        assert found.xyxy.tolist() == [[39, 67, 41, 69]]  # the zoom pass's box, in frame pixels


@pytest.mark.parametrize(
    ("box", "zoom", "found"),
    [
        pytest.param([36, 68, 44, 76], None, True, id="inside-the-first-strip"),
        pytest.param([70, 68, 90, 76], None, True, id="inside-the-second-strip"),
        pytest.param([39, 67, 41, 69], None, True, id="the-box-the-zoom-pass-finds"),
        pytest.param([60, 68, 68, 76], None, False, id="across-the-strips-cut"),
        pytest.param([36, 60, 44, 70], None, False, id="above-the-band"),
        pytest.param([100, 20, 120, 40], None, False, id="near-sign-outside-the-band"),
        pytest.param([100, 20, 120, 40], "0", True, id="no-zoom-far-only-searches-everything"),
    ],
)
def test_far_pass_finds_the_boxes_inside_a_strip(tmp_path, box, zoom, found):
    # band x 32..96, y 64..80 of a 128 px frame, 2x: two 64 x 32 strips (band x 32..64 and 64..96)
    model = make_detector_onnx(tmp_path / "d.onnx", [[16, 8, 4, 4, 0.9]], ["sign"], astute_tile="64",
                               astute_roi="0,0,1,0.5", astute_zoom="0.25,0.5,0.75,0.625,2")
    detector = OnnxDetector(model, zoom=zoom)
    assert detector.far_pass_finds(np.array([box], np.float32), (128, 128)).tolist() == [found]


@pytest.mark.parametrize(
    ("row", "boxes", "expected"),
    [
        pytest.param([16, 16, 8, 8, 0.9], [[50, 50, 58, 58]], [[50, 50, 58, 58]], id="found-in-its-region"),
        pytest.param([30, 16, 8, 8, 0.9], [[50, 50, 58, 58]], [], id="cut-by-the-region-edge-left-out"),
        pytest.param([2, 16, 4, 8, 0.9], [[0, 50, 8, 58]], [[0, 50, 4, 58]], id="at-the-frame-edge-kept"),
        pytest.param([16, 16, 8, 8, 0.9], [[50, 50, 58, 58], [90, 20, 98, 28]], [[50, 50, 58, 58]],
                     id="two-regions-one-run-each-its-own-cell"),
        pytest.param([16, 16, 8, 8, 0.9], [], [], id="nothing-to-search"),
    ],
)
def test_detect_around_searches_a_region_around_each_box(tmp_path, monkeypatch, row, boxes, expected):
    # a 64 px model: four 32 px cells; the constant head's box is in the first cell's region
    model = make_detector_onnx(tmp_path / "d.onnx", [row], ["sign"], astute_tile="64", astute_roi="0,0,1,0.5")
    detector = OnnxDetector(model)
    runs = []
    run = detector._run
    monkeypatch.setattr(detector, "_run", lambda image: runs.append(image.shape) or run(image))
    found = detector.detect_around(np.zeros((128, 128, 3), np.uint8), np.array(boxes, np.float32))
    assert found.xyxy.tolist() == expected
    assert len(runs) == (1 if boxes else 0)


@pytest.mark.parametrize(
    ("probs", "scores", "kept"),
    [
        pytest.param([0.1, 0.8, 0.1], [0.5, 0.9], [True, True], id="signs-kept"),
        pytest.param([0.1, 0.1, 0.8], [0.5, 0.9], [False, False], id="background-dropped"),
        pytest.param([0.1, 0.8, 0.1], [0.1, 0.9], [False, True], id="weak-box-dropped"),
    ],
)
def test_describe_kept_says_which_boxes_it_kept(tmp_path, probs, scores, kept):
    make_classifier_onnx(tmp_path / "c.onnx", probs, ["5_19_1", "3_24_n60", "background"])
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx",
                               astute_min_confidence="0.2")
    detector = load_detector(model, tile=0, reader=False)
    boxes = Detections(np.float32([[4, 4, 20, 20], [30, 30, 50, 50]]), np.float32(scores), np.zeros(2))
    described, keep = detector.describe_kept(np.zeros((64, 64, 3), np.uint8), boxes)
    assert keep.tolist() == kept
    assert described.xyxy.tolist() == boxes.xyxy[keep].tolist()
    assert detector.describe(np.zeros((64, 64, 3), np.uint8), boxes).xyxy.tolist() == described.xyxy.tolist()


FIRST, EXPERT = ["1_17", "8_1_1", "8_1_3", "background"], ["1_17", "3_24_n60", "8_1_1", "8_1_3", "8_2_1", "background"]
DAY = np.random.default_rng(1).integers(0, 256, (64, 160, 3), dtype=np.uint8)  # bright, sharp, colourful
NIGHT = np.zeros((64, 160, 3), np.uint8)
# what each classifier says of a box, over FIRST's and EXPERT's labels
BUMP, PLATE_RIGHT, BUMP_TOO, DROPPED = [.9, .02, .03, .05], [.1, .1, .7, .1], [.7, .1, .1, .1], [.05, .05, .1, .8]
SPEED, PLATE_AHEAD, ZONE_PLATE, NOTHING = [0, .9, .05, 0, 0, .05], [0, 0, .8, .1, 0, .1], [0, 0, 0, 0, .9, .1], \
    [0, 0, 0, 0, 0, 1]


@pytest.mark.parametrize(
    ("frame", "with_expert", "first", "expert", "said"),
    [
        pytest.param(DAY, True, [BUMP, PLATE_RIGHT], [SPEED, PLATE_AHEAD], ["1_17", "8_1_1"],
                     id="day-the-expert-names-the-plate"),
        pytest.param(DAY, True, [BUMP, PLATE_RIGHT], [SPEED, ZONE_PLATE], ["1_17", "8_2_1"],
                     id="day-a-plate-only-the-expert-knows"),
        pytest.param(DAY, True, [BUMP, BUMP_TOO], [SPEED, PLATE_AHEAD], ["1_17", "1_17"],
                     id="day-the-first-classifier-tells-sign-from-plate"),
        pytest.param(DAY, True, [BUMP, DROPPED], [SPEED, PLATE_AHEAD], ["1_17", "8_1_1"],
                     id="day-a-plate-the-first-classifier-dropped-kept-by-the-expert"),
        pytest.param(DAY, True, [BUMP, DROPPED], [SPEED, NOTHING], ["1_17"], id="day-dropped-by-both"),
        pytest.param(DAY, False, [BUMP, DROPPED], None, ["1_17"], id="day-dropped-without-an-expert"),
        pytest.param(NIGHT, True, [BUMP, PLATE_RIGHT], [SPEED, PLATE_AHEAD], ["3_24", "8_1_1"],
                     id="night-the-expert-takes-every-box"),
        pytest.param(NIGHT, True, [BUMP, PLATE_RIGHT], [NOTHING, PLATE_AHEAD], [],
                     id="night-the-expert-drops-background-and-the-plate-left-alone"),
        pytest.param(NIGHT, False, [BUMP, PLATE_RIGHT], None, ["1_17", "8_1_3"],
                     id="no-expert-the-first-classifier-always"),
    ],
)
def test_the_expert_takes_frames_unlike_daylight_and_names_plates(tmp_path, monkeypatch, frame, with_expert, first,
                                                                  expert, said):
    make_classifier_onnx(tmp_path / "c.onnx", [0.25] * 4, FIRST)
    make_classifier_onnx(tmp_path / "e.onnx", [1 / 6] * 6, EXPERT)
    named = {"astute_expert": "e.onnx"} if with_expert else {}
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx",
                               **named)
    detector = load_detector(model, tile=0, reader=False)
    assert (detector.expert is not None) == with_expert
    signs = [SIGN_ABOVE, UNDER_IT]
    rows = {"c.onnx": first, "e.onnx": expert}  # each classifier's probabilities for each box
    monkeypatch.setattr(CropClassifier, "probabilities", lambda self, image, xyxy: np.float32(
        [rows[self.path.name][signs.index(box.tolist())] for box in xyxy]))
    boxes = Detections(np.float32(signs), np.ones(2, np.float32), np.zeros(2, int))
    found = detector.describe(frame, boxes)
    assert [detector.labels[k] for k in found.class_id] == said


@pytest.mark.parametrize(("scanned", "described", "said"), [
    pytest.param(None, NIGHT, "3_24", id="no-scan-yet-the-frame-decides"),
    pytest.param(NIGHT, DAY, "3_24", id="between-scans-the-last-scan-decides"),
    pytest.param(DAY, NIGHT, "1_17", id="a-daylight-scan-holds-too"),
])
def test_frames_between_scans_follow_the_last_scan(tmp_path, scanned, described, said):
    make_classifier_onnx(tmp_path / "c.onnx", BUMP, FIRST)
    make_classifier_onnx(tmp_path / "e.onnx", SPEED, EXPERT)
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx",
                               astute_expert="e.onnx")
    detector = load_detector(model, tile=0, reader=False)
    if scanned is not None:
        detector.detect(scanned)
    found = detector.describe(described, Detections(np.float32([SIGN_ABOVE]), np.ones(1, np.float32), np.zeros(1)))
    assert [detector.labels[k] for k in found.class_id] == [said]


KEEPER = ["1_17", "3_24_n60", "background"]
A_SIGN, A_SPEED_LIMIT, NOT_A_SIGN = [.6, .1, .3], [.1, .6, .3], [.2, .1, .7]  # over KEEPER's labels
FAINT_BUMP = [.3, .05, .05, .6]  # over FIRST's: background to the first classifier, a speed bump after it


@pytest.mark.parametrize(
    ("frame", "first", "keeper", "gate", "said"),
    [
        pytest.param(DAY, BUMP, A_SIGN, 0.5, ["1_17"], id="day-both-say-sign"),
        pytest.param(DAY, BUMP, NOT_A_SIGN, 0.5, ["1_17"], id="day-the-keeper-looks-only-at-what-the-first-dropped"),
        pytest.param(DAY, FAINT_BUMP, A_SPEED_LIMIT, 0.5, ["1_17"],
                     id="day-kept-by-the-keeper-under-the-first-classifiers-kind"),
        pytest.param(DAY, FAINT_BUMP, NOT_A_SIGN, 0.5, [], id="day-dropped-by-both"),
        pytest.param(DAY, FAINT_BUMP, A_SIGN, 0.8, [], id="day-the-keeper-not-sure-enough-for-its-gate"),
        pytest.param(NIGHT, FAINT_BUMP, A_SIGN, 0.5, ["3_24"], id="night-the-expert-decides-not-the-keeper"),
    ],
)
def test_the_keeper_looks_again_at_daylight_boxes_the_first_classifier_dropped(tmp_path, monkeypatch, frame, first,
                                                                              keeper, gate, said):
    make_classifier_onnx(tmp_path / "c.onnx", [0.25] * 4, FIRST)
    make_classifier_onnx(tmp_path / "e.onnx", [1 / 6] * 6, EXPERT)
    make_classifier_onnx(tmp_path / "k.onnx", [1 / 3] * 3, KEEPER)
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx",
                               astute_expert="e.onnx", astute_keeper="k.onnx", astute_keeper_gate=str(gate))
    detector = load_detector(model, tile=0, reader=False)
    assert detector.keeper_gate == gate
    rows = {"c.onnx": first, "e.onnx": SPEED, "k.onnx": keeper}
    monkeypatch.setattr(CropClassifier, "probabilities", lambda self, image, xyxy: np.float32(
        [rows[self.path.name] for _ in xyxy]))
    found = detector.describe(frame, Detections(np.float32([ALONE]), np.ones(1, np.float32), np.zeros(1, int)))
    assert [detector.labels[k] for k in found.class_id] == said
    if said and frame is DAY and first is FAINT_BUMP:  # kept by the keeper: as sure as the keeper
        assert found.confidence.tolist() == pytest.approx([1 - keeper[2]])


@pytest.mark.parametrize("gate", ["0", "1.5", "sure"])
def test_a_bad_keeper_gate_is_refused(tmp_path, gate):
    make_classifier_onnx(tmp_path / "c.onnx", [0.25] * 4, FIRST)
    make_classifier_onnx(tmp_path / "k.onnx", [1 / 3] * 3, KEEPER)
    bad = make_detector_onnx(tmp_path / "b.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx",
                             astute_keeper="k.onnx", astute_keeper_gate=gate)
    with pytest.raises(ValueError, match=f"bad astute_keeper_gate '{gate}'"):
        load_detector(bad, tile=0)


def test_the_expert_keeps_a_dropped_plate_only_under_a_sign(tmp_path):
    make_classifier_onnx(tmp_path / "c.onnx", DROPPED, FIRST)
    make_classifier_onnx(tmp_path / "e.onnx", PLATE_AHEAD, EXPERT)
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx",
                               astute_expert="e.onnx")
    detector = load_detector(model, tile=0, reader=False)
    detector.plates_need_sign = False  # even so: the expert is asked only about boxes hanging under a kept sign
    alone = Detections(np.float32([ALONE]), np.ones(1, np.float32), np.zeros(1, int))
    assert len(detector.describe(DAY, alone)) == 0


MARKER_EXPERT = ["1_17", "8_22_1", "background"]
A_MARKER, NO_MARKER = [.1, .7, .2], [.1, .2, .7]  # over MARKER_EXPERT's labels
POST, SQUARE = [100, 10, 110, 40], [100, 10, 130, 40]  # 3 times as tall as wide; as wide as tall


@pytest.mark.parametrize(
    ("frame", "first", "box", "expert", "aspect", "said"),
    [
        pytest.param(DAY, DROPPED, POST, A_MARKER, 2.0, ["8_22_1"], id="day-a-dropped-post-the-expert-calls-a-marker"),
        pytest.param(DAY, DROPPED, POST, NO_MARKER, 2.0, [], id="day-a-dropped-post-that-is-no-marker"),
        pytest.param(DAY, DROPPED, SQUARE, A_MARKER, 2.0, [], id="day-only-tall-boxes-are-asked"),
        pytest.param(DAY, DROPPED, POST, A_MARKER, 4.0, [], id="day-not-tall-enough-for-the-rule"),
        pytest.param(DAY, BUMP, POST, A_MARKER, 2.0, ["1_17"], id="day-a-kept-box-keeps-the-first-kind"),
        pytest.param(NIGHT, DROPPED, SQUARE, A_MARKER, 2.0, ["8_22_1"], id="night-the-expert-takes-every-box"),
    ],
)
def test_the_expert_keeps_a_dropped_post_it_calls_an_obstacle_marker(tmp_path, monkeypatch, frame, first, box, expert,
                                                                     aspect, said):
    make_classifier_onnx(tmp_path / "c.onnx", [0.25] * 4, FIRST)
    make_classifier_onnx(tmp_path / "e.onnx", [1 / 3] * 3, MARKER_EXPERT)
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx",
                               astute_expert="e.onnx")
    detector = load_detector(model, tile=0, reader=False)
    detector.marker_min_aspect = aspect
    rows = {"c.onnx": first, "e.onnx": expert}
    monkeypatch.setattr(CropClassifier, "probabilities", lambda self, image, xyxy: np.float32(
        [rows[self.path.name] for _ in xyxy]))
    found = detector.describe(frame, Detections(np.float32([box]), np.full(1, 0.8, np.float32), np.zeros(1, int)))
    assert [detector.labels[k] for k in found.class_id] == said
    if said == ["8_22_1"]:  # as sure as the detector and the expert together
        assert found.confidence.tolist() == pytest.approx([0.8 * 0.7])


def test_a_label_space_without_plates_still_looks_at_tall_boxes(tmp_path, monkeypatch):
    make_classifier_onnx(tmp_path / "c.onnx", [0.5, 0.5], ["1_17", "background"])
    make_classifier_onnx(tmp_path / "e.onnx", [1 / 3] * 3, MARKER_EXPERT)
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx",
                               astute_expert="e.onnx")
    detector = load_detector(model, tile=0, reader=False)
    rows = {"c.onnx": [.1, .9], "e.onnx": A_MARKER}
    monkeypatch.setattr(CropClassifier, "probabilities", lambda self, image, xyxy: np.float32(
        [rows[self.path.name] for _ in xyxy]))
    found = detector.describe(DAY, Detections(np.float32([POST]), np.ones(1, np.float32), np.zeros(1, int)))
    assert [detector.labels[k] for k in found.class_id] == ["8_22_1"]


@pytest.mark.parametrize(("option", "labels"), [("expert", EXPERT), ("keeper", KEEPER)])
def test_the_expert_and_the_keeper_can_be_turned_off_or_given(tmp_path, option, labels):
    make_classifier_onnx(tmp_path / "c.onnx", [0.25] * 4, FIRST)
    make_classifier_onnx(tmp_path / "x.onnx", [1 / len(labels)] * len(labels), labels)
    named = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx",
                               **{f"astute_{option}": "x.onnx"})
    plain = make_detector_onnx(tmp_path / "p.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx")
    assert getattr(load_detector(named, tile=0), option).labels == labels
    assert getattr(load_detector(named, tile=0, **{option: False}), option) is None
    assert getattr(load_detector(plain, tile=0), option) is None
    given = load_detector(plain, tile=0, **{option: tmp_path / "x.onnx"})
    assert getattr(given, option).labels == labels
    if option == "expert":  # the expert's labels the first classifier lacks are added to the label space
        assert given.labels == ["1_17", "8_1_1", "8_1_3", "background", "3_24", "8_2_1"]
    with pytest.raises(ValueError, match="no such file"):
        load_detector(plain, tile=0, **{option: tmp_path / "missing.onnx"})


class _Reads70:
    """A value reader that reads 70 on every box it is given."""

    def read(self, image, xyxy, codes):
        return [Reading("70", 70.0, None, 0.99) for _ in xyxy]


@pytest.mark.parametrize(
    ("frame", "values"),
    [
        pytest.param(DAY, [70.0, 70.0], id="daylight-every-width-is-read"),
        # on a frame the expert takes, a sign under EXPERT_READ_MIN_PX is not read yet: in fog and at night the
        # reader takes a faint 7 for a 1 at 20 px
        pytest.param(NIGHT, [None, 70.0], id="dark-frame-narrow-signs-wait"),
    ],
)
def test_dark_frames_read_only_wide_enough_signs(tmp_path, frame, values):
    for name in ("c.onnx", "e.onnx"):
        make_classifier_onnx(tmp_path / name, [0.9, 0.1], ["3_24_n60", "background"])
    model = make_detector_onnx(tmp_path / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx",
                               astute_expert="e.onnx")
    detector = load_detector(model, tile=0, reader=False)
    detector.reader = _Reads70()
    narrow, wide = [10, 10, 10 + EXPERT_READ_MIN_PX - 4, 30], [80, 10, 80 + EXPERT_READ_MIN_PX, 40]
    found = detector.describe(frame, Detections(np.float32([narrow, wide]), np.ones(2, np.float32), np.zeros(2)))
    assert [None if np.isnan(v) else float(v) for v in found.value] == values
