"""Hard examples for the crop classifier, cut by a real sign detector from synthetic frames with exact labels.

The classifier only ever sees what the detector hands it, so it should learn from exactly that:

- a detector box on no sign (a lamp, a wheel, a leaf, a car's tail light) becomes a ``background`` crop —
  this is what teaches the second stage to throw the detector's false alarms away;
- a detector box on a sign (IoU ≥ ``match_iou``) becomes a crop of that sign's class, cut with the detector's
  own box error rather than the generator's perfect box.

Frames come from :func:`astute_cli.synth.scene.compose` (real road footage with pasted signs, with city clutter
when ``urban``), never from the RTSD test frames. Crops are written in the classifier set layout
(``train|val/<label>/m*.jpg``), so they can be added to a set made by
:func:`astute_cli.synth.dataset.make_classifier_set` (or joined to one with ``astute combine``).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from astute_cli.synth import scene
from astute_cli.synth.dataset import BACKGROUND, _map, classifier_labels

_DETECTORS: dict = {}


@dataclass(frozen=True)
class MiningSpec:
    """Arguments of a mining run; with the detector file and the seed they fix every crop."""

    frames: int
    detector: str
    seed: int = 0
    size: int = 64
    conf: float = 0.1
    match_iou: float = 0.5
    background_iou: float = 0.2
    empty_fraction: float = 0.2
    val_fraction: float = 0.1
    context: float = 0.1
    urban: bool = False
    conditions: tuple[str, ...] = ()
    """Each frame under one of these (``synth.conditions``, drawn evenly) as a street of ``synth.streets``;
    empty: the plain frames of ``scene.compose`` (unless ``layouts`` asks for streets: then clear ones)."""
    layouts: tuple[str, ...] = ()
    """Each street with one of these sign layouts (``synth.streets``: poles, touching, big), drawn evenly; empty:
    poles."""


def _detector(path: str):
    """One ONNX session per process (workers load their own, single-threaded)."""
    if path not in _DETECTORS:
        from astute_cli.detector import OnnxDetector

        _DETECTORS[path] = OnnxDetector(path, threads=1)
    return _DETECTORS[path]


def mine_frame(spec: MiningSpec, index: int) -> list[tuple[str, np.ndarray]]:
    """(label, crop) pairs the detector cuts from synthetic frame ``index``."""
    from astute_cli.boxes import box_iou
    from astute_cli.detector import square_crops

    rng = np.random.default_rng([spec.seed, 7919, index])
    labels = [label for label in classifier_labels() if label != BACKGROUND]
    n_signs = 0 if rng.random() < spec.empty_fraction else None
    if spec.conditions or spec.layouts:
        from astute_cli.synth.streets import compose_street

        condition = str(rng.choice(spec.conditions)) if spec.conditions else "clear"
        layout = str(rng.choice(spec.layouts)) if spec.layouts else "poles"  # drawn only when asked: same streets
        frame, boxes, names = compose_street(rng, condition, layout, urban=spec.urban, labels=labels, poles=n_signs)
    else:
        frame, boxes, names = scene.compose(rng, n_signs=n_signs, labels=labels, urban=spec.urban)
    detector = _detector(spec.detector)
    detector.conf = spec.conf
    found = detector.detect(frame)
    if not len(found):
        return []
    iou = box_iou(found.xyxy, boxes) if len(boxes) else np.zeros((len(found), 0))
    best = iou.max(axis=1) if iou.shape[1] else np.zeros(len(found))
    which = iou.argmax(axis=1) if iou.shape[1] else np.zeros(len(found), np.int64)
    out = []
    crops = square_crops(frame, found.xyxy, (spec.size, spec.size), spec.context)
    for crop, overlap, j in zip(crops, best, which):
        if overlap >= spec.match_iou:
            out.append((names[j], crop))
        elif overlap < spec.background_iou:
            out.append((BACKGROUND, crop))
    return out


def mine_classifier_crops(out: str | Path, spec: MiningSpec, workers: int = 1) -> dict:
    """Run the detector over ``spec.frames`` synthetic frames and write what it cuts under ``out``.

    Returns (and writes as ``mined_manifest.json``) the counts per label.
    """
    out = Path(out)
    if not Path(spec.detector).is_file():
        raise ValueError(f"Cannot mine with {spec.detector!r}: no such model file")
    started = time.perf_counter()
    counts: Counter = Counter()
    n_val = round(spec.frames * spec.val_fraction)
    for index, pairs in enumerate(_map(mine_frame, spec, range(spec.frames), workers)):
        split = "val" if index >= spec.frames - n_val else "train"
        for k, (label, crop) in enumerate(pairs):
            folder = out / split / label
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"m{index:06d}_{k:02d}.jpg"), crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
            counts[label] += 1
    manifest = {"kind": "mined", "args": spec.__dict__, "frames": spec.frames, "crops": sum(counts.values()),
                "background": counts[BACKGROUND], "signs": sum(counts.values()) - counts[BACKGROUND],
                "counts": dict(sorted(counts.items())), "seconds": round(time.perf_counter() - started, 1)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "mined_manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest
