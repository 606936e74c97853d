"""Evaluate the two-stage model (tile detector + crop classifier) on the real RTSD frames. EVALUATION ONLY.

Native-resolution 640x640 tiles over the sign region (y < 640: every one of RTSD's 25,870 boxes ends above
y=592), merged with NMS; class-agnostic recall/precision at conf and IoU 0.5, by sign width; class-correct
recall (classifier name with its value stripped == RTSD name); CPU latency per frame.

Usage: python eval_rtsd.py --detector astute_cli/models/detector.onnx [--classifier ...] [--conf 0.25] [--json out]
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import time
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from astute_cli.detector import box_iou, decode_yolo

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "rtsd-sample"
BINS = [(0, 20), (20, 32), (32, 64), (64, 10_000)]


def tiles(width: int, height: int, tile: int, roi_y2: int) -> list[tuple[int, int]]:
    xs = list(range(0, max(width - tile, 0) + 1, tile // 2))
    if xs[-1] + tile < width:
        xs.append(width - tile)
    ys = list(range(0, max(roi_y2 - tile, 0) + 1, tile // 2)) or [0]
    return [(x, y) for y in ys for x in xs]


def detect(session, frame: np.ndarray, tile: int, conf: float, roi_y2: int) -> np.ndarray:
    name = session.get_inputs()[0].name
    found = []
    for x0, y0 in tiles(frame.shape[1], frame.shape[0], tile, roi_y2):
        crop = np.full((tile, tile, 3), 114, np.uint8)
        part = frame[y0:y0 + tile, x0:x0 + tile]
        crop[:part.shape[0], :part.shape[1]] = part
        x = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32).transpose(2, 0, 1)[None] / 255.0
        found = decode_yolo(session.run(None, {name: x})[0], conf, 0.5)
        boxes = np.column_stack([found.xyxy, found.confidence, found.class_id]).astype(np.float32)
        boxes[:, [0, 2]] += x0
        boxes[:, [1, 3]] += y0
        found.append(boxes)
    boxes = np.concatenate(found) if found else np.zeros((0, 6), np.float32)
    if len(boxes) > 1:
        keep = cv2.dnn.NMSBoxes(np.column_stack([boxes[:, :2], boxes[:, 2:4] - boxes[:, :2]]).tolist(),
                                boxes[:, 4].tolist(), conf, 0.5)
        boxes = boxes[np.asarray(keep, int).reshape(-1)]
    return boxes


def square_crop(frame: np.ndarray, box: np.ndarray, context: float = 1.25) -> np.ndarray:
    """The classifier's view: a square of side 1.25x the box's longer side, centred (as astute synth cuts it)."""
    x1, y1, x2, y2 = box[:4]
    side = max(int(round(max(x2 - x1, y2 - y1) * context)), 2)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    a, b = int(round(cx - side / 2)), int(round(cy - side / 2))
    padded = cv2.copyMakeBorder(frame, side, side, side, side, cv2.BORDER_REPLICATE)
    return padded[b + side:b + 2 * side, a + side:a + 2 * side]


def classify(session, names: list[str], frame: np.ndarray, boxes: np.ndarray) -> list[str]:
    if session is None or not len(boxes):
        return [""] * len(boxes)
    size = session.get_inputs()[0].shape[2]
    batch = []
    for box in boxes:
        crop = cv2.resize(square_crop(frame, box), (size, size), interpolation=cv2.INTER_AREA)
        batch.append(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32).transpose(2, 0, 1) / 255.0)
    name = session.get_inputs()[0].name
    out = [session.run(None, {name: x[None]})[0][0] for x in batch]  # static batch 1
    return [names[int(np.argmax(o))] for o in out]


def base_code(name: str) -> str:
    return re.sub(r"_[nr]\d+(?:[.,]\d+)?$", "", name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--detector", type=Path, required=True)
    ap.add_argument("--classifier", type=Path)
    ap.add_argument("--conf", type=float, default=0.25)
    ap.add_argument("--tile", type=int, default=640)
    ap.add_argument("--roi-y2", type=int, default=640)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = a.threads
    det = ort.InferenceSession(str(a.detector), opts, providers=["CPUExecutionProvider"])
    cls, names = None, []
    if a.classifier:
        cls = ort.InferenceSession(str(a.classifier), opts, providers=["CPUExecutionProvider"])
        meta = cls.get_modelmeta().custom_metadata_map
        names_map = ast.literal_eval(meta["names"])
        names = [names_map[i] for i in range(len(names_map))]
    coco = json.loads((DATA / "annotations.json").read_text())
    cats = {c["id"]: c["name"] for c in coco["categories"]}
    by_image: dict[int, list] = {}
    for ann in coco["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    width_hit = {b: [0, 0] for b in BINS}
    tp = fp = n_gt = correct = background_drops = 0
    det_ms, cls_ms = [], []
    for image in coco["images"]:
        frame = cv2.imread(str(DATA / "images" / image["file_name"]))
        anns = by_image.get(image["id"], [])
        gt = np.array([[x, y, x + w, y + h] for x, y, w, h in (ann["bbox"] for ann in anns)], np.float32).reshape(-1, 4)
        t0 = time.perf_counter()
        boxes = detect(det, frame, a.tile, a.conf, a.roi_y2)
        t1 = time.perf_counter()
        labels = classify(cls, names, frame, boxes)
        t2 = time.perf_counter()
        det_ms.append(1000 * (t1 - t0))
        cls_ms.append(1000 * (t2 - t1))
        n_gt += len(gt)
        matched_det = set()
        if len(gt) and len(boxes):
            iou = box_iou(gt, boxes[:, :4])
            for gi in np.argsort(-iou.max(1)):
                candidates = [j for j in np.argsort(-iou[gi]) if iou[gi, j] >= 0.5 and j not in matched_det]
                if not candidates:
                    continue
                j = candidates[0]
                matched_det.add(j)
                width = gt[gi, 2] - gt[gi, 0]
                for b in BINS:
                    if b[0] <= width < b[1]:
                        width_hit[b][0] += 1
                truth = cats[anns[gi]["category_id"]]
                correct += int(base_code(labels[j]) == truth)
                background_drops += int(labels[j] == "background")
        for gi in range(len(gt)):
            width = gt[gi, 2] - gt[gi, 0]
            for b in BINS:
                if b[0] <= width < b[1]:
                    width_hit[b][1] += 1
        tp += len(matched_det)
        fp += len(boxes) - len(matched_det)
    result = {
        "detector": str(a.detector), "classifier": str(a.classifier) if a.classifier else None, "conf": a.conf,
        "frames": len(coco["images"]), "signs": n_gt, "recall": tp / max(n_gt, 1),
        "precision": tp / max(tp + fp, 1), "false_positives_per_frame": fp / len(coco["images"]),
        "recall_by_width": {f"{lo}-{hi if hi < 10_000 else 'inf'}": {"found": h, "signs": n, "recall": h / max(n, 1)}
                            for (lo, hi), (h, n) in width_hit.items()},
        "class_correct_recall": correct / max(n_gt, 1) if cls else None,
        "matched_called_background": background_drops if cls else None,
        "latency_ms_per_frame": {"detector_median": float(np.median(det_ms[1:])),
                                 "classifier_median": float(np.median(cls_ms[1:])), "threads": a.threads,
                                 "tiles_per_frame": len(tiles(1280, 720, a.tile, a.roi_y2))},
    }
    print(json.dumps(result, indent=2))
    if a.json:
        a.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
