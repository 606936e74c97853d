"""Tuning sets only: expert vote (v1: any sign; v2: a sign not of group 8) on frames the expert does not take."""
import sys, types, numpy as np
from pathlib import Path
from astute_cli.detector import load_detector, TwoStageDetector
from astute_cli.eval.frames import evaluate_frames
det = load_detector(None)
orig = TwoStageDetector._second_look_by_expert
MODE = [None]
def look(self, image, boxes, class_id, label_probs, keep, confidence):
    orig(self, image, boxes, class_id, label_probs, keep, confidence)
    if MODE[0] is None: return
    v, t = MODE[0]
    rows = np.flatnonzero(~keep & (boxes.confidence >= t))
    if not len(rows): return
    probs = self._probabilities("expert", image, boxes.xyxy[rows]); kinds = self.kind_map.collapse(probs)
    for k, row in enumerate(rows):
        kind = int(kinds[k].argmax())
        if self._background[kind]: continue
        if v == "v2" and (self._plate[kind] or self._marker[kind]): continue
        class_id[row], label_probs[row], keep[row] = kind, probs[k], True
        confidence[row] = boxes.confidence[row] * kinds[k, kind]
det._second_look_by_expert = types.MethodType(look, det)
for name in sys.argv[1].split(","):
    for mode in sys.argv[2].split(","):
        MODE[0] = None if mode == "none" else (mode.split(":")[0], float(mode.split(":")[1]))
        m = evaluate_frames(det, Path(f"/tmp/w/tune-{name}/annotations.json"))
        print(name, mode, f"{m.recall_any:.3f} {m.recall_class:.3f} {m.precision_any:.3f}", flush=True)
