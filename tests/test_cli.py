from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from astute_cli.cli import app
from tests.conftest import BAD_VIDEOS, make_video, write_file

runner = CliRunner()

# annotate takes folders of videos: an empty folder is refused as such
CLI_BAD_VIDEOS = [p for p in BAD_VIDEOS if p.id != "folder"] + [
    pytest.param(lambda p: p, "No video files in", id="empty-folder")]


@pytest.mark.parametrize(("make", "message"), CLI_BAD_VIDEOS)
def test_annotate_bad_input_is_one_line_and_nonzero(tmp_path, make, message):
    result = runner.invoke(app, ["annotate", str(make(tmp_path)), "--no-voice"])
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.astute.mp4"))


def test_annotate_unreadable_model(tmp_path):
    video = make_video(tmp_path / "v.mp4")
    model = write_file(tmp_path / "model.onnx", b"this is not onnx")
    result = runner.invoke(app, ["annotate", str(video), "--model", str(model), "--no-voice"])
    assert result.exit_code == 1
    assert "model" in result.output.lower()
    assert not list(tmp_path.glob("*.astute.mp4"))


def test_live_without_display_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = runner.invoke(app, ["annotate", str(make_video(tmp_path / "v.mp4")), "--live"])
    assert result.exit_code == 1
    assert "No display" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_annotate_unwritable_output_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    result = runner.invoke(app, ["annotate", str(make_video(tmp_path / "v.mp4")), "-o", str(folder / "o.mp4")])
    assert result.exit_code == 1


def _tiny_model(tmp_path):
    from tests.onnx_factories import make_classifier_onnx, make_detector_onnx

    make_classifier_onnx(tmp_path / "cls.onnx", [0.05, 0.9, 0.05], ["5_19_1", "3_24_n60", "background"])
    return make_detector_onnx(tmp_path / "det.onnx", [[40, 30, 24, 24, 0.8]], ["sign"], imgsz=(64, 64),
                              astute_classifier="cls.onnx", astute_tile="64")


@pytest.mark.parametrize(
    ("args", "text"),
    [
        pytest.param(["--no-voice"], "Ограничение скорости 60", id="ru-silent"),
        pytest.param(["--lang", "en"], "Speed limit 60 km/h", id="en-spoken"),
    ],
)
def test_annotate_end_to_end_with_a_tiny_model(tmp_path, monkeypatch, args, text):
    import json

    from astute_cli.ffmpeg import has_audio_stream

    monkeypatch.setattr("astute_cli.detector.READER_MODEL", tmp_path / "no-reader.onnx")  # value from its classes

    video = make_video(tmp_path / "drive.mp4", n_frames=15, size_wh=(160, 96), fps=10.0)
    out = tmp_path / "out" / "annotated.mp4"
    out.parent.mkdir()
    result = runner.invoke(app, ["annotate", str(video), "--model", str(_tiny_model(tmp_path)), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    events = json.loads((tmp_path / "out" / "annotated.events.json").read_text(encoding="utf-8"))
    assert events["frames"] == 15
    assert [(e["sign"], e["value"], e["text"]) for e in events["events"]] == [("3_24", 60, text)]
    assert has_audio_stream(out) is ("--no-voice" not in args)
    assert text in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--mine-with", "{tmp}/missing.onnx"], "no such model file", id="mine-with-missing-model"),
        pytest.param(["--set", "lr0"], "expected KEY=VALUE", id="train-bad-set"),
        pytest.param(["--mine-frames", "5"], "makes no crops", id="classifier-set-of-nothing"),
    ],
)
def test_synth_and_train_bad_options_are_one_line(tmp_path, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    command = (["synth", "classifier", str(tmp_path / "set"), "--per-class", "0"] if args[0].startswith("--mine")
               else ["train", str(tmp_path)])
    result = runner.invoke(app, [*command, *args])
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
