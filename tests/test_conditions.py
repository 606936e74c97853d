from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from astute_cli.cli import app
from astute_cli.detector import plates_under_signs
from astute_cli.signs import is_mounted_plate
from astute_cli.synth import camera, conditions, streets
from astute_cli.synth.condition_sets import CONDITION_SETS, ConditionSet, make_condition_set
from astute_cli.synth.dataset import DetectorSpec, detector_item


def _scene(h: int = 180, w: int = 320) -> tuple[np.ndarray, np.ndarray]:
    """A mid-grey textured frame with one sign face (a red disc) and its face map."""
    rng = np.random.default_rng(7)
    frame = np.clip(110 + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.float32)
    faces = np.zeros((h, w), np.float32)
    cv2.circle(faces, (w // 2, h // 3), h // 8, 1.0, -1)
    frame[faces > 0] = (40, 40, 200)
    return frame, faces


def _ratio(frame: np.ndarray, faces: np.ndarray) -> float:
    """How much brighter the sign face is than the scene."""
    return float(frame[faces > 0].mean() / max(frame[faces == 0].mean(), 1e-6))


@pytest.mark.parametrize("name", [c for c in conditions.CONDITIONS])
def test_condition_is_seeded_and_keeps_shape(name):
    frame, faces = _scene()
    a = conditions.apply(name, frame, faces, np.random.default_rng(3), 0.8)
    b = conditions.apply(name, frame, faces, np.random.default_rng(3), 0.8)
    assert a.shape == frame.shape and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 255
    np.testing.assert_array_equal(a, b)
    assert (np.abs(a - frame).mean() > 3) == (name != "clear")


@pytest.mark.parametrize(
    ("name", "check"),
    [
        pytest.param("night", lambda before, after: after > 2 * before, id="night-faces-retroreflect"),
        pytest.param("dusk", lambda before, after: after > before, id="dusk-faces-brighter-than-scene"),
        pytest.param("glare", lambda before, after: after < 0.9 * before, id="glare-faces-backlit"),
    ],
)
def test_conditions_light_sign_faces_apart_from_the_scene(name, check):
    frame, faces = _scene()
    frame[faces > 0] = 110  # the face as bright as the scene, so only the condition sets the ratio
    out = conditions.apply(name, frame, faces, np.random.default_rng(0), 1.0)
    assert check(_ratio(frame, faces), _ratio(out, faces))


def test_winter_puts_snow_on_the_top_of_sign_faces():
    frame, faces = _scene()
    out = conditions.apply("winter", frame, faces, np.random.default_rng(0), 1.0)
    ys, xs = np.nonzero(faces)
    top = (ys == ys.min()) | (ys == ys.min() + 1)
    assert out[ys[top], xs[top]].mean() > frame[ys[top], xs[top]].mean() + 60


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("dusk,night", ("dusk", "night"), id="two"),
        pytest.param(" Fog ", ("fog",), id="spaces-and-case"),
        pytest.param("", (), id="empty"),
        pytest.param(None, (), id="none"),
    ],
)
def test_parse_conditions(value, expected):
    assert conditions.parse_conditions(value) == expected


@pytest.mark.parametrize(
    ("parse", "value"),
    [
        pytest.param(conditions.parse_conditions, "dusk,snowstorm", id="condition"),
        pytest.param(streets.parse_layouts, "pyramid", id="layout"),
        pytest.param(streets.parse_frame_size, "4k", id="size-word"),
        pytest.param(streets.parse_frame_size, "100x100", id="size-too-small"),
    ],
)
def test_parse_rejects(parse, value):
    with pytest.raises(ValueError, match=r"must be|Unknown"):
        parse(value)


def _white_box_frame(box: tuple[int, int, int, int], wh: tuple[int, int] = (640, 360)) -> np.ndarray:
    frame = np.zeros((wh[1], wh[0], 3), np.float32)
    x1, y1, x2, y2 = box
    frame[y1:y2, x1:x2] = 255
    return frame


@pytest.mark.parametrize(
    ("box", "barrel", "shutter_px"),
    [
        pytest.param((20, 20, 80, 70), 0.3, 0.0, id="barrel-corner"),
        pytest.param((520, 250, 600, 330), 0.3, 0.0, id="barrel-bottom-right"),
        pytest.param((300, 160, 340, 200), 0.3, 0.0, id="barrel-centre"),
        pytest.param((100, 40, 160, 300), 0.0, 24.0, id="rolling-shutter-tall-box"),
        pytest.param((400, 30, 470, 90), 0.2, -16.0, id="both"),
    ],
)
def test_warp_moves_boxes_with_the_pixels(box, barrel, shutter_px):
    frame = _white_box_frame(box)
    warped = camera.warp(frame, barrel, shutter_px)
    ys, xs = np.nonzero(warped[:, :, 0] > 127)
    seen = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    moved = camera.warp_boxes(np.array([box], np.float32), (640, 360), barrel, shutter_px)[0]
    np.testing.assert_allclose(moved, seen, atol=1.5)


