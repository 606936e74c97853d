"""Tests of the training wrapper: data resolution, offline settings, the experiment log, and (integration) a run."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack as DoesNotRaise
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from astute_cli import train as training


def make_yolo_dataset(root: Path, n_train: int = 8, n_val: int = 4, size: int = 64, seed: int = 0) -> Path:
    """A one-class YOLO data set of red discs on noise, with a manifest.json."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("val", n_val)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            image = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
            r = int(rng.integers(6, size // 4))
            cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
            cv2.circle(image, (cx, cy), r, (0, 0, 255), -1)
            cv2.imwrite(str(root / "images" / split / f"{i}.jpg"), image)
            (root / "labels" / split / f"{i}.txt").write_text(
                f"0 {cx / size:.5f} {cy / size:.5f} {2 * r / size:.5f} {2 * r / size:.5f}\n")
    (root / "data.yaml").write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n  0: sign\n")
    (root / "manifest.json").write_text(json.dumps({"generator": "test", "seed": seed}))
    return root


def make_classify_dataset(root: Path, per_class: int = 4, size: int = 32) -> Path:
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for name, color in (("3_24_n60", (0, 0, 255)), ("background", (0, 255, 0))):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                image = rng.integers(0, 80, (size, size, 3), dtype=np.uint8)
                cv2.circle(image, (size // 2, size // 2), size // 3, color, -1)
                cv2.imwrite(str(folder / f"{i}.png"), image)
    return root


@pytest.mark.parametrize(
    ("layout", "task", "expected", "expectation"),
    [
        pytest.param("yolo-dir", "detect", "data.yaml", DoesNotRaise(), id="folder-with-data-yaml"),
        pytest.param("yolo-yaml", "detect", "data.yaml", DoesNotRaise(), id="data-yaml"),
        pytest.param("cls-dir", "classify", "cls", DoesNotRaise(), id="classification-folder"),
        pytest.param("yolo-dir", "classify", None, pytest.raises(ValueError, match="classification folder"),
                     id="detect-data-for-classify"),
        pytest.param("missing", "detect", None, pytest.raises(ValueError, match="No such data set"), id="missing"),
        pytest.param("yolo-yaml", "segment", None, pytest.raises(ValueError, match="Unknown task"), id="bad-task"),
    ],
)
def test_resolve_data(tmp_path, layout, task, expected, expectation):
    paths = {"yolo-dir": make_yolo_dataset(tmp_path / "yolo"), "cls-dir": make_classify_dataset(tmp_path / "cls"),
             "missing": tmp_path / "nothing"}
    paths["yolo-yaml"] = paths["yolo-dir"] / "data.yaml"
    with expectation:
        assert training.resolve_data(paths[layout], task).name == expected


def test_resolve_data_converts_coco_to_yolo(tmp_path):
    pytest.importorskip("astute_cli.labels.formats")
    (tmp_path / "coco" / "images").mkdir(parents=True)
    images, annotations = [], []
    for i in range(3):
        cv2.imwrite(str(tmp_path / "coco" / "images" / f"{i}.jpg"), np.zeros((64, 96, 3), np.uint8))
        images.append({"id": i + 1, "file_name": f"{i}.jpg", "width": 96, "height": 64})
        annotations.append({"id": i + 1, "image_id": i + 1, "category_id": 1, "bbox": [10, 10, 20, 20]})
    coco = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "5_19_1"}]}
    (tmp_path / "coco" / "annotations.json").write_text(json.dumps(coco))
    data_yaml = training.resolve_data(tmp_path / "coco" / "annotations.json", work_dir=tmp_path / "yolo")
    assert data_yaml.name == "data.yaml" and data_yaml.exists()
    assert "5_19_1" in data_yaml.read_text()


def test_offline_env_sets_fonts_and_flags(astute_home, monkeypatch):
    monkeypatch.delenv("YOLO_CONFIG_DIR", raising=False)
    config = training.offline_env()
    assert config == astute_home / "ultralytics"
    assert (config / "Arial.ttf").stat().st_size > 100_000
    assert (config / "Arial.Unicode.ttf").exists()
    assert os.environ["YOLO_OFFLINE"] == "1" and os.environ["YOLO_AUTOINSTALL"] == "0"


def test_log_experiment_copies_the_record(tmp_path):
    data = make_yolo_dataset(tmp_path / "data") / "data.yaml"
    run = tmp_path / "runs" / "det-test"
    (run / "weights").mkdir(parents=True)
    (run / "results.csv").write_text("epoch,metrics/mAP50(B)\n1,0.5\n")
    (run / "args.yaml").write_text("imgsz: 320\n")
    (run / "weights" / "best.pt").write_bytes(b"w" * 100)
    trainer = SimpleNamespace(metrics={"metrics/mAP50(B)": np.float64(0.5)}, epoch=0, best_fitness=0.4)
    out = training.log_experiment(run, tmp_path / "exp", data, trainer, 12.0, run / "weights" / "best.pt")
    assert sorted(p.name for p in out.iterdir()) == ["args.yaml", "data.txt", "data_manifest.json", "metrics.json",
                                                    "results.csv", "weights"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["metrics/mAP50(B)"] == 0.5 and metrics["epochs_done"] == 1
    training.log_experiment(run, tmp_path / "exp", data, trainer, 8.0, None, resumed=True)
    assert json.loads((out / "metrics.json").read_text())["cpu_seconds_total"] == 20.0


def test_resume_without_a_checkpoint_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="Nothing to resume"):
        training.train(tmp_path, project=tmp_path / "runs", name="nothing", resume=True)


def test_cli_train_bad_data_is_one_line(tmp_path):
    from typer.testing import CliRunner

    from astute_cli.cli import app

    result = CliRunner().invoke(app, ["train", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "No such data set" in result.output


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("task", ["detect", "classify"])
def test_train_one_epoch_logs_and_exports(tmp_path, task):
    pytest.importorskip("ultralytics")
    from astute_cli.export import export_onnx, read_metadata

    if task == "detect":
        data, model, imgsz = make_yolo_dataset(tmp_path / "data"), "yolov8n.yaml", 64
    else:
        data, model, imgsz = make_classify_dataset(tmp_path / "data"), "yolov8n-cls.yaml", 32
    best = training.train(data, model=model, task=task, imgsz=imgsz, epochs=1, batch=4, workers=0,
                          project=tmp_path / "runs", name=f"{task}-test", experiments_dir=tmp_path / "exp")
    assert best.exists()
    log = tmp_path / "exp" / f"{task}-test"
    assert (log / "results.csv").exists() and (log / "metrics.json").exists()
    assert (log / "weights" / "best.pt").exists()
    onnx_path = export_onnx(best, tmp_path / f"{task}.onnx", imgsz=imgsz)
    meta = read_metadata(onnx_path)
    if task == "classify":
        assert "3_24_n60" in json.loads(meta["astute_values"])["classes"]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param([], {}, id="none"),
        pytest.param(["lr0=0.002"], {"lr0": 0.002}, id="float"),
        pytest.param(["patience=5", "cache=ram"], {"patience": 5, "cache": "ram"}, id="int-and-text"),
        pytest.param(["cos_lr=True", "auto_augment="], {"cos_lr": True, "auto_augment": None}, id="bool-and-none"),
        pytest.param([" mosaic = 0.5 "], {"mosaic": 0.5}, id="spaces"),
    ],
)
def test_parse_overrides(items, expected):
    from astute_cli.train import parse_overrides

    assert parse_overrides(items) == expected


@pytest.mark.parametrize("item", ["lr0", "=3", ""])
def test_parse_overrides_rejects_what_is_not_key_value(item):
    from astute_cli.train import parse_overrides

    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_overrides([item])


def test_classifier_training_never_mirrors_signs(tmp_path):
    from astute_cli.train import _train_args

    args = _train_args(tmp_path, "classify", 64, 1, 8, "cpu", tmp_path, "x", 0, None)
    assert args["fliplr"] == 0.0 and args["task"] == "classify"


@pytest.mark.parametrize(
    ("names", "fliplr"),
    [
        pytest.param("names: [sign]", None, id="one-class-detector-may-mirror"),
        pytest.param("names:\n  0: 3_24_n60\n  1: 1_11_1", 0.0, id="all-classes-never-mirrors"),
        pytest.param("names: [3_24_n60, 1_11_1]", 0.0, id="all-classes-as-a-list"),
        pytest.param("nc: 2", 0.0, id="nc-only"),
    ],
)
def test_sign_class_detector_never_mirrors(tmp_path, names, fliplr):
    from astute_cli.train import _train_args

    data = tmp_path / "data.yaml"
    data.write_text(f"path: .\ntrain: images/train\nval: images/val\n{names}\n")
    args = _train_args(data, "detect", 320, 1, 8, "cpu", tmp_path, "x", 0, None)
    assert args.get("fliplr") == fliplr


@pytest.mark.slow
def test_new_classes_are_learned_without_moving_the_old_ones(tmp_path):
    """benchmarks/widen_classifier.py --fit-new: the widened head's old rows (and every other weight) stay cls-v7's;
    only the new class's row is learned."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("ultralytics")
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("widen", root / "benchmarks" / "widen_classifier.py")
    widen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(widen)
    weights = root / "benchmarks" / "experiments" / "cls-v7" / "weights" / "best.pt"
    old = torch.load(weights, map_location="cpu", weights_only=False)
    old_model = (old.get("ema") or old["model"]).float()
    names = list(old_model.names.values())
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for name in [*names, "4_6"]:
            folder = tmp_path / "data" / split / name
            folder.mkdir(parents=True)
            for i in range(2 if name != "4_6" else 6):
                colour = (200, 80, 20) if name == "4_6" else tuple(int(v) for v in rng.integers(0, 255, 3))
                image = np.full((64, 64, 3), colour, np.uint8)
                cv2.circle(image, (32, 32), 20, (255, 255, 255) if name == "4_6" else colour, 3)
                cv2.imwrite(str(folder / f"{i}.jpg"), image)
    out = tmp_path / "wide.pt"
    report = widen.widen(weights, tmp_path / "data", out)
    assert report["added"] == ["4_6"] and not report["dropped"]
    result = widen.fit_new(out, tmp_path / "data", out, report["added"], epochs=150)
    assert result["fitted"] == ["4_6"]
    model = torch.load(out, map_location="cpu", weights_only=False)["model"].float()
    new_names = [model.names[i] for i in range(len(model.names))]
    head, old_head = model.model[-1].linear, old_model.model[-1].linear
    rows = [new_names.index(name) for name in names]
    assert torch.equal(head.weight[rows].half(), old_head.weight.half())
    assert torch.equal(head.bias[rows].half(), old_head.bias.half())
    assert torch.equal(model.model[0].conv.weight.half(), old_model.model[0].conv.weight.half())
    assert result["after"][0] > result["val top-1 new / old classes, before"][0]
