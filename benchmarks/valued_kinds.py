"""Kinds and values of valued signs on a seeded synthetic set: the confusion matrix among valued kinds and the
value accuracy by kind and by sign width, with the detector's boxes replaced by the true ones (this measures the
classifier's kind, the unit rule and the value source, not the box detector).

Each sample is one sign rendered the way ``astute synth`` renders training signs (``scene.sign_patch``: warped,
shaded, blurred, shrunk) at a chosen width and pasted on a real road frame; values include ones that no RTSD
class has (90, 110, 130 km/h; 3.8, 4.3 m; 15, 7.5 t). The seed differs from every training seed (synthetic
training sets used seeds < 100).

    .venv/bin/python benchmarks/valued_kinds.py --json benchmarks/results/valued-kinds.json
    .venv/bin/python benchmarks/valued_kinds.py --no-reader --json benchmarks/results/valued-kinds-classifier.json
    .venv/bin/python benchmarks/valued_kinds.py --before --json benchmarks/results/valued-kinds-before.json
    .venv/bin/python benchmarks/valued_kinds.py --expert --json benchmarks/results/valued-kinds-expert.json

``--expert``: the expert classifier names every sign, as on a frame that does not look like clear daylight.

``--before`` is the release before kinds and values were split: the classifier's most probable class, value
included (``3_24_n60``), names both.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from astute_cli.detector import TwoStageDetector, load_detector
from astute_cli.signs import parse_label
from astute_cli.synth import scene
from astute_cli.types import Detections

SIGNS: dict[str, tuple[float, ...]] = {
    "3_24": (20, 40, 60, 90, 110, 130),
    "3_25": (40, 60, 90),
    "4_6": (40, 60, 90),
    "6_2": (40, 60, 90),
    "3_11": (5, 7.5, 15, 30),
    "3_13": (3.5, 3.8, 4.3, 5.2),
    "3_14": (2.5, 3.2),
    "3_12": (6, 8, 11.5),
    "3_15": (10, 12, 15),
    "3_16": (50, 70, 90),
}
"""Kinds and values drawn; 90, 110, 130 km/h, 7.5, 11.5, 15, 30 t, 3.8, 4.3 m are no RTSD class, and RTSD has no
3.15 or 4.6 at all. (The last three kinds were added after the first seven: the first seven's signs are the same.)"""
WIDTHS = (12, 16, 20, 24, 32, 48, 80)
SPEED_KINDS = {"3_24", "3_25", "4_6", "6_2"}
LIMIT_KINDS = {"3_11", "3_12", "3_13", "3_14", "3_15", "3_16"}


def label_of(code: str, value: float) -> str:
    return f"{code}_n{int(value)}" if float(value).is_integer() else f"{code}_r{value:g}"


def samples(seed: int, per_cell: int):
    """(label, width, frame, box) for every kind × value × width, ``per_cell`` per kind and width."""
    rng = np.random.default_rng(seed)
    for code, values in SIGNS.items():
        for width in WIDTHS:
            for i in range(per_cell):
                label = label_of(code, values[i % len(values)])
                frame = scene.background(rng)
                patch = scene.sign_patch(label, width, rng)
                x = int(rng.integers(100, 1180 - width))
                y = int(rng.integers(150, 450))
                box = scene.paste(frame, patch, x, y)
                if box is not None:
                    yield label, width, frame, box


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=15015)
    parser.add_argument("--per-cell", type=int, default=12, help="signs per kind and width")
    parser.add_argument("--no-reader", action="store_true", help="values from the classifier's value classes")
    parser.add_argument("--before", action="store_true", help="kind and value from the most probable class")
    parser.add_argument("--expert", action="store_true", help="the expert classifier names every sign")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", type=Path, help="detector ONNX (default: the bundled one)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    detector = load_detector(args.model, threads=args.threads, reader=False if args.no_reader else None)
    if not isinstance(detector, TwoStageDetector):
        raise SystemExit("the bundled model is not two-stage")
    if args.expert and detector.expert is None:
        raise SystemExit("the model names no expert classifier")
    rows = []
    started = time.perf_counter()
    for label, width, frame, box in samples(args.seed, args.per_cell):
        code, value = parse_label(label)
        if args.before:
            kind, read = _before(detector, frame, box)
        else:
            found = detector.describe_kept(frame, Detections(box[None], [1.0], [0]),
                                            expert=True if args.expert else None)[0]
            kind = detector.labels[int(found.class_id[0])] if len(found) else "dropped"
            read = float(found.value[0]) if len(found) and found.value is not None else math.nan
        rows.append({"label": label, "kind": code, "value": value, "width": width, "predicted_kind": kind,
                     "predicted_value": None if math.isnan(read) else round(read, 3)})
    seconds = time.perf_counter() - started
    result = summarise(rows, detector.classifier.labels)
    result.update({"seed": args.seed, "per_cell": args.per_cell, "reader": None if detector.reader is None
                   else Path(getattr(detector.reader, "path", "reader")).name, "seconds": round(seconds, 1),
                   "command": " ".join(["benchmarks/valued_kinds.py", *sys.argv[1:]])})
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1, ensure_ascii=False))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


def _before(detector: TwoStageDetector, frame: np.ndarray, box: np.ndarray) -> tuple[str, float]:
    """The most probable class's code and value (min_confidence and background as in the detector)."""
    probs = detector.classifier.probabilities(frame, box[None])[0]
    best = int(probs.argmax())
    label = detector.classifier.labels[best]
    if label == "background" or probs[best] < detector.min_confidence:
        return "dropped", math.nan
    code, value = parse_label(label)
    return code, math.nan if value is None else value


def summarise(rows: list[dict], classifier_labels: list[str]) -> dict:
    """Confusion matrix (true kind → predicted kind counts), value accuracy by kind and by width bucket, on the
    values no classifier class names, and the harmful confusions: a weight/height/width sign given a speed kind."""
    confusion: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        confusion[r["kind"]][r["predicted_kind"]] += 1

    def accuracy(group: list[dict]) -> dict:
        right = [r for r in group if r["predicted_kind"] == r["kind"] and r["predicted_value"] is not None
                 and abs(r["predicted_value"] - r["value"]) < 1e-6]
        kind_right = [r for r in group if r["predicted_kind"] == r["kind"]]
        return {"signs": len(group), "kind_right": round(len(kind_right) / max(len(group), 1), 3),
                "value_right": round(len(right) / max(len(group), 1), 3)}

    by_kind = {k: accuracy([r for r in rows if r["kind"] == k]) for k in SIGNS}
    buckets = {"12-16": (12, 16), "16-24": (16, 24), ">=24": (24, 10_000)}
    by_width = {name: accuracy([r for r in rows if lo <= r["width"] < hi]) for name, (lo, hi) in buckets.items()}
    by_width_px = {str(w): accuracy([r for r in rows if r["width"] == w]) for w in WIDTHS}
    unseen = sorted({r["label"] for r in rows} - set(classifier_labels))
    held_out = {label: accuracy([r for r in rows if r["label"] == label and r["width"] >= 24]) for label in unseen}
    limit_as_speed = sum(1 for r in rows if r["kind"] in LIMIT_KINDS and r["predicted_kind"] in SPEED_KINDS)
    return {"signs": len(rows), "overall": accuracy(rows), "by_kind": by_kind, "by_width": by_width,
            "by_width_px": by_width_px, "values_of_no_class_at_24px_plus": held_out,
            "limit_signs_given_a_speed_kind": limit_as_speed,
            "confusion": {k: dict(v.most_common()) for k, v in confusion.items()}, "rows": rows}


if __name__ == "__main__":
    raise SystemExit(main())
