"""The INT8 self-check: a quantized model against its FP32 reference on labelled synthetic frames, run the way
the product runs them (``OnnxDetector`` tiles, ``CropClassifier`` crops) and matched with
:func:`astute_cli.boxes.match_by_overlap`. ``astute export`` refuses a model that loses more than its tolerance.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from astute_cli.boxes import match_by_overlap
from astute_cli.detector import CropClassifier, OnnxDetector

CHECK_SEED = 20_000
"""Seed of the labelled synthetic frames of the INT8 self-check: never calibrated on."""


@dataclass
class LabelledFrame:
    """A frame with exact labels: boxes (N, 4) xyxy in its pixels and their sign names."""

    image: np.ndarray
    boxes: np.ndarray
    labels: list[str]


def labelled_frames(n: int = 100, seed: int = CHECK_SEED) -> list[LabelledFrame]:
    """``n`` synthetic 1280x720 dashcam frames with exact labels, from ``astute_cli.synth.scene.compose``.

    Frame ``i`` comes from ``numpy.random.default_rng([seed, i])``: the same for the same seed. Check frames
    (:data:`CHECK_SEED`) and calibration frames (:data:`CALIB_SEED`) never share a seed with each other.
    """
    try:
        from astute_cli.synth import scene
    except ImportError as error:
        raise ValueError("No synthetic frame generator available: pass a calibration folder (--calib DIR)") \
            from error
    return [LabelledFrame(*scene.compose(np.random.default_rng([seed, i]))) for i in range(n)]


@dataclass
class ModelReport:
    """Size, speed and quality of one model on the labelled check frames."""

    path: str
    size_mb: float
    latency_ms: float  # detector: per tile of the sign band; classifier: per sign crop
    recall: float  # detector: labelled signs found (IoU >= 0.5, any class); classifier: top-1 accuracy
    precision: float  # detector: found boxes that are labelled signs; classifier: nan
    agreement: float  # detector: F1 of its boxes against the reference's; classifier: top-1 agreement


@dataclass
class CheckResult:
    """FP32 and quantized model side by side on the same labelled frames."""

    reference: ModelReport
    candidate: ModelReport
    kind: str
    images: int
    signs: int

    @property
    def loss(self) -> float:
        """Recall (classifier: accuracy) the candidate lost against the reference; where no crop's label is
        one of a classifier's classes, the share of answers that changed."""
        if np.isnan(self.reference.recall):
            return self.reference.agreement - self.candidate.agreement
        return self.reference.recall - self.candidate.recall

    @property
    def metric(self) -> str:
        """What :attr:`loss` is measured in."""
        if self.kind == "detect":
            return "recall"
        return "top-1 agreement" if np.isnan(self.reference.recall) else "top-1 accuracy"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "images": self.images, "signs": self.signs, "loss": self.loss,
                "reference": asdict(self.reference), "candidate": asdict(self.candidate)}

    def table(self) -> Any:
        from rich.table import Table

        per = "tile" if self.kind == "detect" else "crop"
        recall = "recall" if self.kind == "detect" else "top-1 accuracy"
        table = Table(title=f"self-check: {self.images} labelled synthetic frames, {self.signs} signs "
                            f"({self.kind}, IoU >= 0.5)")
        for column in ("model", "size, MB", f"ms per {per}", recall, "precision", "agreement with FP32"):
            table.add_column(column)
        for report in (self.reference, self.candidate):
            table.add_row(Path(report.path).name, f"{report.size_mb:.2f}", f"{report.latency_ms:.1f}",
                          _fmt(report.recall), _fmt(report.precision), f"{report.agreement:.3f}")
        return table


def _fmt(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.3f}"


