from __future__ import annotations

import json
from contextlib import ExitStack as DoesNotRaise

import numpy as np
import pytest

from astute_cli.labels.clips import (
    ClipLabels,
    SignTrack,
    first_readable,
    from_cvat_video,
    interpolate_boxes,
    is_clip_labels,
    load_clip_labels,
    make_label,
    parse_label,
)

CVAT_XML = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><id>7</id><name>drive</name><size>30</size><mode>interpolation</mode>
    <original_size><width>1280</width><height>720</height></original_size>
    <source>drive.mp4</source></task></meta>
  <track id="0" label="3_24" source="manual">
    <box frame="2" outside="0" occluded="0" keyframe="1" xtl="100" ytl="100" xbr="110" ybr="110" z_order="0">
      <attribute name="value">60</attribute></box>
    <box frame="6" outside="0" occluded="0" keyframe="1" xtl="100" ytl="100" xbr="130" ybr="130" z_order="0">
      <attribute name="value">60</attribute></box>
    <box frame="7" outside="1" occluded="0" keyframe="1" xtl="100" ytl="100" xbr="130" ybr="130" z_order="0">
      <attribute name="value">60</attribute></box>
  </track>
  <track id="1" label="5_19_1" source="manual">
    <box frame="10" outside="0" occluded="0" keyframe="1" xtl="0" ytl="0" xbr="20" ybr="20" z_order="0"/>
    <box frame="11" outside="0" occluded="1" keyframe="0" xtl="0" ytl="0" xbr="22" ybr="22" z_order="0"/>
  </track>
