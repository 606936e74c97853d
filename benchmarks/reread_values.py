"""Give cached clip detections of the bundled model without a value reader the values the bundled reader reads,
so that ``astute benchmark --cache`` replays the clips with the reader without running the sign detector again.

Exact, not an approximation: which boxes survive (the detector, the classifier's background class, the plate
rule, the score gate) does not depend on the reader; the reader only reads the surviving boxes of valued kinds
and may move a box to another valued kind. This script decodes each clip, runs the classifier and the reader on
the cached boxes (checking that the classifier gives the cached kinds again) and writes the cache file the
benchmark looks for with the reader::

    .venv/bin/astute benchmark --data annotations/ --cache /tmp/vcache        # without reader.onnx: fills it
    .venv/bin/python benchmarks/reread_values.py --data annotations/ --cache /tmp/vcache
    .venv/bin/astute benchmark --data annotations/ --cache /tmp/vcache        # with reader.onnx: replays
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from astute_cli.detector import load_detector
from astute_cli.eval.clips import _clip_name, find_clip_labels
from astute_cli.eval.replay import load_cached, model_key, save_cached
from astute_cli.labels.clips import load_clip_labels
from astute_cli.types import Detections


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("annotations"))
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--reader", type=Path, default=None, help="reader ONNX (default: the bundled one)")
    args = parser.parse_args()
    plain = load_detector(None, threads=1, reader=False)
    reading = load_detector(None, threads=1, reader=args.reader if args.reader else True)
    for path in find_clip_labels(args.data):
        name = _clip_name(path)
        source = args.cache / f"{model_key(plain)}__{name}__k1.npz"
        target = args.cache / f"{model_key(reading)}__{name}__k1.npz"
        if not source.is_file():
            raise SystemExit(f"no cached detections for {name}: run astute benchmark --cache first")
        cached = dict(load_cached(source))
        labels = load_clip_labels(path)
        capture = cv2.VideoCapture(str(labels.video_path()))
        out, index = [], 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index in cached:
                out.append((index, _reread(reading, frame, cached[index])))
            index += 1
        capture.release()
        save_cached(target, out)
        print(f"{name}: {len(out)} frames, {sum(len(d) for _, d in out)} boxes -> {target.name}")
    return 0


def _reread(detector, frame: np.ndarray, found: Detections) -> Detections:
    if not len(found):
        return found
    label_probs = detector.classifier.probabilities(frame, found.xyxy)
    kind_probs = detector.kind_map.collapse(label_probs)
    class_id = kind_probs.argmax(axis=1)
    if not np.array_equal(class_id, found.class_id):
        raise SystemExit("the classifier gives other kinds than the cached ones: not the same model")
    value, confidence = detector._read(frame, found.xyxy, class_id, kind_probs, label_probs)
    return Detections(found.xyxy, found.confidence, class_id, value=value, value_confidence=confidence)


if __name__ == "__main__":
    raise SystemExit(main())
