"""Values before and after kinds and values were split, on the same boxes: the real frames' recall and precision
and the clips' alerts (first-alert value accuracy, wrong-kind alerts, lead time) for

- ``before``: the classifier's most probable class names kind and value (``3_24_n60``), as released;
- ``classifier``: value classes summed into kinds, the value from the kind's most probable value class;
- ``reader``: kinds as above, the number read by the value reader (when ``reader.onnx`` exists).

The sign detector runs once per frame (its boxes are kept in ``--boxes`` and reused on the next run); the three
variants classify the same boxes, so they differ only in what this change touches. Clips are run at
``--eval-fps`` frames per second (every k-th frame, about what this CPU runs the whole pipeline at); the
tracker and announcer are the product's. The clip detections of the two new variants are also written in
``astute benchmark --cache`` format (``--cache``) for ``value_timing.py``.

    .venv/bin/python benchmarks/values_before_after.py --eval-fps 5 --boxes /tmp/vboxes --cache /tmp/vcache \
        --json benchmarks/results/values-before-after.json
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from astute_cli.detector import (
    BACKGROUND_LABELS,
    READER_MODEL,
    TwoStageDetector,
    load_detector,
    plates_under_signs,
)
from astute_cli.eval.clips import _clip_name, default_stages, find_clip_labels, score_alerts, summarize_clips
from astute_cli.eval.frames import image_path, score_frames
from astute_cli.eval.replay import model_key, save_cached
from astute_cli.labels.clips import load_clip_labels
from astute_cli.signs import is_mounted_plate
from astute_cli.types import Detections


def before(detector: TwoStageDetector, frame: np.ndarray, boxes: Detections) -> Detections:
    """The released two-stage step: the most probable class (value included), gated by its probability."""
    if not len(boxes):
        return Detections.empty()
    probs = detector.classifier.probabilities(frame, boxes.xyxy)
    class_id = probs.argmax(axis=1)
    labels = detector.classifier.labels
    found = Detections(boxes.xyxy, boxes.confidence * probs.max(axis=1), class_id)
    found = found[~np.array([labels[c] in BACKGROUND_LABELS for c in found.class_id], bool)]
    plate = np.array([is_mounted_plate(labels[c]) for c in found.class_id], bool)
    found = found[plates_under_signs(found.xyxy, plate)]
    return found[found.confidence >= detector.min_confidence]


def boxes_of(detector: TwoStageDetector, frame: np.ndarray, store: dict, key: str) -> Detections:
    if key not in store:
        found = detector.detector.detect(frame)
        store[key] = (found.xyxy, found.confidence)
    xyxy, confidence = store[key]
    return Detections(xyxy, confidence, np.zeros(len(xyxy), np.int64))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=Path, default=Path("../shared/data/rtsd-sample/annotations.json"))
    parser.add_argument("--clips", type=Path, default=Path("annotations"))
    parser.add_argument("--eval-fps", type=float, default=5.0)
    parser.add_argument("--boxes", type=Path, required=True, help="folder keeping the sign detector's boxes")
    parser.add_argument("--cache", type=Path, help="write the new variants' clip detections here")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    variants: dict[str, TwoStageDetector] = {"classifier": load_detector(None, threads=args.threads, reader=False)}
    if READER_MODEL.is_file():
        variants["reader"] = load_detector(None, threads=args.threads, reader=True)
    base = variants["classifier"]
    labels_of = {"before": base.classifier.labels, **{name: d.labels for name, d in variants.items()}}
    args.boxes.mkdir(parents=True, exist_ok=True)
    result: dict = {"command": " ".join(["benchmarks/values_before_after.py", *sys.argv[1:]]),
                    "eval_fps": args.eval_fps, "variants": list(labels_of)}

    # real frames
    coco = json.loads(args.frames.read_text(encoding="utf-8"))
    categories = {c["id"]: c["name"] for c in coco["categories"]}
    store_path = args.boxes / "frames.npz"
    store = _load_store(store_path)
    per_image: dict[str, list] = {name: [] for name in labels_of}
    for image in coco["images"]:
        frame = cv2.imread(str(image_path(args.frames, image["file_name"])))
        boxes = boxes_of(base, frame, store, str(image["id"]))
        per_image["before"].append((image["id"], before(base, frame, boxes)))
        for name, detector in variants.items():
            per_image[name].append((image["id"], detector.describe(frame, boxes)))
    _save_store(store_path, store)
    result["frames"] = {name: asdict(score_frames(rows, labels_of[name], coco, categories, None))
                        for name, rows in per_image.items()}
    print({name: (round(m["recall_any"], 3), round(m["precision_any"], 3), round(m["recall_class"], 3))
           for name, m in result["frames"].items()}, flush=True)

    # clips
    scores: dict[str, list] = {name: [] for name in labels_of}
    for path in find_clip_labels(args.clips):
        labels = load_clip_labels(path)
        name = _clip_name(path)
        step = max(1, round(labels.fps / args.eval_fps))
        store_path = args.boxes / f"{name}__k{step}.npz"
        store = _load_store(store_path)
        per_frame: dict[str, list] = {v: [] for v in labels_of}
        capture = cv2.VideoCapture(str(labels.video_path()))
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                boxes = boxes_of(base, frame, store, str(index))
                per_frame["before"].append((index, before(base, frame, boxes)))
                for v, detector in variants.items():
                    per_frame[v].append((index, detector.describe(frame, boxes)))
            index += 1
        capture.release()
        _save_store(store_path, store)
        for v, rows in per_frame.items():
            tracker, announcer = default_stages(labels_of[v], labels.fps)
            alerts = [a for i, d in rows for a in announcer.update(tracker.update(d), i)]
            scores[v].append(score_alerts(labels, alerts, name=name))
            if args.cache is not None and v in variants:
                save_cached(args.cache / f"{model_key(variants[v])}__{name}__k{step}.npz", rows)
        print(name, {v: s[-1].signs and [(o.label, o.value_right, o.wrong_kind) for o in s[-1].signs
                                         if o.counted] for v, s in scores.items()}, flush=True)
    result["clips"] = {v: asdict(summarize_clips(s, args.eval_fps)) for v, s in scores.items()}
    for v, m in result["clips"].items():
        print(v, {k: m[k] for k in ("sign_recall", "value_accuracy", "wrong_kind_alerts", "false_alerts",
                                    "duplicate_alerts", "lead_time_s_median")}, flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def _load_store(path: Path) -> dict:
    if not path.is_file():
        return {}
    data = np.load(path)
    keys = [str(k) for k in data["keys"]]
    ends = np.cumsum(data["counts"])
    return {k: (data["xyxy"][e - n:e], data["confidence"][e - n:e])
            for k, n, e in zip(keys, data["counts"], ends, strict=True)}


def _save_store(path: Path, store: dict) -> None:
    keys = list(store)
    np.savez_compressed(path, keys=np.array(keys), counts=np.array([len(store[k][0]) for k in keys], np.int64),
                        xyxy=np.concatenate([store[k][0] for k in keys]).reshape(-1, 4) if keys else np.zeros((0, 4)),
                        confidence=np.concatenate([store[k][1] for k in keys]) if keys else np.zeros(0))


if __name__ == "__main__":
    raise SystemExit(main())
