from __future__ import annotations

import numpy as np
import pytest

from astute_cli.geometry import focal_px
from astute_cli.labels.clips import load_clip_labels
from astute_cli.synth.drive import Camera, PlacedSign, pictogram, render_drive, sign_size_m
from astute_cli.synth.scenarios import demo_scenario, random_scenario
from tests.conftest import read_frames


def test_camera_box_is_pinhole_exact():
    camera = Camera(1280, 720, hfov_deg=70.0, camera_height_m=1.3, horizon_frac=0.5, speed_kmh=36.0)
    sign = PlacedSign("3_24_n60", x_m=4.0, z_m=30.0, height_m=2.3, size_m=0.7)
    box = camera.box(sign, t_s=1.0, aspect_hw=1.0)  # 10 m/s: 20 m ahead
    f = focal_px(1280, 70.0)
    np.testing.assert_allclose((box[2] - box[0]), f * 0.7 / 20.0, rtol=1e-6)
    np.testing.assert_allclose((box[0] + box[2]) / 2, 640 + f * 4.0 / 20.0, rtol=1e-6)
    np.testing.assert_allclose((box[1] + box[3]) / 2, 360 - f * 1.0 / 20.0, rtol=1e-6)
    assert camera.box(sign, t_s=2.95, aspect_hw=1.0) is None  # closer than NEAR_M


@pytest.mark.parametrize("label", ["3_24_n40", "3_13_r3.5", "5_19_1", "8_2_1"])
def test_pictogram_is_rgba(label, shared_data):
    image = pictogram(label, 64)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 4
    assert max(image.shape[:2]) == 64


def test_render_drive_labels_match_video(tmp_path, shared_data):
    signs = [PlacedSign("3_24_n60", 4.0, 25.0, 2.3), PlacedSign("5_19_1", -4.5, 35.0, 2.3)]
    labels = render_drive(tmp_path / "d.mp4", signs, speed_kmh=60, fps=10, resolution_wh=(320, 180),
                          duration_s=2.4, seed=3, labels_path=tmp_path / "d.labels.json")
    frames = read_frames(tmp_path / "d.mp4")
    assert len(frames) == labels.n_frames == 24
    assert frames[0].shape == (180, 320, 3)
    loaded = load_clip_labels(tmp_path / "d.labels.json")
    assert loaded.video_path() == (tmp_path / "d.mp4").resolve()
    first = loaded.signs[0]
    widths = first.xyxy[:, 2] - first.xyxy[:, 0]
    assert (np.diff(widths) >= 0).all()  # grows as the car approaches
    assert first.passed_frame < labels.n_frames  # left the frame before the end
    assert first.readable_frame is not None
    assert (np.diff(first.distance_m) < 0).all()
    # the sign's box has the red ring of the speed limit: redder than the road around it
    i = len(first.frames) - 3
    x1, y1, x2, y2 = first.xyxy[i].astype(int)
    patch = frames[first.frames[i]][y1:y2, x1:x2].astype(float)
    assert patch[..., 2].mean() > patch[..., 0].mean() + 15


def _drive_under(tmp_path, condition: str, strength: float | None = 0.8):
    signs = [PlacedSign("3_24_n60", 3.5, 16.0, 2.0), PlacedSign("5_19_1", -3.5, 20.0, 2.0)]
    labels = render_drive(tmp_path / f"{condition}.mp4", signs, speed_kmh=36, fps=10, resolution_wh=(320, 180),
                          duration_s=1.0, seed=3, condition=condition, condition_strength=strength)
    return labels, read_frames(tmp_path / f"{condition}.mp4")


def _face_and_rest(frame: np.ndarray, box: np.ndarray) -> tuple[float, float]:
    x1, y1, x2, y2 = box.astype(int)
    inside = np.zeros(frame.shape[:2], bool)
    inside[y1:y2, x1:x2] = True
    return float(frame[inside].mean()), float(frame[~inside].mean())


