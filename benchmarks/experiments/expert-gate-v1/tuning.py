"""Probe: on the frames the expert takes (dark or murky), keep a box when the expert's probability that it is a sign
(1 - p(background)) reaches a gate, instead of when a sign kind is its likeliest class. Tuning sets only
(seeds 500,000 + k, 40 frames each, apart from the test sets), and the real road photos and clip frames of
../shared/data/backgrounds with every frame handed to the expert (no Russian sign on them: every kept box is a false
one; keeper-v1's ``photos``).

    git apply benchmarks/experiments/expert-gate-v1/expert_sign_gate.patch     # the gate, for these runs only
    .venv/bin/python benchmarks/experiments/expert-gate-v1/tuning.py dusk,night,fog,markers-night \\
        argmax,0.5,0.35,0.2 tuning-sweep.json
    .venv/bin/python benchmarks/experiments/expert-gate-v1/tuning.py photos argmax,0.5,0.35,0.2 tuning-photos.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "experiments" / "keeper-v1"))

import tuning as keeper_tuning  # noqa: E402

from astute_cli import detector as D  # noqa: E402
from astute_cli.daylight import looks_unlike_daylight  # noqa: E402
from astute_cli.eval.frames import evaluate_frames  # noqa: E402
from astute_cli.synth.condition_sets import OBSTACLE_MARKERS, ConditionSet  # noqa: E402

keeper_tuning.TUNE |= {"dusk": ConditionSet(n=40, seed=500_001, condition="dusk"),
                       "night": ConditionSet(n=40, seed=500_002, condition="night"),
                       "fog": ConditionSet(n=40, seed=500_005, condition="fog"),
                       "markers-night": ConditionSet(n=40, seed=500_012, condition="night", labels=OBSTACLE_MARKERS)}


def main(names: list[str], gates: list[str], out: Path) -> None:
    D.OnnxDetector.detect = keeper_tuning._memo_detect
    D.CropClassifier.probabilities = keeper_tuning._memo_probabilities
    paths = keeper_tuning.tuning_sets(names)
    rows = []
    for gate in gates:
        detector = D.load_detector(reader=False, threads=1)
        if gate != "argmax":
            detector.expert_sign_gate = float(gate)
        for name, path in paths.items():
            started = time.perf_counter()
            # the sign-free real photos, every frame handed to the expert: every box kept there is a false one
            detector.expert_frames = (lambda image: True) if name == "photos" else looks_unlike_daylight
            m = evaluate_frames(detector, path)
            row = {"gate": gate, "set": name, "recall": round(m.recall_any, 3), "right": round(m.recall_class, 3),
                   "prec": round(m.precision_any, 3), "preds": m.predictions, "signs": m.gt_boxes}
            rows.append(row)
            print(json.dumps(row), f"{time.perf_counter() - started:.0f} s", flush=True)
    out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main(sys.argv[1].split(","), sys.argv[2].split(","), Path(sys.argv[3]))
