"""marker-look-v1's tuning check: recall on a tuning set of obstacle markers (seed 500,011, never a test set) for
each MARKER_MIN_ASPECT given (inf: no look)."""
import sys
from pathlib import Path

from astute_cli.detector import load_detector
from astute_cli.eval.frames import evaluate_frames
from astute_cli.synth.condition_sets import OBSTACLE_MARKERS, ConditionSet, make_condition_set

out = Path('datasets/tuning/markers')
if not (out/'annotations.json').exists():
    make_condition_set(out, ConditionSet(n=30, seed=500_011, labels=OBSTACLE_MARKERS))
det = load_detector(None)
for a in map(float, sys.argv[1:]):
    det.marker_min_aspect = a
    m = evaluate_frames(det, out/'annotations.json')
    print(a, round(m.recall_any,3), round(m.recall_class,3), round(m.precision_any,3), flush=True)