def self_check(reference: str | Path, candidate: str | Path, frames: list[LabelledFrame], iou: float = 0.5,
               threads: int | None = None) -> CheckResult:
    """Run both models the way the product runs them on labelled frames and score them against the labels.

    Detectors run through :class:`~astute_cli.detector.OnnxDetector` (native tiles of the sign band, the
    model's ``astute_conf``); recall and precision are class-agnostic at ``iou``; agreement is the F1 of
    the candidate's boxes matched to the reference's. Classifiers run through
    :class:`~astute_cli.detector.CropClassifier` on the labelled boxes: top-1 accuracy over the crops whose
    label is one of its classes, and top-1 agreement with the reference.
    """
    if not frames:
        raise ValueError("The self-check needs at least one labelled frame")
    kind = model_kind(reference)
    run = _run_detector if kind == "detect" else _run_classifier
    ref_answers, ref_ms, names = run(reference, frames, threads)
    cand_answers, cand_ms, _ = run(candidate, frames, threads)
    score = _score_boxes if kind == "detect" else _score_classes
    ref_recall, ref_precision, _ = score(frames, ref_answers, ref_answers, names, iou)
    recall, precision, agreement = score(frames, cand_answers, ref_answers, names, iou)
    signs = sum(len(frame.boxes) for frame in frames)
    return CheckResult(_report(reference, ref_ms, ref_recall, ref_precision, 1.0),
                       _report(candidate, cand_ms, recall, precision, agreement), kind, len(frames), signs)


def model_kind(path: str | Path) -> str:
    """``classify`` for a model with a (N, classes) output, else ``detect``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return "classify" if len(session.get_outputs()[0].shape) == 2 else "detect"


def _run_detector(path: str | Path, frames: list[LabelledFrame], threads: int | None
                  ) -> tuple[list[np.ndarray], float, list[str]]:
    """Boxes found in each frame and milliseconds per tile."""
    detector = OnnxDetector(path, threads=threads)
    detector.conf = float(detector.metadata.get("astute_conf", detector.conf))
    detector.detect(frames[0].image)  # warm-up
    found, seconds, tiles = [], 0.0, 0
    for frame in frames:
        started = time.perf_counter()
        found.append(detector.detect(frame.image).xyxy)
        seconds += time.perf_counter() - started
        tiles += detector.runs_per_frame(frame.image.shape[1::-1])
    return found, 1000 * seconds / max(tiles, 1), detector.labels


def _run_classifier(path: str | Path, frames: list[LabelledFrame], threads: int | None
                    ) -> tuple[list[np.ndarray], float, list[str]]:
    """Top-1 class of each labelled box and milliseconds per crop."""
    classifier = CropClassifier(path, threads=threads)
    answers, started = [], time.perf_counter()
    for frame in frames:
        answers.append(classifier.classify(frame.image, frame.boxes)[0])
    crops = sum(len(frame.boxes) for frame in frames)
    return answers, 1000 * (time.perf_counter() - started) / max(crops, 1), classifier.labels


def _score_boxes(frames: list[LabelledFrame], found: list[np.ndarray], reference: list[np.ndarray],
                 names: list[str], iou: float) -> tuple[float, float, float]:
    """Recall and precision against the labels, mean box F1 against the reference's boxes."""
    hits = sum(match_by_overlap(frame.boxes, boxes, iou) for frame, boxes in zip(frames, found, strict=True))
    truth, boxes = sum(len(frame.boxes) for frame in frames), sum(len(b) for b in found)
    agreement = np.mean([_box_f1(r, c, iou) for r, c in zip(reference, found, strict=True)]) if found else 1.0
    return hits / max(truth, 1), hits / boxes if boxes else float("nan"), float(agreement)


def _score_classes(frames: list[LabelledFrame], answers: list[np.ndarray], reference: list[np.ndarray],
                   names: list[str], iou: float) -> tuple[float, float, float]:
    """Top-1 accuracy over crops whose label is a class (nan: none is), top-1 agreement with the reference."""
    index = {name: i for i, name in enumerate(names)}
    truth = np.array([index.get(label, -1) for frame in frames for label in frame.labels], np.int64)
    got = np.concatenate(answers) if answers else np.zeros(0, np.int64)
    ref = np.concatenate(reference) if reference else np.zeros(0, np.int64)
    known = truth >= 0
    accuracy = float(np.mean(got[known] == truth[known])) if known.any() else float("nan")
    return accuracy, float("nan"), float(np.mean(got == ref)) if len(got) else 1.0


def _report(path: str | Path, latency_ms: float, recall: float, precision: float, agreement: float
            ) -> ModelReport:
    return ModelReport(str(path), Path(path).stat().st_size / 2**20, latency_ms, recall, precision, agreement)


def _box_f1(ref: np.ndarray, cand: np.ndarray, iou: float) -> float:
    if not len(ref) and not len(cand):
        return 1.0
    return 2 * match_by_overlap(ref, cand, iou) / (len(ref) + len(cand))
