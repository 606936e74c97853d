"""Train the detector and the crop classifier: a thin, offline wrapper over ultralytics.

ultralytics (AGPL-3.0, optional ``astute[train]`` extra) is imported only inside functions, after
:func:`offline_env` has set the variables that keep it from any download attempt. Every run leaves an
experiment log under ``benchmarks/experiments/<name>/``: the arguments, the data set's manifest, the
per-epoch ``results.csv``, the curves as PNG, the final metrics and the best weights::

    from astute_cli.train import train

    best = train("data/det/data.yaml", model="yolov8n.yaml", imgsz=320, epochs=30, name="det-v1")
    # CPU training can go on over days: the same call with resume=True picks up runs/det-v1/weights/last.pt
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from astute_cli.paths import PACKAGE_DIR, astute_home

EXPERIMENTS_DIR = Path("benchmarks") / "experiments"
"""Default folder of the experiment logs, relative to the current folder (the project root); never the package."""
RUNS_DIR = Path("runs")
"""Default folder of ultralytics' runs, relative to the current folder (the project root); never the package."""
TASKS = ("detect", "classify")
_LOG_FILES = ("args.yaml", "results.csv", "results.png", "confusion_matrix.png", "confusion_matrix_normalized.png",
              "BoxPR_curve.png", "BoxF1_curve.png", "BoxP_curve.png", "BoxR_curve.png", "labels.jpg")
_MAX_LOGGED_WEIGHTS_MB = 10.0


def offline_env() -> Path:
    """Set the environment that keeps ultralytics offline; returns its config folder.

    Must run before ``import ultralytics``. The config folder holds DejaVuSans copied as Arial.ttf and
    Arial.Unicode.ttf: without them ultralytics downloads fonts to draw its plots.
    """
    config_dir = astute_home() / "ultralytics"
    config_dir.mkdir(parents=True, exist_ok=True)
    font = _find_font()
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        if font is not None and not (config_dir / name).exists():
            shutil.copyfile(font, config_dir / name)
    os.environ.setdefault("YOLO_CONFIG_DIR", str(config_dir))
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "0"
    os.environ.setdefault("YOLO_VERBOSE", "1")
    return Path(os.environ["YOLO_CONFIG_DIR"])


def _find_font() -> Path | None:
    system = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    for candidate in (PACKAGE_DIR / "fonts" / "DejaVuSans.ttf", system):
        if candidate.exists():
            return candidate
    return None


def import_ultralytics():
    """``ultralytics`` module, imported offline; a clear error when the train extra is missing."""
    offline_env()
    try:
        import ultralytics
    except ImportError as error:
        raise RuntimeError("Training needs the train extra: pip install 'astute-cli[train]' (torch, ultralytics)") \
            from error
    return ultralytics


def resolve_data(data: str | Path, task: str = "detect", work_dir: Path | None = None) -> Path:
    """The path ultralytics should train on: a data.yaml (detect) or a folder with train/ and val/ (classify).

    Args:
        data: a YOLO ``data.yaml``, a folder holding one, a classification folder, or any real data set
            that :func:`astute_cli.labels.formats.load_any` reads (converted to YOLO under ``work_dir``).
        task: ``detect`` or ``classify``.
        work_dir: where a converted data set is written [default: ``$ASTUTE_HOME/datasets/<name>``].

    Raises:
        ValueError: the path does not exist or holds nothing trainable for the task.
    """
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}: expected one of {', '.join(TASKS)}")
    path = Path(data)
    if not path.exists():
        raise ValueError(f"No such data set: {str(path)!r}")
    if task == "classify":
        if path.is_dir() and (path / "train").is_dir():
            return path
        raise ValueError(f"Not a classification folder (needs train/<class>/ and val/<class>/): {str(path)!r}")
    if path.is_file() and path.suffix in (".yaml", ".yml"):
        return path
    if path.is_dir() and (path / "data.yaml").is_file():
        return path / "data.yaml"
    return _convert_to_yolo(path, work_dir)


