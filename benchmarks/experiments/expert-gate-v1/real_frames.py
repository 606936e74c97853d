"""The 60 real frames (measurement only): the bundled pipeline with and without the expert's sign gate, and the same
with every frame handed to the expert (their clutter standing in for real clutter on dark frames). Needs
``expert_sign_gate.patch`` applied.

    .venv/bin/python benchmarks/experiments/expert-gate-v1/real_frames.py \\
        benchmarks/experiments/expert-gate-v1/rtsd-sample.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from astute_cli.detector import load_detector  # noqa: E402
from astute_cli.eval.frames import evaluate_frames  # noqa: E402

REAL = ROOT.parent / "shared" / "data" / "rtsd-sample" / "annotations.json"


def main(out: Path) -> None:
    rows = {}
    for name, gate, every_frame in [("bundled", None, False), ("bundled+gate0.35", 0.35, False),
                                    ("expert on every frame", None, True),
                                    ("expert on every frame, gate 0.35", 0.35, True)]:
        detector = load_detector(threads=2)
        detector.expert_sign_gate = gate
        if every_frame:
            detector.expert_frames = lambda image: True
        m = evaluate_frames(detector, REAL)
        rows[name] = {"recall_any": round(m.recall_any, 4), "recall_class": round(m.recall_class, 4),
                      "precision_any": round(m.precision_any, 4), "predictions": m.predictions, "signs": m.gt_boxes}
        print(name, rows[name], flush=True)
    out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
