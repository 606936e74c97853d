"""What a benchmark run measured (frames, clips, speed), saved as JSON and shown as a Rich table."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

WIDTH_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<20", 0, 20), ("20-32", 20, 32), ("32-64", 32, 64), (">64", 64, float("inf")))
"""Sign-width classes (pixels) of the frame metrics."""
CLIP_SIZE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<48", 0, 48), ("48-80", 48, 80), ("80-112", 80, 112), (">112", 112, float("inf")))
"""Classes of a clip sign's largest width (pixels; how big it gets before it is passed)."""


@dataclass
class FrameMetrics:
    """Detection quality on still frames (see the module docstring)."""

    images: int
    gt_boxes: int
    predictions: int
    recall_any: float
    recall_class: float
    precision_any: float
    precision_class: float
    map50: float
    map50_95: float
    map50_class: float
    map50_95_class: float
    conf: float | None = None
    by_width: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class ClipMetrics:
    """Alert quality on labelled clips (see the module docstring)."""

    clips: int
    signs: int
    duration_s: float
    sign_recall: float
    value_accuracy: float | None
    false_alerts: int
    false_alerts_per_min: float
    duplicate_alerts: int
    lead_time_s_median: float | None
    earliest_lead_s_median: float | None
    eval_fps: float | None = None
    wrong_kind_alerts: int = 0
    per_clip: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_size: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_sign: list[dict[str, Any]] = field(default_factory=list)
    speed_limit_time_right: float | None = None
    speed_limit_changes_caught: float | None = None
    speed_limit: dict[str, Any] | None = None
    """On clips labelled with a limit timeline (``eval.limits``): the shown limit's share of time right and of
    changes caught; ``speed_limit`` holds the details and ``rules``, the same with every sign detected."""


@dataclass
class SpeedMetrics:
    """CPU throughput: the whole pipeline (decode, detect, track, announce) and the detector alone."""

    fps_pipeline: float | None
    fps_detector: float
    threads: int | None
    frames: int


@dataclass
class BenchmarkResult:
    """One model's benchmark. A section is None when its data was not given.

    Attributes:
        model: the model file (or ``bundled``).
        model_size_mb: size of the ONNX file.
        data: the paths evaluated.
        frames, clips, speed: the sections.
        command: the command line that made it (for benchmarks/ records).
    """

    model: str
    model_size_mb: float | None = None
    data: list[str] = field(default_factory=list)
    frames: FrameMetrics | None = None
    clips: ClipMetrics | None = None
    speed: SpeedMetrics | None = None
    command: str | None = None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"model": self.model, "model_size_mb": self.model_size_mb, "data": self.data}
        for name in ("frames", "clips", "speed"):
            section = getattr(self, name)
            if section is not None:
                out[name] = _rounded(asdict(section))
        if self.command:
            out["command"] = self.command
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict) -> BenchmarkResult:
        return cls(model=data.get("model", "?"), model_size_mb=data.get("model_size_mb"),
                   data=list(data.get("data", [])), command=data.get("command"),
                   frames=FrameMetrics(**data["frames"]) if "frames" in data else None,
                   clips=ClipMetrics(**data["clips"]) if "clips" in data else None,
                   speed=SpeedMetrics(**data["speed"]) if "speed" in data else None)

    @classmethod
    def load(cls, path: str | Path) -> BenchmarkResult:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_dict(data[0] if isinstance(data, list) else data)

    def table(self):
        """A Rich table of this result (see :func:`results_table` for several models)."""
        return results_table([self])


def save_results(results: list[BenchmarkResult], path: str | Path) -> Path:
    """One result as an object, several as a list."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: Any = results[0].to_dict() if len(results) == 1 else [r.to_dict() for r in results]
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


_TABLE_ROWS = (
    ("frames", "recall_any", "frames: recall (any class)", "{:.3f}"),
    ("frames", "recall_class", "frames: recall (right class)", "{:.3f}"),
    ("frames", "precision_any", "frames: precision (any class)", "{:.3f}"),
    ("frames", "precision_class", "frames: precision (right class)", "{:.3f}"),
    ("frames", "map50", "frames: mAP50 (any class)", "{:.3f}"),
    ("frames", "map50_95", "frames: mAP50-95 (any class)", "{:.3f}"),
    ("frames", "map50_class", "frames: mAP50 (class)", "{:.3f}"),
    ("clips", "sign_recall", "clips: sign recall", "{:.3f}"),
    ("clips", "value_accuracy", "clips: value accuracy", "{:.3f}"),
    ("clips", "wrong_kind_alerts", "clips: wrong-kind alerts", "{}"),
    ("clips", "false_alerts_per_min", "clips: false alerts / min", "{:.2f}"),
    ("clips", "duplicate_alerts", "clips: duplicate alerts", "{}"),
    ("clips", "lead_time_s_median", "clips: lead time median, s", "{:.2f}"),
    ("clips", "earliest_lead_s_median", "clips: earliest possible lead, s", "{:.2f}"),
    ("clips", "speed_limit_time_right", "clips: speed limit right, share of time", "{:.3f}"),
    ("clips", "speed_limit_changes_caught", "clips: speed limit changes caught", "{:.3f}"),
    ("speed", "fps_pipeline", "speed: pipeline FPS", "{:.1f}"),
    ("speed", "fps_detector", "speed: detector FPS", "{:.1f}"),
    ("speed", "threads", "speed: threads", "{}"),
)


def results_table(results: list[BenchmarkResult]):
    """A Rich table with one column per model."""
    from rich.table import Table

    table = Table(title="astute benchmark")
    table.add_column("metric")
    for r in results:
        table.add_column(Path(r.model).name, justify="right")
    table.add_row("model size, MB", *[_fmt(r.model_size_mb, "{:.1f}") for r in results])
    for section, key, title, fmt in _TABLE_ROWS:
        if any(getattr(r, section) is not None for r in results):
            table.add_row(title, *[_fmt(getattr(getattr(r, section), key, None), fmt) for r in results])
    for bucket in _buckets_present(results):
        table.add_row(f"frames: recall, width {bucket} px",
                      *[_fmt(r.frames.by_width.get(bucket, {}).get("recall_any") if r.frames else None, "{:.3f}")
                        for r in results])
    return table


def _buckets_present(results: list[BenchmarkResult]) -> list[str]:
    return [name for name, _, _ in WIDTH_BUCKETS if any(r.frames and name in r.frames.by_width for r in results)]


def _fmt(value: Any, fmt: str) -> str:
    return "–" if value is None else fmt.format(value)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def ratio(a: float, b: float) -> float:
    return float(a) / b if b else 0.0