def _convert_to_yolo(path: Path, work_dir: Path | None) -> Path:
    from astute_cli.labels import formats

    out = work_dir or astute_home() / "datasets" / path.stem
    dataset = formats.load_any(path)
    written = formats.to_yolo(dataset, out)
    written = Path(written) if written is not None else out
    return written if written.suffix in (".yaml", ".yml") else written / "data.yaml"


def train(
    data: str | Path,
    model: str = "yolov8n.yaml",
    task: str = "detect",
    imgsz: int = 320,
    epochs: int = 50,
    batch: int = 16,
    device: str = "cpu",
    project: str | Path | None = None,
    name: str | None = None,
    resume: bool = False,
    workers: int = 2,
    time_budget_h: float | None = None,
    experiments_dir: str | Path | None = None,
    **overrides: Any,
) -> Path:
    """Train a model from its yaml (no pretrained weights exist offline) and log the experiment.

    Args:
        data: see :func:`resolve_data`.
        model: an ultralytics model yaml (``yolov8n.yaml``, ``yolov8n-cls.yaml``) or a ``.pt`` to fine-tune.
        task: ``detect`` or ``classify``.
        imgsz: training image size in pixels; bigger sees small signs better and costs quadratically more.
        epochs: passes over the data; ignored when ``time_budget_h`` is set.
        batch: images per step; bigger uses more memory.
        device: ``cpu`` or a CUDA index such as ``0``.
        project: folder of the ultralytics run folders [default: ``runs/``].
        name: run name [default: ``<task>-<time>``]; also the experiment log's folder name.
        resume: continue the run ``project/name`` from its ``weights/last.pt`` (epochs, optimizer and all).
        workers: data-loader processes.
        time_budget_h: stop after this many hours (ultralytics' ``time``), whatever ``epochs`` says.
        experiments_dir: where the log goes [default: ``benchmarks/experiments``].
        **overrides: any other ultralytics train argument (``lr0``, ``mosaic``, ``cache``, ``patience``...).

    Returns:
        Path of ``best.pt`` (the last checkpoint when no best was saved).

    Raises:
        ValueError: bad data or nothing to resume.
        RuntimeError: the train extra is not installed.
    """
    project = Path(project or RUNS_DIR).resolve()
    name = name or f"{task}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir = project / name
    last = run_dir / "weights" / "last.pt"
    if resume and not last.exists():
        raise ValueError(f"Nothing to resume: {str(last)!r} does not exist")
    data_path = None if resume else resolve_data(data, task)
    ultralytics = import_ultralytics()
    started = time.time()
    if resume:
        yolo = ultralytics.YOLO(str(last))
        try:
            yolo.train(resume=True, **({"device": device, "workers": workers} | _resume_overrides(overrides)))
        except AssertionError as error:  # "training to N epochs is finished, nothing to resume"
            raise ValueError(f"Cannot resume {run_dir.name}: {error}") from error
    else:
        args = _train_args(data_path, task, imgsz, epochs, batch, device, project, name, workers, time_budget_h)
        # No pretrained weights exist offline: a yaml starts from scratch; a .pt goes on from its weights
        # (ultralytics drops them when pretrained=False).
        args["pretrained"] = str(model).endswith(".pt")
        yolo = ultralytics.YOLO(model, task=task)
        yolo.train(**(args | overrides))
    trainer = yolo.trainer
    save_dir = Path(trainer.save_dir) if trainer is not None else run_dir
    best = _best_weights(save_dir)
    log_experiment(save_dir, experiments_dir, data_path, trainer, time.time() - started, best, resumed=resume)
    return best


def _train_args(data: Path, task: str, imgsz: int, epochs: int, batch: int, device: str, project: Path, name: str,
                workers: int, time_budget_h: float | None) -> dict[str, Any]:
    args: dict[str, Any] = {
        "data": str(data), "imgsz": imgsz, "epochs": epochs, "batch": batch, "device": device,
        "project": str(project), "name": name, "exist_ok": True, "workers": workers,
        "pretrained": False, "amp": False, "plots": True, "verbose": True, "seed": 0,
    }
    if time_budget_h:
        args["time"] = float(time_budget_h)
    if task == "classify":
        args |= {"task": "classify", **CLASSIFY_AUGMENT}
    elif class_count(data) > 1:
        args["fliplr"] = 0.0  # a mirrored "turn left" is "turn right": only a one-class ("sign") detector may mirror
    return args


