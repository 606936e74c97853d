"""The detector's output per clip, computed once and replayed: a cache file per (model, clip, frame step), and
a detector that plays it back into the product's loop."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from astute_cli.eval.speed import Timer
from astute_cli.labels.clips import ClipLabels
from astute_cli.types import Detections


def detect_clip(detector, labels: ClipLabels, step: int, timer: Timer) -> list[tuple[int, Detections]]:
    """Decode the clip and detect on every ``step``-th frame; time decoding and detection."""
    import cv2

    cap = cv2.VideoCapture(str(labels.video_path()))
    if not cap.isOpened():
        raise ValueError(f"Cannot open video: {str(labels.video_path())!r}")
    out, index = [], 0
    try:
        while True:
            started = time.perf_counter()
            ok, frame = cap.read()
            if not ok:
                break
            if index % step == 0:
                t0 = time.perf_counter()
                out.append((index, detector.detect(frame)))
                timer.detector_s += time.perf_counter() - t0
                timer.pipeline_s += time.perf_counter() - started
                timer.frames += 1
            index += 1
    finally:
        cap.release()
    return out


def model_key(detector) -> str:
    """Names a model in cache files: a digest of its files' bytes, thresholds and tiling (both stages of a
    two-stage model), else its class name."""
    parts = [getattr(detector, "detector", None), getattr(detector, "classifier", None),
             getattr(detector, "reader", None), getattr(detector, "expert", None)]
    parts = [p for p in parts if p is not None] or [detector]
    digest, named = hashlib.sha256(), False
    for part in parts:
        path = getattr(part, "path", None) or getattr(part, "model_path", None)
        if path is not None and Path(path).is_file():
            digest.update(Path(path).read_bytes())
            named = True
        settings = ("conf", "iou", "tile", "roi", "zoom", "contexts", "views")
        digest.update(repr(tuple(getattr(part, key, None) for key in settings)).encode())
    digest.update(repr((getattr(detector, "min_confidence", None), getattr(detector, "plates_need_sign", None))
                       ).encode())
    return f"{type(detector).__name__}-{digest.hexdigest()[:16]}" if named else type(detector).__name__


def save_cached(path: Path, per_frame: list[tuple[int, Detections]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    counts = np.array([len(d) for _, d in per_frame], np.int64)
    merged = Detections.merge([d for _, d in per_frame])
    values = {} if merged.value is None else {"value": merged.value, "value_confidence": merged.value_confidence}
    np.savez_compressed(path, frames=np.array([i for i, _ in per_frame], np.int64), counts=counts,
                        xyxy=merged.xyxy, confidence=merged.confidence, class_id=merged.class_id, **values)


def load_cached(path: Path) -> list[tuple[int, Detections]]:
    data = np.load(path)
    ends = np.cumsum(data["counts"])
    starts = ends - data["counts"]
    value = data["value"] if "value" in data else None
    value_conf = data["value_confidence"] if "value_confidence" in data else None
    return [(int(i), Detections(data["xyxy"][a:b], data["confidence"][a:b], data["class_id"][a:b],
                                value=None if value is None else value[a:b],
                                value_confidence=None if value_conf is None else value_conf[a:b]))
            for i, a, b in zip(data["frames"], starts, ends, strict=True)]


class ReplayDetector:
    """Plays recorded detections back, one per ``detect`` call, in the recorded order: a detector stage for the
    product's loop (``pipeline.run_stages``) that needs no model.

    Args:
        labels: the recorded detector's class names.
        per_frame: (frame index, Detections) as recorded.
    """

    def __init__(self, labels: list[str], per_frame: list[tuple[int, Detections]]) -> None:
        self.labels = labels
        self._per_frame = per_frame
        self._next = 0

    def frames(self) -> Iterator[tuple[int, None]]:
        """The recorded frame indices, as the loop's source (no pixels: the detections are already known)."""
        for index, _ in self._per_frame:
            yield index, None

    def detect(self, image: object, far_only: bool = False) -> Detections:
        """The next recorded detections (whatever search recorded them)."""
        _, detections = self._per_frame[self._next]
        self._next += 1
        return detections