@pytest.mark.parametrize(("condition", "looks_so"), [
    # at night the scene goes dark and the sign faces stay bright in the headlights
    ("night", lambda clear, lit, box: lit.mean() < 0.5 * clear.mean()
     and _face_and_rest(lit, box)[0] > 2 * _face_and_rest(lit, box)[1]),
    # fog lifts the blacks and flattens the contrast
    ("fog", lambda clear, lit, box: np.percentile(lit, 1) > np.percentile(clear, 1) + 20 and lit.std() < clear.std()),
    # winter: the ground turns white
    ("winter", lambda clear, lit, box: lit[150:].mean() > clear[150:].mean() + 30),
])
def test_drive_under_a_condition_keeps_its_labels(tmp_path, shared_data, condition, looks_so):
    clear_labels, clear = _drive_under(tmp_path, "clear")
    labels, lit = _drive_under(tmp_path, condition)
    for ours, theirs in zip(labels.signs, clear_labels.signs, strict=True):
        np.testing.assert_array_equal(ours.frames, theirs.frames)
        np.testing.assert_array_equal(ours.xyxy, theirs.xyxy)
    last = labels.signs[0].frames[-1]
    assert looks_so(clear[last].astype(float), lit[last].astype(float), labels.signs[0].xyxy[-1])


def test_drive_condition_is_one_known_name(tmp_path, shared_data):
    for bad in ("snow", "night,fog"):
        with pytest.raises(ValueError, match="condition"):
            _drive_under(tmp_path, bad)


def test_random_drives_under_conditions_are_the_same_drives():
    from astute_cli.synth.scenarios import random_specs

    plain, under = random_specs(4, 900), random_specs(4, 900, ("night", "rain"))
    assert [s.condition for s in under] == ["night", "rain", "night", "rain"]
    assert [s.name for s in under] == [p.name + "_" + s.condition for p, s in zip(plain, under, strict=True)]
    assert [(s.speed_kmh, s.fps, s.seed, s.background) for s in under] == [
        (s.speed_kmh, s.fps, s.seed, s.background) for s in plain]


def test_random_scenario_signs_are_passed_before_the_end():
    signs = random_scenario(seed=5, duration_s=10, speed_kmh=90)
    assert signs
    assert all(3.0 <= abs(s.x_m) <= 6.0 for s in signs)
    leave = 6.0 / np.tan(np.radians(35))
    assert max(s.z_m for s in signs) <= 90 / 3.6 * 10 + 3 + leave
    assert signs == random_scenario(seed=5, duration_s=10, speed_kmh=90)


def test_demo_scenario_has_the_briefed_signs():
    labels = {s.label for s in demo_scenario()}
    assert {"3_24_n60", "5_19_1", "2_1", "3_13_r3.5", "1_23"} <= labels
    assert sign_size_m("1_23") > sign_size_m("3_24_n60") * 0.99


def test_bundled_demo_clip():
    from astute_cli.paths import CLIPS_DIR

    path = CLIPS_DIR / "demo.labels.json"
    if not path.exists():
        pytest.skip("no bundled demo clip")
    labels = load_clip_labels(path)
    assert labels.video_path().stat().st_size < 3_000_000
    assert (labels.width, labels.height, labels.fps) == (1280, 720, 25.0)
    for sign in labels.signs:
        assert sign.passed_frame < labels.n_frames
        if not sign.sign.startswith("8_"):
            assert sign.max_width() >= 60


@pytest.mark.parametrize("background", ["solidWhiteRight", "vehicle-detection", "test1"])
def test_background_any_time_any_size(background, shared_data):
    from astute_cli.synth.drive import Background

    bg = Background(background, (64, 36), speed_kmh=60)
    for t in (0.0, 1.3, 17.9, 100.0):  # past the footage's end: played back and forth
        assert bg.frame_at(t).shape == (36, 64, 3)


def test_unknown_background_is_a_value_error():
    from astute_cli.synth.drive import Background

    with pytest.raises(ValueError, match="No such background"):
        Background("nope", (64, 36), speed_kmh=60)


def test_cli_make_clips_needs_something_to_do(tmp_path):
    from typer.testing import CliRunner

    from astute_cli.cli import app

    result = CliRunner().invoke(app, ["make-clips", str(tmp_path)])
    assert result.exit_code == 1
    assert "--limit-drives" in result.output
    result = CliRunner().invoke(app, ["make-clips", str(tmp_path), "--count", "1", "--conditions", "snow"])
    assert result.exit_code == 1
    assert "Unknown condition 'snow'" in result.output
    assert not list(tmp_path.iterdir())
