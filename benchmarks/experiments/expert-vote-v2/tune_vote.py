"""expert-vote-v2's tuning check (tuning sets only, never the test sets): on frames the expert does not take, a box
the daylight classifier drops whose detector score is at least T is kept when the expert names a sign (v1: any
sign; v2: a sign not of group 8). Run on the bundled model as it is, without the patch:

    ASTUTE_THREADS=1 .venv/bin/python benchmarks/experiments/expert-vote-v2/tune_vote.py winter,big none,v1:0.7,v2:0.7

Each tuning set is the test set's spec with another seed (500,000 + its index in CONDITION_SETS; 40 frames, 30 for
the markers), written under ``datasets/tuning/NAME`` the first time.
"""

import dataclasses
import sys
import types
from pathlib import Path

import numpy as np

from astute_cli.detector import TwoStageDetector, load_detector
from astute_cli.eval.frames import evaluate_frames
from astute_cli.synth.condition_sets import CONDITION_SETS, make_condition_set

MODE: list[tuple[str, float] | None] = [None]


def tuning_set(name: str) -> Path:
    out = Path("datasets/tuning") / name
    if not (out / "annotations.json").is_file():
        spec = CONDITION_SETS[name]
        make_condition_set(out, dataclasses.replace(spec, n=min(spec.n, 40),
                                                    seed=500_000 + list(CONDITION_SETS).index(name)))
    return out / "annotations.json"


def look(self, image, boxes, class_id, label_probs, keep, confidence):
    TwoStageDetector._second_look_by_expert(self, image, boxes, class_id, label_probs, keep, confidence)
    if MODE[0] is None:
        return
    version, threshold = MODE[0]
    rows = np.flatnonzero(~keep & (boxes.confidence >= threshold))
    if not len(rows):
        return
    probs = self._probabilities("expert", image, boxes.xyxy[rows])
    kinds = self.kind_map.collapse(probs)
    for k, row in enumerate(rows):
        kind = int(kinds[k].argmax())
        if self._background[kind] or (version == "v2" and (self._plate[kind] or self._marker[kind])):
            continue
        class_id[row], label_probs[row], keep[row] = kind, probs[k], True
        confidence[row] = boxes.confidence[row] * kinds[k, kind]


def main(names: str, modes: str) -> None:
    detector = load_detector(None)
    detector._second_look_by_expert = types.MethodType(look, detector)
    for name in names.split(","):
        for mode in modes.split(","):
            MODE[0] = None if mode == "none" else (mode.split(":")[0], float(mode.split(":")[1]))
            m = evaluate_frames(detector, tuning_set(name))
            print(name, mode, f"{m.recall_any:.3f} {m.recall_class:.3f} {m.precision_any:.3f}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