def class_count(data_yaml: str | Path) -> int:
    """How many classes a YOLO ``data.yaml`` names (``names:`` as a list or a mapping, or ``nc:``); 0 if unknown."""
    from astute_cli.labels.formats import read_simple_yaml

    try:
        spec = read_simple_yaml(Path(data_yaml))
    except (OSError, ValueError):
        return 0
    if spec["names"]:
        return len(spec["names"])
    try:
        return int(spec.get("nc") or 0)
    except ValueError:
        return 0


CLASSIFY_AUGMENT: dict[str, Any] = {"fliplr": 0.0, "scale": 0.25, "erasing": 0.1, "auto_augment": ""}
"""Crop-classifier augmentation: no mirroring (it turns "turn left" into "turn right" and mirrors printed
values), mild rescaling (the detector's boxes are tight), little erasing (a 20-px sign has no part to spare)."""


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["lr0=0.002", "cache=ram", "cos_lr=true"]`` → ``{"lr0": 0.002, "cache": "ram", "cos_lr": True}``.

    Raises:
        ValueError: an item is not KEY=VALUE.
    """
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"Bad --set {item!r}: expected KEY=VALUE, e.g. lr0=0.002")
        out[key.strip()] = _parse_value(raw.strip())
    return out


def _parse_value(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null", ""):
        return None
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def _resume_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    # ultralytics restores every argument from the checkpoint on resume; only these may change.
    allowed = {"batch", "imgsz", "time", "cache", "save_period", "patience", "epochs"}
    return {k: v for k, v in overrides.items() if k in allowed}


def _best_weights(save_dir: Path) -> Path:
    for candidate in (save_dir / "weights" / "best.pt", save_dir / "weights" / "last.pt"):
        if candidate.exists():
            return candidate
    raise RuntimeError(f"Training left no weights in {save_dir}")


def log_experiment(save_dir: Path, experiments_dir: str | Path | None, data: Path | None, trainer: Any,
                   seconds: float, best: Path | None, resumed: bool = False) -> Path:
    """Copy a run's record to ``benchmarks/experiments/<run>/``: args, manifest, results, curves, metrics, best.pt.

    Returns:
        The experiment folder.
    """
    out = Path(experiments_dir or EXPERIMENTS_DIR).resolve() / save_dir.name
    out.mkdir(parents=True, exist_ok=True)
    for file_name in _LOG_FILES:
        if (save_dir / file_name).exists():
            shutil.copy2(save_dir / file_name, out / file_name)
    manifest = _find_manifest(data)
    if manifest is not None:
        shutil.copy2(manifest, out / "data_manifest.json")
    if data is not None:
        (out / "data.txt").write_text(f"{data}\n")
    if best is not None and best.exists() and best.stat().st_size < _MAX_LOGGED_WEIGHTS_MB * 2**20:
        (out / "weights").mkdir(exist_ok=True)
        shutil.copy2(best, out / "weights" / "best.pt")
    metrics = _metrics(trainer)
    history = _load_json(out / "metrics.json").get("cpu_seconds_total", 0.0) if resumed else 0.0
    metrics |= {"run_dir": str(save_dir), "seconds_this_session": round(seconds, 1),
                "cpu_seconds_total": round(history + seconds, 1), "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                                time.gmtime())}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    return out


def _find_manifest(data: Path | None) -> Path | None:
    if data is None:
        return None
    folder = data if data.is_dir() else data.parent
    for candidate in (folder / "manifest.json", folder.parent / "manifest.json"):
        if candidate.exists():
            return candidate
    return None


def _metrics(trainer: Any) -> dict[str, Any]:
    if trainer is None:
        return {}
    metrics = {str(k): _plain(v) for k, v in (getattr(trainer, "metrics", None) or {}).items()}
    metrics["epochs_done"] = int(getattr(trainer, "epoch", -1)) + 1
    metrics["best_fitness"] = _plain(getattr(trainer, "best_fitness", None))
    return metrics


def _plain(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return value if value is None or isinstance(value, (str, int)) else str(value)


def _load_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