</annotations>
"""


@pytest.mark.parametrize(("label", "expected"), [
    pytest.param("3_24_n60", ("3_24", 60.0), id="speed"),
    pytest.param("3_13_r3.5", ("3_13", 3.5), id="height"),
    pytest.param("5_19_1", ("5_19_1", None), id="no-value"),
])
def test_parse_label(label, expected):
    assert parse_label(label) == expected


def test_make_label_round_trip():
    assert parse_label(make_label("3_13", 3.5)) == ("3_13", 3.5)
    assert parse_label(make_label("3_24", 60)) == ("3_24", 60.0)
    assert make_label("2_1", None) == "2_1"


def test_interpolate_boxes_fills_frames_linearly():
    frames, boxes = interpolate_boxes(np.array([0, 4]), np.array([[0, 0, 10, 10], [4, 4, 18, 18]]))
    assert frames.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(boxes[2], [2, 2, 14, 14])


def test_first_readable():
    frames = np.array([3, 4, 5])
    xyxy = np.array([[0, 0, 10, 10], [0, 0, 20, 20], [0, 0, 30, 30]])
    assert first_readable(frames, xyxy) == 4
    assert first_readable(frames, xyxy, min_width_px=100) is None


def test_save_load_round_trip(tmp_path):
    sign = SignTrack(id=1, label="3_24_n60", frames=[0, 1, 2], xyxy=[[0, 0, 10, 10], [0, 0, 20, 20], [0, 0, 30, 30]],
                     passed_frame=3, readable_frame=1, distance_m=[30, 20, 10])
    labels = ClipLabels(video="clip.mp4", fps=25.0, width=64, height=48, n_frames=5, signs=[sign], meta={"k": 1})
    path = labels.save(tmp_path / "clip.labels.json")
    loaded = load_clip_labels(path)
    assert is_clip_labels(path)
    assert loaded.to_dict() == labels.to_dict()
    assert loaded.video_path() == (tmp_path / "clip.mp4").resolve()
    first = loaded.signs[0]
    assert (first.sign, first.value, first.unit) == ("3_24", 60.0, "km/h")
    np.testing.assert_allclose(first.box_at(1), [0, 0, 20, 20])
    assert first.box_at(4) is None
    assert first.max_width() == 30


def test_keyframes_in_json_are_interpolated(tmp_path):
    data = {"video": "x.mp4", "fps": 10, "width": 100, "height": 100, "frames": 10,
            "signs": [{"id": 3, "sign": "3_13", "value": 3.5, "keyframes": True,
                       "boxes": [[0, 0, 0, 10, 10], [2, 0, 0, 30, 30]]}]}
    (tmp_path / "x.json").write_text(json.dumps(data))
    sign = load_clip_labels(tmp_path / "x.json").signs[0]
    assert sign.label == "3_13_r3.5"
    assert sign.frames.tolist() == [0, 1, 2]
    assert sign.passed_frame == 3
    assert sign.readable_frame == 1


def test_shared_video_resolves_in_shared_data(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTUTE_DATA", str(tmp_path))
    labels = ClipLabels(video="shared:backgrounds/a.mp4", fps=25, width=2, height=2, n_frames=1)
    assert labels.video_path() == tmp_path / "backgrounds" / "a.mp4"


def test_from_cvat_video(tmp_path):
    xml = tmp_path / "annotations.xml"
    xml.write_text(CVAT_XML)
    labels = from_cvat_video(xml)
    assert (labels.width, labels.height, labels.video, labels.fps) == (1280, 720, "drive.mp4", 25.0)
    speed, crossing = labels.signs
    assert speed.label == "3_24_n60"
    assert speed.frames.tolist() == [2, 3, 4, 5, 6]
    np.testing.assert_allclose(speed.box_at(4), [100, 100, 120, 120])
    assert speed.passed_frame == 7
    assert speed.readable_frame == 4
    assert crossing.label == "5_19_1"
    assert crossing.passed_frame == 12
    assert labels.n_frames == 30
    assert load_clip_labels(xml).to_dict() == labels.to_dict()


@pytest.mark.parametrize(("content", "expectation"), [
    pytest.param("{not json", pytest.raises(ValueError, match="Not a JSON"), id="bad-json"),
    pytest.param('{"a": 1}', pytest.raises(ValueError, match="no 'signs'"), id="not-labels"),
    pytest.param('{"video": "a", "fps": 1, "width": 1, "height": 1, "frames": 0, "signs": []}', DoesNotRaise(),
                 id="empty-clip"),
])
def test_load_errors(tmp_path, content, expectation):
    path = tmp_path / "labels.json"
    path.write_text(content)
    with expectation:
        load_clip_labels(path)


def test_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="No such label file"):
        load_clip_labels(tmp_path / "nope.json")


def test_committed_clip_labels_load():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "annotations"
    paths = sorted(folder.glob("*.labels.json"))
    if not paths:
        pytest.skip("no committed clips")
    for path in paths:
        labels = load_clip_labels(path)
        for sign in labels.signs:
            assert (np.diff(sign.frames) > 0).all()
            assert sign.passed_frame > sign.frames[-1] if len(sign.frames) else True


def test_cli_import_cvat(tmp_path):
    from typer.testing import CliRunner

    from astute_cli.cli import app

    xml = tmp_path / "annotations.xml"
    xml.write_text(CVAT_XML)
    out = tmp_path / "clip.labels.json"
    result = CliRunner().invoke(app, ["import-cvat", str(xml), "-o", str(out), "--fps", "30"])
    assert result.exit_code == 0, result.output
    labels = load_clip_labels(out)
    assert labels.fps == 30.0 and [s.label for s in labels.signs] == ["3_24_n60", "5_19_1"]
    bad = CliRunner().invoke(app, ["import-cvat", str(tmp_path / "nope.xml"), "-o", str(out)])
    assert bad.exit_code == 1


def test_save_elsewhere_keeps_the_video_reachable(tmp_path):
    (tmp_path / "a").mkdir()
    labels = ClipLabels(video="clip.mp4", fps=25, width=2, height=2, n_frames=1)
    labels.save(tmp_path / "a" / "clip.labels.json")
    moved = load_clip_labels(tmp_path / "a" / "clip.labels.json")
    moved.save(tmp_path / "b" / "copy.labels.json")
    assert moved.video == "../a/clip.mp4"
    assert load_clip_labels(tmp_path / "b" / "copy.labels.json").video_path() == (tmp_path / "a" / "clip.mp4").resolve()
