"""Which plate the two-stage model names, with and without its expert: each crop of a classifier set's plate folders
is pasted into a grey frame under a drawn "Дети" sign and described by the model with it (``TwoStageDetector.describe``,
the daylight gate off so that only the plate path is measured), and the kind it says is compared with the folder.

    .venv/bin/python benchmarks/plate_kinds.py datasets/heldout-cls-p42/train --json benchmarks/results/plate-kinds.json

The held-out plates (``astute synth classifier datasets/heldout-cls-p42 --per-class 60 --seed 42 --size 64
--open-values 1.0 --only-classes 8_1_1,8_1_3,8_1_4,8_2_1,8_2_2,8_2_3,8_2_4``) print any distance; no classifier was
trained on them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from astute_cli.detector import load_detector
from astute_cli.signs import is_of_group_8, parse_label
from astute_cli.synth.pictograms import render_sign
from astute_cli.types import Detections

CONTEXT = 0.1
"""The margin the classifier set's crops were cut with (``ClassifierSpec``'s default): the box is the crop's middle."""


def said_kinds(detector, crops: list[np.ndarray], side: int = 96) -> list[str | None]:
    """The kind the model says of each crop (None: dropped), pasted ``side`` px wide into a grey frame under a
    "Дети" sign (1.23) of the same width, as plates hang."""
    frame = np.full((4 * side, 3 * side, 3), 114, np.uint8)
    sign = render_sign("1_23", side)  # RGBA
    alpha = sign[..., 3:].astype(np.float32) / 255
    x, y = side, side // 2
    top = frame[y:y + sign.shape[0], x:x + side].astype(np.float32)
    frame[y:y + sign.shape[0], x:x + side] = (top * (1 - alpha) + sign[..., 2::-1] * alpha).astype(np.uint8)
    plate_y = y + sign.shape[0] + 2
    inset = side * CONTEXT / (1 + 2 * CONTEXT)  # the crop's middle is the plate
    boxes = np.float32([[x, y, x + side, y + sign.shape[0]],
                        [x + inset, plate_y + inset, x + side - inset, plate_y + side - inset]])
    out = []
    for crop in crops:
        frame[plate_y:plate_y + side, x:x + side] = cv2.resize(crop, (side, side), interpolation=cv2.INTER_LINEAR)
        found, kept = detector.describe_kept(frame, Detections(boxes, np.ones(2, np.float32), np.zeros(2, np.int64)))
        out.append(detector.labels[int(found.class_id[-1])] if kept[1] else None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="class folders of plate crops (e.g. a set's train/)")
    parser.add_argument("--model", type=Path, default=None, help="ONNX detector (default: the bundled model)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    detector = load_detector(args.model, threads=args.threads)
    detector.expert_frames = lambda image: False  # the plate path alone
    expert = detector.expert
    crops = {d.name: [cv2.imread(str(f)) for f in sorted(d.glob("*.jpg"))] for d in sorted(args.folder.iterdir())
             if d.is_dir() and is_of_group_8(d.name)}
    result = {"folder": str(args.folder), "model": str(args.model or "bundled"), "crops": sum(map(len, crops.values())),
              "rows": {}}
    for name, with_expert in (("classifier alone", None), ("with the expert", expert)):
        if name == "with the expert" and expert is None:
            continue
        detector.expert = with_expert
        per_class = {}
        for label, images in crops.items():
            said = said_kinds(detector, images)
            truth = parse_label(label)[0]
            per_class[label] = round(sum(s == truth for s in said) / len(images), 3)
        right = sum(per_class[k] * len(crops[k]) for k in crops) / max(result["crops"], 1)
        result["rows"][name] = {"kind_right": round(right, 3), "per_class": per_class}
        print(f"{name}: plate kind right {right:.3f} ({result['crops']} crops); " +
              ", ".join(f"{k} {v:.2f}" for k, v in per_class.items()), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
