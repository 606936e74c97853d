"""Frame metrics on a COCO set: recall and precision at IoU >= 0.5 (any sign, right class), by box width, and
COCO mAP from pycocotools."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astute_cli.boxes import match_by_confidence
from astute_cli.eval.groundtruth import read_checked_coco
from astute_cli.eval.results import WIDTH_BUCKETS, FrameMetrics, ratio
from astute_cli.labels.clips import parse_label
from astute_cli.types import Detections

MAP_SCORE_FLOOR = 0.01
"""For mAP the detector runs with its threshold lowered to this (when it has a ``conf`` attribute)."""


@dataclass
class _FrameTally:
    gt_any: int = 0
    hit_any: int = 0
    hit_class: int = 0
    pred: int = 0
    tp_any: int = 0
    tp_class: int = 0

    def add(self, other: _FrameTally) -> None:
        for name in ("gt_any", "hit_any", "hit_class", "pred", "tp_any", "tp_class"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _bucket_of(width: float, buckets=WIDTH_BUCKETS) -> str:
    for name, low, high in buckets:
        if low <= width < high:
            return name
    return buckets[-1][0]


def score_frame(dets: Detections, labels: list[str], gt_xyxy: np.ndarray, gt_codes: list[str],
                conf: float | None = None) -> dict[str, _FrameTally]:
    """Tallies of one frame, overall (``all``) and per width bucket, at confidence >= ``conf``."""
    if conf is not None:
        dets = dets[dets.confidence >= conf]
    gt_xyxy = np.asarray(gt_xyxy, np.float32).reshape(-1, 4)
    codes = [parse_label(labels[int(c)])[0] for c in dets.class_id]
    allowed = np.array([[c == g for g in gt_codes] for c in codes], dtype=bool).reshape(len(codes), len(gt_codes))
    m_any = match_by_confidence(dets.xyxy, dets.confidence, gt_xyxy)
    m_class = match_by_confidence(dets.xyxy, dets.confidence, gt_xyxy, allowed)
    tallies: dict[str, _FrameTally] = {"all": _FrameTally()}
    gt_w, pred_w = gt_xyxy[:, 2] - gt_xyxy[:, 0], dets.width
    for name in ["all"] + [b[0] for b in WIDTH_BUCKETS]:
        in_gt = np.ones(len(gt_w), bool) if name == "all" else np.array([_bucket_of(w) == name for w in gt_w], bool)
        in_pred = (np.ones(len(pred_w), bool) if name == "all"
                   else np.array([_bucket_of(w) == name for w in pred_w], bool))
        gt_idx = set(np.flatnonzero(in_gt).tolist())
        tallies[name] = _FrameTally(
            gt_any=len(gt_idx),
            hit_any=len(gt_idx & set(m_any[m_any >= 0].tolist())),
            hit_class=len(gt_idx & set(m_class[m_class >= 0].tolist())),
            pred=int(in_pred.sum()),
            tp_any=int(((m_any >= 0) & in_pred).sum()),
            tp_class=int(((m_class >= 0) & in_pred).sum()))
    return tallies


def evaluate_frames(detector, coco_json: str | Path, limit: int | None = None) -> FrameMetrics:
    """Run ``detector`` over a COCO set (``images/`` beside the json) and score it."""
    import cv2

    coco_json = Path(coco_json)
    data = read_checked_coco(coco_json)
    categories = {c["id"]: c["name"] for c in data["categories"]}
    conf = _detector_conf(detector)
    images = data["images"][:limit] if limit else data["images"]
    per_image: list[tuple[int, Detections]] = []
    with _lowered_conf(detector):
        for image in images:
            frame = cv2.imread(str(image_path(coco_json, image["file_name"])))
            if frame is None:
                raise ValueError(f"Cannot read image {image['file_name']!r} beside {str(coco_json)!r}")
            per_image.append((image["id"], detector.detect(frame)))
    return score_frames(per_image, detector.labels, data, categories, conf)


def score_frames(per_image: list[tuple[int, Detections]], labels: list[str], coco: dict,
                 categories: dict[int, str], conf: float | None) -> FrameMetrics:
    """Frame metrics from detections per image id and the COCO dict."""
    totals = {name: _FrameTally() for name in ["all"] + [b[0] for b in WIDTH_BUCKETS]}
    by_image: dict[int, list[dict]] = {}
    for ann in coco["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    for image_id, dets in per_image:
        anns = by_image.get(image_id, [])
        gt = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                       for a in anns], np.float32).reshape(-1, 4)
        for name, tally in score_frame(dets, labels, gt, [categories[a["category_id"]] for a in anns], conf).items():
            totals[name].add(tally)
    maps, map_by_width = _coco_maps(per_image, labels, coco, categories)
    t = totals["all"]
    by_width = {name: {"gt": tally.gt_any, "recall_any": ratio(tally.hit_any, tally.gt_any),
                       "recall_class": ratio(tally.hit_class, tally.gt_any), "predictions": tally.pred,
                       "precision_any": ratio(tally.tp_any, tally.pred), **map_by_width[name]}
                for name, tally in totals.items() if name != "all"}
    return FrameMetrics(images=len(per_image), gt_boxes=t.gt_any, predictions=t.pred,
                        recall_any=ratio(t.hit_any, t.gt_any), recall_class=ratio(t.hit_class, t.gt_any),
                        precision_any=ratio(t.tp_any, t.pred), precision_class=ratio(t.tp_class, t.pred),
                        conf=conf, by_width=by_width, **maps)


def image_path(coco_json: Path, file_name: str) -> Path:
    for candidate in (coco_json.parent / "images" / file_name, coco_json.parent / file_name):
        if candidate.is_file():
            return candidate
    return coco_json.parent / "images" / Path(file_name).name


def _coco_maps(per_image: list[tuple[int, Detections]], labels: list[str], coco: dict,
               categories: dict[int, str]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """mAP50 and mAP50-95 from pycocotools, class-agnostic and class-correct; also per width bucket."""
    ids = {name: cid for cid, name in categories.items()}
    evaluated = {image_id for image_id, _ in per_image}
    out: dict[str, float] = {}
    by_width: dict[str, dict[str, float]] = {name: {} for name, _, _ in WIDTH_BUCKETS}
    for suffix, agnostic in (("", True), ("_class", False)):
        gt = {"images": [i for i in coco["images"] if i["id"] in evaluated],
              "categories": [{"id": 1, "name": "sign"}] if agnostic else coco["categories"],
              # area = width squared: COCOeval's area ranges then become our width buckets
              "annotations": [dict(a, category_id=1 if agnostic else a["category_id"], iscrowd=a.get("iscrowd", 0),
                                   area=float(a["bbox"][2]) ** 2)
                              for a in coco["annotations"] if a["image_id"] in evaluated]}
        preds = []
        for image_id, dets in per_image:
            for box, score, cls in zip(dets.xyxy, dets.confidence, dets.class_id, strict=True):
                cid = 1 if agnostic else ids.get(parse_label(labels[int(cls)])[0])
                if cid is not None:
                    preds.append({"image_id": image_id, "category_id": cid, "score": float(score),
                                  "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]),
                                           float(box[3] - box[1])]})
        maps = _cocoeval(gt, preds)
        out[f"map50{suffix}"], out[f"map50_95{suffix}"] = maps["all"]
        for name, _, _ in WIDTH_BUCKETS:
            by_width[name][f"map50{'_any' if agnostic else '_class'}"] = maps[name][0]
    return out, by_width


def _cocoeval(gt: dict, preds: list[dict]) -> dict[str, tuple[float, float]]:
    """(mAP50, mAP50-95) overall (``all``) and per width bucket; 0 where nothing was predicted."""
    names = ["all"] + [name for name, _, _ in WIDTH_BUCKETS]
    if not preds or not gt["annotations"]:
        return dict.fromkeys(names, (0.0, 0.0))
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(preds)
        ev = COCOeval(coco_gt, coco_dt, "bbox")
        ev.params.maxDets = [100]
        ev.params.areaRng = [[0, 1e10]] + [[low**2, min(high, 1e5) ** 2 - 1e-3]
                                                   for _, low, high in WIDTH_BUCKETS]  # half-open
        ev.params.areaRngLbl = names
        ev.evaluate()
        ev.accumulate()
    precision = ev.eval["precision"]  # [IoU thresholds, recall points, classes, areas, maxDets]
    out = {}
    for k, name in enumerate(names):
        p = precision[:, :, :, k, -1]
        p50 = p[0]
        out[name] = (float(p50[p50 > -1].mean()) if (p50 > -1).any() else 0.0,
                     float(p[p > -1].mean()) if (p > -1).any() else 0.0)
    return out


def _detector_conf(detector) -> float | None:
    value = getattr(detector, "conf", None)
    return float(value) if isinstance(value, (int, float)) else None


@contextlib.contextmanager
def _lowered_conf(detector):
    """Let the detector return low-score boxes too (mAP needs them); P/R re-apply its threshold."""
    conf = _detector_conf(detector)
    if conf is None:
        yield
        return
    try:
        detector.conf = min(conf, MAP_SCORE_FLOOR)
    except AttributeError:
        yield
        return
    try:
        yield
    finally:
        detector.conf = conf
