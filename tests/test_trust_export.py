"""An exported model works wherever it is written: the classifier it names is copied beside it (issue 20,
defect 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from astute_cli import export
from astute_cli.cli import app
from tests.conftest import make_video
from tests.onnx_factories import make_classifier_onnx
from tests.test_export import check_frames, make_detector_onnx, make_images

runner = CliRunner()


@pytest.fixture
def two_stage(tmp_path) -> Path:
    """A small conv detector (real weights to quantize) naming a crop classifier beside it, in src/."""
    src = tmp_path / "src"
    src.mkdir()
    make_classifier_onnx(src / "cls.onnx", [0.05, 0.9, 0.05], ["5_19_1", "3_24_n60", "background"])
    detector = make_detector_onnx(src / "det.onnx")
    export.write_metadata(detector, {"names": repr({0: "sign"}), "astute_classifier": "cls.onnx",
                                     "astute_tile": "32"})
    return detector


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--int8", "--calib", "{calib}"], id="int8"),
        pytest.param(["--tile", "32"], id="fp32-restamped"),
    ],
)
def test_exported_model_elsewhere_annotates(tmp_path, monkeypatch, two_stage, args):
    monkeypatch.setattr(export, "labelled_frames", lambda n, seed: check_frames(4, size=32))
    calib = make_images(tmp_path / "calib", size=32)
    out = tmp_path / "elsewhere" / "model.onnx"
    out.parent.mkdir()
    result = runner.invoke(app, ["export", str(two_stage), "-o", str(out),
                                 *[a.replace("{calib}", str(calib)) for a in args]])
    assert result.exit_code == 0, result.output
    assert (out.parent / "cls.onnx").read_bytes() == (two_stage.parent / "cls.onnx").read_bytes()
    assert f"copied the crop classifier {two_stage.parent / 'cls.onnx'} beside it" in result.output.replace("\n", "")
    video = make_video(tmp_path / "v.mp4", n_frames=5, size_wh=(96, 64))
    annotated = runner.invoke(app, ["annotate", str(video), "--model", str(out), "--no-voice",
                                    "-o", str(tmp_path / "o.mp4")])
    assert annotated.exit_code == 0, annotated.output
    assert json.loads((tmp_path / "o.events.json").read_text(encoding="utf-8"))["frames"] == 5


def test_export_beside_the_classifier_copies_nothing(tmp_path, two_stage):
    out = two_stage.parent / "restamped.onnx"
    result = runner.invoke(app, ["export", str(two_stage), "-o", str(out), "--tile", "32"])
    assert result.exit_code == 0, result.output
    assert "copied" not in result.output
    assert sorted(p.name for p in two_stage.parent.iterdir()) == ["cls.onnx", "det.onnx", "restamped.onnx"]


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        pytest.param(lambda src: (src / "cls.onnx").unlink(), "not found", id="classifier-missing"),
        pytest.param(lambda src: make_classifier_onnx(src.parent / "elsewhere" / "cls.onnx", [1.0], ["x"]),
                     "a different", id="other-classifier-in-the-way"),
    ],
)
def test_export_that_cannot_bundle_its_classifier_writes_nothing(tmp_path, two_stage, prepare, message):
    (tmp_path / "elsewhere").mkdir()
    prepare(two_stage.parent)
    before = sorted(p.name for p in (tmp_path / "elsewhere").iterdir())
    result = runner.invoke(app, ["export", str(two_stage), "-o", str(tmp_path / "elsewhere" / "m.onnx"),
                                 "--tile", "32"])
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == before


def test_classifier_option_path_is_the_one_copied(tmp_path, two_stage):
    (tmp_path / "other").mkdir()
    other = make_classifier_onnx(tmp_path / "other" / "better.onnx", [0.1, 0.8, 0.1],
                                 ["5_19_1", "3_24_n60", "background"])
    out = tmp_path / "elsewhere" / "m.onnx"
    result = runner.invoke(app, ["export", str(two_stage), "-o", str(out), "--classifier", str(other)])
    assert result.exit_code == 0, result.output
    assert export.read_metadata(out)["astute_classifier"] == "better.onnx"
    assert (out.parent / "better.onnx").read_bytes() == other.read_bytes()


@pytest.mark.parametrize(
    ("option", "args", "named", "copied"),
    [
        pytest.param(option, [f"--{option}", path], named, copied, id=f"{option}-{case}")
        for option in ("expert", "keeper")
        for case, path, named, copied in [("recorded-and-copied", "{src}/exp.onnx", "exp.onnx", True),
                                          ("from-elsewhere", "{other}/better.onnx", "better.onnx", True),
                                          ("turned-off", "none", "", False)]
    ],
)
def test_the_expert_and_keeper_travel_with_the_model(tmp_path, two_stage, option, args, named, copied):
    src, other = two_stage.parent, tmp_path / "other"
    other.mkdir()
    make_classifier_onnx(src / "exp.onnx", [0.05, 0.9, 0.05], ["5_19_1", "8_1_1", "background"])
    make_classifier_onnx(other / "better.onnx", [0.1, 0.8, 0.1], ["5_19_1", "8_1_1", "background"])
    out = tmp_path / "elsewhere" / "m.onnx"
    result = runner.invoke(app, ["export", str(two_stage), "-o", str(out), "--tile", "32",
                                 *[a.format(src=src, other=other) for a in args]])
    assert result.exit_code == 0, result.output
    assert export.read_metadata(out)[f"astute_{option}"] == named
    assert (out.parent / named).is_file() == copied
    again = tmp_path / "again" / "m.onnx"  # a model naming its expert (keeper) takes it along when exported again
    assert runner.invoke(app, ["export", str(out), "-o", str(again), "--tile", "32"]).exit_code == 0
    assert (again.parent / named).is_file() == copied


@pytest.mark.parametrize("option", ["expert", "keeper"])
def test_a_missing_expert_or_keeper_writes_nothing(tmp_path, two_stage, option):
    export.write_metadata(two_stage, {f"astute_{option}": "gone.onnx"})
    out = tmp_path / "elsewhere" / "m.onnx"
    result = runner.invoke(app, ["export", str(two_stage), "-o", str(out), "--tile", "32"])
    assert result.exit_code == 1
    said = result.output.replace("\n", "")
    assert f"{option} classifier 'gone.onnx', not found" in said and f"give --{option} PATH" in said
    assert not out.parent.exists() or not any(out.parent.iterdir())


@pytest.mark.parametrize(("gate", "recorded"), [("0.7", "0.7"), ("1", "1"), ("0", None), ("1.5", None)])
def test_the_keepers_gate_is_a_probability(tmp_path, two_stage, gate, recorded):
    out = tmp_path / "elsewhere" / "m.onnx"
    result = runner.invoke(app, ["export", str(two_stage), "-o", str(out), "--tile", "32", "--keeper-gate", gate])
    if recorded is None:
        assert result.exit_code == 1 and "Keeper gate must be a probability" in result.output
        assert not out.exists()
    else:
        assert result.exit_code == 0, result.output
        assert export.read_metadata(out)["astute_keeper_gate"] == recorded