def test_barrel_magnifies_the_centre_squeezes_the_corners_and_keeps_the_frame_full():
    centre, corner = camera.warp_boxes(np.array([[300, 160, 340, 200], [20, 20, 80, 70]], np.float32),
                                       (640, 360), 0.3, 0.0)
    assert centre[2] - centre[0] > 40 * 1.2 and corner[2] - corner[0] < 60 * 0.95
    corners = camera.warp_boxes(np.array([[0, 0, 640, 360]], np.float32), (640, 360), 0.3, 0.0)[0]
    np.testing.assert_allclose(corners, [0, 0, 640, 360], atol=0.5)


def test_shoot_is_seeded_and_returns_a_jpeg_frame():
    frame = _white_box_frame((100, 100, 160, 160))
    model = camera.Camera(gains_bgr=(1.1, 1.0, 0.9), gamma=1.2, contrast=0.4, noise=6, motion_px=5,
                          shutter_px=8, vignette=0.3, barrel=0.2, jpeg=60)
    a, boxes_a = camera.shoot(frame, np.array([[100, 100, 160, 160]], np.float32), model, np.random.default_rng(1))
    b, boxes_b = camera.shoot(frame, np.array([[100, 100, 160, 160]], np.float32), model, np.random.default_rng(1))
    assert a.dtype == np.uint8 and a.shape == frame.shape
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(boxes_a, boxes_b)


@pytest.mark.usefixtures("shared_data")
@pytest.mark.parametrize(
    ("condition", "layout", "frame_wh"),
    [
        pytest.param("clear", "poles", (1280, 720), id="daylight-720p"),
        pytest.param("night", "touching", (1280, 720), id="night-touching"),
        pytest.param("winter", "big", (1280, 720), id="winter-big"),
        pytest.param("rain", "poles", (1280, 960), id="rain-4x3"),
    ],
)
def test_compose_street(condition, layout, frame_wh):
    a = streets.compose_street(np.random.default_rng(5), condition, layout, frame_wh)
    b = streets.compose_street(np.random.default_rng(5), condition, layout, frame_wh)
    frame, boxes, labels = a
    assert frame.shape == (frame_wh[1], frame_wh[0], 3) and frame.dtype == np.uint8
    assert boxes.dtype == np.float32 and boxes.shape == (len(labels), 4) and len(labels) > 0
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    assert (boxes >= 0).all() and (boxes[:, [0, 2]] <= frame_wh[0]).all() and (boxes[:, [1, 3]] <= frame_wh[1]).all()
    np.testing.assert_array_equal(frame, b[0])
    np.testing.assert_array_equal(boxes, b[1])


@pytest.mark.usefixtures("shared_data")
@pytest.mark.parametrize(
    ("condition", "frame_wh", "min_width"),
    [
        pytest.param("glare", (2448, 2048), 19, id="glare-5x4-sensor"),
        pytest.param("fog", (3840, 2160), 30, id="fog-4k"),
    ],
)
def test_compose_street_at_camera_resolutions(condition, frame_wh, min_width):
    frame, boxes, labels = streets.compose_street(np.random.default_rng(5), condition, "poles", frame_wh,
                                                  camera=camera.Camera(noise=1))
    assert frame.shape == (frame_wh[1], frame_wh[0], 3) and frame.dtype == np.uint8
    assert len(labels) > 0 and (boxes[:, [0, 2]] <= frame_wh[0]).all() and (boxes[:, [1, 3]] <= frame_wh[1]).all()
    assert (boxes[:, 2] - boxes[:, 0]).max() >= min_width  # sign widths scale with the frame width


@pytest.mark.usefixtures("shared_data")
def test_touching_layout_puts_signs_edge_to_edge():
    clean = camera.Camera(noise=0, jpeg=100)
    gaps = []
    for seed in range(6):
        _, boxes, _ = streets.compose_street(np.random.default_rng(seed), "clear", "touching", camera=clean)
        for i in range(len(boxes)):
            for j in range(len(boxes)):
                rows = min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1])
                cols = min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0])
                if i != j and rows > 0 and cols > 0 - 3 and boxes[j, 0] >= boxes[i, 0]:
                    gaps.append(boxes[j, 0] - boxes[i, 2])
    assert sum(1 for g in gaps if -2 <= g <= 2) >= 3  # neighbours that touch (within 2 px)


