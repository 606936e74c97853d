"""Top-1 accuracy of ONNX crop classifiers on a classifier set's crops, on the classes each model knows and on the
classes all the given models share (so an old and a widened model are compared on the same crops); also of the
sign's kind, the value classes summed as the runtime sums them (``values.KindMap``: ``3_24_n60`` and ``3_24_n80``
are both ``3_24``, the reader reads the number).

    python benchmarks/classifier_crops.py datasets/cls-l10l11/val astute_cli/models/classifier.onnx \
        runs/cls-v5.onnx --json benchmarks/results/cls-v5-crops.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from astute_cli.detector import CropClassifier
from astute_cli.values import KindMap


def crops_by_class(folder: Path) -> dict[str, list[np.ndarray]]:
    return {d.name: [cv2.imread(str(f)) for f in sorted(d.glob("*.jpg"))] for d in sorted(folder.iterdir())
            if d.is_dir()}


def accuracy(model: CropClassifier, crops: dict[str, list[np.ndarray]], classes: set[str]) -> dict:
    right = total = kind_right = 0
    per_class = {}
    kinds = KindMap(model.labels)
    for label, images in crops.items():
        if label not in classes or not images:
            continue
        size = model.size
        batch = [cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA) for image in images]
        probabilities = model._probabilities(batch)
        predicted = probabilities.argmax(axis=1)
        hits = int(sum(model.labels[i] == label for i in predicted))
        truth = kinds.kind_of[model.labels.index(label)]
        kind_right += int((kinds.collapse(probabilities).argmax(axis=1) == truth).sum())
        per_class[label] = round(hits / len(images), 3)
        right, total = right + hits, total + len(images)
    return {"top1": round(right / max(total, 1), 4), "kind_top1": round(kind_right / max(total, 1), 4), "crops": total,
            "classes": len(per_class), "per_class": per_class}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="class folders of crops (e.g. a set's val/)")
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    crops = crops_by_class(args.folder)
    models = {str(path): CropClassifier(path, threads=args.threads) for path in args.models}
    shared = set.intersection(*(set(m.labels) for m in models.values()))
    result = {"folder": str(args.folder), "models": {}}
    for name, model in models.items():
        known, common = accuracy(model, crops, set(model.labels)), accuracy(model, crops, shared)
        result["models"][name] = {"known_classes": known, "shared_classes": common}
        print(f"{name}: top-1 {known['top1']} on its {known['classes']} classes ({known['crops']} crops), "
              f"{common['top1']} on the {common['classes']} shared classes ({common['crops']} crops); kind "
              f"{known['kind_top1']} / {common['kind_top1']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
