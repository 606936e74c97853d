"""Benchmark a detector: frame metrics on COCO frames, alert metrics on labelled clips, CPU speed.

Example::

    from astute_cli.eval import evaluate
    result = evaluate(None, ["../shared/data/rtsd-sample/annotations.json", "annotations/"], threads=2)
    print(result.to_json())
    result.save("benchmarks/bundled.json")

Frames (a COCO json with ``images/`` beside it): recall and precision at IoU >= 0.5 at the detector's
confidence threshold, class-agnostic (``any``) and class-correct (``class``: the code of the predicted
label, ``parse_label(label)[0]``, equals the ground-truth category name), mAP50 and mAP50-95 from
pycocotools, and recall/precision by box width.

Clips (``astute-clip-labels/1`` JSON, CVAT XML, or a folder of them): the product's stages
(detector -> Tracker -> Announcer) run frame by frame; every alert is matched to a physical sign with
the same code that is visible at the alert frame (box overlap) or, failing that, visible within
``time_window_s`` of it. Per sign: recalled or not, value right or not, lead time (alert -> passed
frame) against the earliest possible lead (readable frame -> passed frame). Alerts matching no sign are
false alerts; further alerts on an already announced sign are duplicates. Plates (``8_*``) are not
counted in recall, but an alert on one is not false either.

One job per file: results, frames, clips, replay, speed, chart, selfcheck (the INT8 export check).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astute_cli.eval.chart import save_chart
from astute_cli.eval.clips import (
    StageFactory,
    default_stages,
    evaluate_clip,
    evaluate_clips,
    find_clip_labels,
    score_alerts,
    summarize_clips,
)
from astute_cli.eval.frames import evaluate_frames, score_frame
from astute_cli.eval.groundtruth import read_checked_coco
from astute_cli.eval.replay import ReplayDetector, model_key
from astute_cli.eval.results import BenchmarkResult, FrameMetrics, results_table, save_results
from astute_cli.eval.speed import Timer, measure_speed, model_size_mb
from astute_cli.labels.clips import is_clip_labels

__all__ = ["BenchmarkResult", "ReplayDetector", "default_stages", "evaluate", "evaluate_clip", "evaluate_clips",
           "evaluate_frames", "model_key", "results_table", "save_chart", "save_results", "score_alerts",
           "score_frame", "split_data", "summarize_clips"]


def split_data(paths: list[str | Path]) -> tuple[list[Path], list[Path]]:
    """Sort inputs into COCO frame sets and clip label files."""
    coco, clips = [], []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ValueError(f"No such data: {str(path)!r}")
        if path.is_dir():
            if (path / "annotations.json").is_file():
                coco.append(path / "annotations.json")
            found = find_clip_labels(path)
            if not found and not (path / "annotations.json").is_file():
                raise ValueError(f"No COCO annotations.json or clip labels in {str(path)!r}")
            clips += found
        elif is_clip_labels(path):
            clips.append(path)
        elif path.suffix.lower() == ".json":
            coco.append(path)
        else:
            raise ValueError(f"Not a COCO json, clip label file or folder: {str(path)!r}")
    return coco, clips


def evaluate(model: str | Path | None, data: list[str | Path], threads: int | None = None,
             eval_fps: float | None = None, detector=None, stages: StageFactory = default_stages,
             limit_frames: int | None = None, cache_dir: str | Path | None = None) -> BenchmarkResult:
    """Benchmark one model on frame sets and clips.

    Args:
        model: ONNX path, or None for the bundled model.
        data: COCO jsons, clip label files, or folders of either.
        threads: onnxruntime intra-op threads (None: the detector's default).
        eval_fps: see :func:`evaluate_clip`.
        detector: an already built detector (tests); ``model`` then only names it.
        stages: tracker/announcer factory for clips.
        limit_frames: evaluate at most this many images per COCO set.
        cache_dir: replay/keep the detector's output per clip (see :func:`evaluate_clip`).
    """
    coco_paths, clip_paths = split_data(data)
    for path in coco_paths:  # bad ground truth fails before the model loads
        read_checked_coco(path)
    if detector is None:
        from astute_cli.detector import load_detector

        detector = load_detector(model, **({"threads": threads} if threads else {}))
    result = BenchmarkResult(model=str(model) if model else "bundled", data=[str(p) for p in data],
                             model_size_mb=model_size_mb(model, detector))
    if coco_paths:
        frames = [evaluate_frames(detector, p, limit_frames) for p in coco_paths]
        result.frames = frames[0] if len(frames) == 1 else _pool_frames(frames)
    timer = Timer()
    if clip_paths:
        result.clips = evaluate_clips(detector, clip_paths, stages, eval_fps, timer, cache_dir)
    result.speed = measure_speed(detector, coco_paths, clip_paths, timer, threads)
    return result




def _pool_frames(parts: list[FrameMetrics]) -> FrameMetrics:
    """Several COCO sets: box-weighted means (mAP too, an approximation)."""
    weights = np.array([max(p.gt_boxes, 1) for p in parts], float)

    def mean(name: str) -> float:
        return float(np.average([getattr(p, name) for p in parts], weights=weights))

    keys = ("recall_any", "recall_class", "precision_any", "precision_class", "map50", "map50_95",
            "map50_class", "map50_95_class")
    return FrameMetrics(images=sum(p.images for p in parts), gt_boxes=sum(p.gt_boxes for p in parts),
                        predictions=sum(p.predictions for p in parts), conf=parts[0].conf,
                        **{k: mean(k) for k in keys})


