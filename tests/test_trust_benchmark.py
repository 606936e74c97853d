"""benchmark and import-cvat: bad ground truth and bad outputs are one line naming the file (and the box), found
before any model runs (issue 20, defects 9, 11 and 14)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

import astute_cli.eval as bench
from astute_cli.cli import app
from astute_cli.eval.groundtruth import read_checked_coco
from tests.test_annotations import CVAT_XML

runner = CliRunner()


def _coco(folder: Path, change) -> Path:
    (folder / "images").mkdir(exist_ok=True)
    cv2.imwrite(str(folder / "images" / "a.png"), np.full((96, 96, 3), 90, np.uint8))
    coco = {"images": [{"id": 1, "file_name": "a.png", "width": 96, "height": 96}],
            "categories": [{"id": 1, "name": "3_24"}],
            "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]}]}
    text = change(coco)
    path = folder / "gt.json"
    path.write_text(text if isinstance(text, str) else json.dumps(coco), encoding="utf-8")
    return path


def _set(key, value):
    def change(coco):
        coco["annotations"][0][key] = value

    return change


@pytest.mark.parametrize(
    ("change", "words"),
    [
        pytest.param(_set("category_id", 9), ["annotation 7", "category_id 9"], id="unknown-category"),
        pytest.param(lambda c: c.pop("categories"), ["categories"], id="no-categories"),
        pytest.param(lambda c: "{not json", ["not valid JSON"], id="broken-json"),
        pytest.param(lambda c: "[]", ["not a COCO"], id="json-list"),
        pytest.param(_set("bbox", [80, 10, 30, 20]), ["annotation 7", "[80, 10, 30, 20]", "outside"],
                     id="box-outside-image"),
        pytest.param(_set("bbox", [10, 10, -5, 20]), ["annotation 7", "[10, 10, -5, 20]", "width"],
                     id="negative-width"),
        pytest.param(_set("bbox", [10, 10, 20]), ["annotation 7", "bbox"], id="short-bbox"),
        pytest.param(_set("image_id", 5), ["annotation 7", "image_id 5"], id="unknown-image"),
    ],
)
def test_bad_ground_truth_is_one_line_naming_file_and_box(tmp_path, monkeypatch, change, words):
    path = _coco(tmp_path, change)

    def no_model(*_args, **_kwargs):
        raise AssertionError("the model was loaded before the data was checked")

    monkeypatch.setattr("astute_cli.detector.load_detector", no_model)
    result = runner.invoke(app, ["benchmark", "--data", str(path)])
    assert result.exit_code == 1, result.output
    assert str(path) in result.output.replace("\n", "")
    for word in words:
        assert word in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_good_ground_truth_passes_the_check(tmp_path):
    assert read_checked_coco(_coco(tmp_path, lambda c: None))["annotations"][0]["id"] == 7


@pytest.mark.parametrize(
    "option", [pytest.param("--json", id="json"), pytest.param("--chart", id="chart")],
)
def test_benchmark_output_onto_a_folder_is_refused_before_the_run(tmp_path, monkeypatch, option):
    monkeypatch.setattr(bench, "evaluate", lambda *a, **k: pytest.fail("the benchmark ran before --json was checked"))
    result = runner.invoke(app, ["benchmark", "--data", str(_coco(tmp_path, lambda c: None)), option, str(tmp_path)])
    assert result.exit_code == 1
    assert "is a folder" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_import_cvat_onto_a_folder_is_one_line(tmp_path):
    xml = tmp_path / "annotations.xml"
    xml.write_text(CVAT_XML)
    (tmp_path / "out").mkdir()
    result = runner.invoke(app, ["import-cvat", str(xml), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "is a folder" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(lambda gt, d: ["benchmark", "--data", str(gt), "--json", str(gt)], "is the --data file",
                     id="benchmark-json-onto-ground-truth"),
        pytest.param(lambda gt, d: ["benchmark", "--data", str(gt), "--json", str(d / "r.json"), "--chart",
                                    str(d / "r.json")], "are the same file", id="benchmark-json-is-chart"),
        pytest.param(lambda gt, d: ["import-cvat", str(d / "annotations.xml"), "-o", str(d / "annotations.xml")],
                     "is the CVAT file", id="import-cvat-onto-its-input"),
    ],
)
def test_outputs_never_replace_inputs(tmp_path, monkeypatch, args, message):
    monkeypatch.setattr(bench, "evaluate", lambda *a, **k: pytest.fail("the benchmark ran before its outputs were "
                                                                       "checked"))
    gt = _coco(tmp_path, lambda c: None)
    (tmp_path / "annotations.xml").write_text(CVAT_XML)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    result = runner.invoke(app, args(gt, tmp_path))
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
