"""What the far-band zoom, the plate rule and the alert correction buy: the same model with each switched off.

    .venv/bin/python benchmarks/ablation.py --json benchmarks/results/ablation.json

Runs a two-stage model (default: the bundled one) on the real RTSD frames and the labelled clips: plates with no
sign above kept or dropped (``TwoStageDetector.plates_need_sign``) × wrong alerts corrected or not
(``Announcer(correct_votes=...)``), all with the model's own zoom pass, then once more with everything on but the
zoom pass off (``OnnxDetector(zoom="0")``). No switch has a threshold tuned on these frames: the plate geometry
comes from GOST and ``rtsd-meta``, the correction needs a clear majority of the track's recent votes, the zoom band
from ``rtsd-meta``'s small-sign positions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from astute_cli.detector import TwoStageDetector, load_detector
from astute_cli.eval import default_stages, evaluate

ROOT = Path(__file__).resolve().parent.parent
RTSD = ROOT.parent / "shared" / "data" / "rtsd-sample" / "annotations.json"


def stages(correct_votes: int):
    """The benchmark's own tracker and announcer, the announcer's correction set to ``correct_votes``."""
    def make(labels: list[str], fps: float):
        tracker, announcer = default_stages(labels, fps)
        announcer.correct_votes = correct_votes
        return tracker, announcer
    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--rtsd", type=Path, default=RTSD)
    parser.add_argument("--clips", type=Path, default=ROOT / "annotations")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    votes = default_stages([], 25.0)[1].correct_votes
    variants = [(None, plates, correct) for plates in (False, True) for correct in (0, votes)] + [("0", True, votes)]
    for zoom, plates, correct_votes in variants:
        detector = load_detector(args.model, threads=args.threads, zoom=zoom)
        if not isinstance(detector, TwoStageDetector):
            raise SystemExit("the plate rule needs a two-stage model")
        detector.plates_need_sign = plates
        result = evaluate(None, [args.rtsd, args.clips], detector=detector, stages=stages(correct_votes),
                          cache_dir=ROOT / ".cache" / "ablation")
        f, c = result.frames, result.clips
        rows.append({"zoom": detector.detector.zoom, "plates_need_sign": plates, "correct_votes": correct_votes,
                     "rtsd_recall_any": f.recall_any, "rtsd_recall_class": f.recall_class,
                     "rtsd_precision_any": f.precision_any, "rtsd_predictions": f.predictions,
                     "clip_sign_recall": c.sign_recall, "clip_value_accuracy": c.value_accuracy,
                     "clip_false_alerts_per_min": c.false_alerts_per_min, "clip_duplicates": c.duplicate_alerts,
                     "clip_lead_s_median": c.lead_time_s_median})
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"model": str(args.model or "bundled"), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