@pytest.mark.usefixtures("shared_data")
@pytest.mark.parametrize(
    ("layout", "labels"),
    [
        pytest.param("poles", None, id="poles"),
        pytest.param("touching", None, id="touching"),
        pytest.param("big", None, id="big"),
        pytest.param("poles", ["8_2_1", "8_13", "8_4_1"], id="poles-of-plates-only"),
        pytest.param("big", ["8_11", "3_24_n40"], id="big-plate-or-limit"),
        pytest.param("touching", ["8_2_1", "8_13"], id="touching-with-plates-only"),
    ],
)
def test_plates_hang_under_signs(layout, labels):
    """A mounted plate is never drawn alone or above a sign: the pipeline drops a lone plate by design, so a set
    that drew one would count a sign the product must not say as missed."""
    plates = 0
    for seed in range(10):
        _, boxes, names = streets.compose_street(np.random.default_rng(seed), "clear", layout, labels=labels,
                                                 camera=camera.Camera(noise=0))
        is_plate = np.array([is_mounted_plate(name) for name in names], bool)
        plates += int(is_plate.sum())
        assert plates_under_signs(boxes, is_plate).all(), (seed, names)
    assert plates >= 3


@pytest.mark.usefixtures("shared_data")
def test_big_signs_are_near_and_sometimes_cut_by_the_frame_edge():
    widths, cut = [], 0
    for seed in range(12):
        _, boxes, _ = streets.compose_street(np.random.default_rng(seed), "clear", "big",
                                             camera=camera.Camera(noise=0))
        widths += (boxes[:, 2] - boxes[:, 0]).tolist()
        cut += int(((boxes[:, 0] <= 0.5) | (boxes[:, 2] >= 1279.5)).sum())
    assert max(widths) > 64 and cut >= 1


@pytest.mark.usefixtures("shared_data")
def test_condition_set_is_coco_and_seeded(tmp_path):
    spec = ConditionSet(n=2, seed=11, condition="dusk", layout="touching")
    make_condition_set(tmp_path / "a", spec)
    make_condition_set(tmp_path / "b", spec)
    doc = json.loads((tmp_path / "a" / "annotations.json").read_text())
    assert len(doc["images"]) == 2 and doc["annotations"]
    names = {c["id"]: c["name"] for c in doc["categories"]}
    assert all(a["category_id"] in names and a["bbox"][2] > 0 for a in doc["annotations"])
    assert doc == json.loads((tmp_path / "b" / "annotations.json").read_text())
    assert (tmp_path / "a" / "images" / "000000.jpg").is_file()


def test_measured_sets_have_distinct_seeds_and_cover_the_issue():
    assert len({s.seed for s in CONDITION_SETS.values()}) == len(CONDITION_SETS)
    assert {"daylight", "dusk", "night", "winter", "rain", "fog", "glare", "touching", "big", "4k", "5x4"} \
        <= set(CONDITION_SETS)
    assert all(s.seed >= 1_000_000 for s in CONDITION_SETS.values())  # far from training seeds


@pytest.mark.usefixtures("shared_data")
def test_a_set_may_draw_only_given_signs(tmp_path):
    spec = ConditionSet(n=2, seed=1_000_500, labels=("8_22_1", "8_22_3"))
    make_condition_set(tmp_path, spec)
    doc = json.loads((tmp_path / "annotations.json").read_text())
    assert doc["annotations"]
    assert {c["name"] for c in doc["categories"]} <= {"8_22_1", "8_22_3", *streets.PLATES}


@pytest.mark.usefixtures("shared_data")
def test_detector_set_mixes_conditions_reproducibly():
    spec = DetectorSpec(n=4, seed=2, conditions=("night", "fog"), layouts=("touching",))
    a, boxes, labels = detector_item(spec, 1)
    b, _, _ = detector_item(spec, 1)
    assert a.shape == (320, 320, 3)
    np.testing.assert_array_equal(a, b)
    assert boxes.shape == (len(labels), 4)


@pytest.mark.usefixtures("shared_data")
def test_cli_writes_a_condition_test_set(tmp_path):
    result = CliRunner().invoke(app, ["synth", "test", str(tmp_path / "night"), "--n", "2", "--conditions", "night",
                                      "--layouts", "touching", "--seed", "1000123"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "night" / "manifest.json").read_text())
    assert manifest["spec"]["condition"] == "night" and manifest["images"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--conditions", "snowstorm"], "Unknown condition", id="unknown-condition"),
        pytest.param(["--conditions", "night,fog"], "one condition", id="two-conditions-in-a-test-set"),
        pytest.param(["--frame-size", "huge"], "frame size", id="bad-size"),
    ],
)
def test_cli_rejects_bad_condition_options(tmp_path, args, message):
    result = CliRunner().invoke(app, ["synth", "test", str(tmp_path / "t"), "--n", "1", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert not (tmp_path / "t").exists()


def test_a_street_with_no_pole_has_no_sign():
    frame, boxes, labels = streets.compose_street(np.random.default_rng(3), "night", "poles", poles=0)
    assert frame.shape == (720, 1280, 3) and len(boxes) == 0 and labels == []
