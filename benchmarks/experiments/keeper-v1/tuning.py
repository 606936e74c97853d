"""The keeper's tuning sweep (keeper-v1): class-agnostic recall, right class and precision on seeded tuning sets
(seeds 500,000 + k, 40 frames each: apart from the test sets) and on the real road photos and clip frames of
../shared/data/backgrounds (no Russian sign on them: every kept box is a false one), for keepers and gates.
Model outputs are memoised per frame and box, so that many gates cost one pass of the models.

    .venv/bin/python benchmarks/experiments/keeper-v1/tuning.py clear,winter,rain,glare,big,touching,photos \\
        none,astute_cli/models/classifier.expert.onnx,/tmp/k/cls-v11.onnx 0.5,0.7,0.85,0.95 tuning-sweep-1.json
    .venv/bin/python benchmarks/experiments/keeper-v1/tuning.py clear,winter,rain,glare,big,touching,photos \\
        none,/tmp/k/cls-v11.onnx 0.3,0.4,0.5,0.6,0.7 tuning-sweep-2.json
    .venv/bin/python benchmarks/experiments/keeper-v1/tuning.py clear,winter,rain,glare,big,touching,photos \\
        /tmp/k/cls-v11.onnx decides tuning-decides.json

``decides`` (the probe of the other rule): the keeper decides sign or background for every box of a daylight
frame, by its likeliest label, and the first classifier names the kind.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from astute_cli import detector as D  # noqa: E402
from astute_cli.eval.frames import evaluate_frames  # noqa: E402
from astute_cli.signs import BACKGROUND_LABELS  # noqa: E402
from astute_cli.synth.condition_sets import ConditionSet, make_condition_set  # noqa: E402

WORK = ROOT / "datasets" / "keeper-tuning"
TUNE = {"clear": ConditionSet(n=40, seed=500_000), "winter": ConditionSet(n=40, seed=500_003, condition="winter"),
        "rain": ConditionSet(n=40, seed=500_004, condition="rain"),
        "glare": ConditionSet(n=40, seed=500_006, condition="glare"),
        "touching": ConditionSet(n=40, seed=500_007, layout="touching"),
        "big": ConditionSet(n=40, seed=500_008, layout="big")}
MEMO: dict = {}
_detect, _probabilities = D.OnnxDetector.detect, D.CropClassifier.probabilities


def _key(a: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(a).tobytes()).hexdigest()


def _memo_detect(self, image, far_only=False):
    key = ("detect", _key(image), far_only, self.conf)
    if key not in MEMO:
        MEMO[key] = _detect(self, image, far_only)
    return MEMO[key]


def _memo_probabilities(self, image, xyxy):
    key = ("classify", str(self.path), _key(image), _key(np.asarray(xyxy, np.float32)))
    if key not in MEMO:
        MEMO[key] = _probabilities(self, image, xyxy)
    return MEMO[key]


class Decides(D.TwoStageDetector):
    """The probe's other rule: the keeper decides every daylight box, the first classifier names the kind."""

    def _second_look(self, image, boxes, class_id, kind_probs, keep, confidence):
        probs = self.keeper.probabilities(image, boxes.xyxy)
        background = np.array([label in BACKGROUND_LABELS for label in self.keeper.labels])
        sign = ~background[probs.argmax(axis=1)]
        named = np.where(self._background, -1.0, kind_probs).argmax(axis=1)
        for row in np.flatnonzero(sign & ~keep):
            class_id[row], keep[row] = named[row], True
            confidence[row] = boxes.confidence[row] * (1.0 - probs[row, background].sum())
        keep &= sign


def tuning_sets(names: list[str]) -> dict[str, Path]:
    out = {}
    for name in names:
        folder = WORK / name
        if not (folder / "annotations.json").is_file():
            make_condition_set(folder, TUNE[name]) if name != "photos" else _photos(folder)
        out[name] = folder / "annotations.json"
    return out


def _photos(folder: Path) -> None:
    """The 30 road photos and every 3rd frame of the two clips of ../shared/data/backgrounds, no labels."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    frames = [cv2.imread(str(f)) for f in sorted((ROOT.parent / "shared/data/backgrounds").rglob("*.jpg"))]
    for clip in sorted((ROOT.parent / "shared/data/backgrounds").rglob("*.mp4")):
        capture, index = cv2.VideoCapture(str(clip)), 0
        while (read := capture.read())[0]:
            frames += [read[1]] if index % 3 == 0 else []
            index += 1
    images = []
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / "images" / f"{i:03d}.jpg"), frame)
        images.append({"id": i + 1, "file_name": f"{i:03d}.jpg", "width": frame.shape[1], "height": frame.shape[0]})
    (folder / "annotations.json").write_text(json.dumps({"images": images, "annotations": [],
                                                         "categories": [{"id": 1, "name": "3_24"}]}))


def main(names: list[str], keepers: list[str], gates: str, out: Path) -> None:
    D.OnnxDetector.detect, D.CropClassifier.probabilities = _memo_detect, _memo_probabilities
    paths = tuning_sets(names)
    rows = []
    for keeper in keepers:
        for gate in ([0.0] if keeper == "none" or gates == "decides" else [float(g) for g in gates.split(",")]):
            detector = D.load_detector(reader=False, threads=1, keeper=False if keeper == "none" else keeper)
            if gates == "decides":
                detector.__class__ = Decides
            detector.keeper_gate = gate
            for name, path in paths.items():
                started = time.perf_counter()
                m = evaluate_frames(detector, path)
                row = {"keeper": Path(keeper).stem, "gate": gates if gates == "decides" else gate, "set": name,
                       "recall": round(m.recall_any, 3), "right": round(m.recall_class, 3),
                       "prec": round(m.precision_any, 3), "preds": m.predictions, "signs": m.gt_boxes}
                rows.append(row)
                print(json.dumps(row), f"{time.perf_counter() - started:.0f} s", flush=True)
    out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main(sys.argv[1].split(","), sys.argv[2].split(","), sys.argv[3], Path(sys.argv[4]))
