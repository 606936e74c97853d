"""Benchmark a detector: frame metrics on COCO frames, alert metrics on labelled clips, CPU speed.

Example::

    from astute_cli.benchmark import evaluate
    result = evaluate(None, ["../shared/data/rtsd-sample/annotations.json", "annotations/"], threads=2)
    print(result.to_json())
    result.save("benchmarks/bundled.json")

Frames (a COCO json with ``images/`` beside it): recall and precision at IoU >= 0.5 at the detector's
confidence threshold, class-agnostic (``any``) and class-correct (``class``: the code of the predicted
label, ``parse_label(label)[0]``, equals the ground-truth category name), mAP50 and mAP50-95 from
pycocotools, and recall/precision by box width.

Clips (``astute-clip-labels/1`` JSON, CVAT XML, or a folder of them): the product's stages
(detector -> Tracker -> Announcer) run frame by frame; every alert is matched to a physical sign with
the same code that is visible at the alert frame (box overlap) or, failing that, visible within
``time_window_s`` of it. Per sign: recalled or not, value right or not, lead time (alert -> passed
frame) against the earliest possible lead (readable frame -> passed frame). Alerts matching no sign are
false alerts; further alerts on an already announced sign are duplicates. Plates (``8_*``) are not
counted in recall, but an alert on one is not false either. A false alert whose box is on a sign of another
code, where either code carries a value (a weight limit said as a speed limit), is also a wrong-kind alert; when
it comes before the sign's right alert, that sign's first alert has the wrong value.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from astute_cli.annotations import ClipLabels, SignTrack, is_clip_labels, load_clip_labels, parse_label
from astute_cli.detector import box_iou
from astute_cli.types import Announcement, Detections

IOU_MATCH = 0.5
WIDTH_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<20", 0, 20), ("20-32", 20, 32), ("32-64", 32, 64), (">64", 64, float("inf")))
"""Sign-width classes (pixels) of the frame metrics."""
CLIP_SIZE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<48", 0, 48), ("48-80", 48, 80), ("80-112", 80, 112), (">112", 112, float("inf")))
"""Classes of a clip sign's largest width (pixels; how big it gets before it is passed)."""
MAP_SCORE_FLOOR = 0.01
"""For mAP the detector runs with its threshold lowered to this (when it has a ``conf`` attribute)."""


# ---------------------------------------------------------------- results


@dataclass
class FrameMetrics:
    """Detection quality on still frames (see the module docstring)."""

    images: int
    gt_boxes: int
    predictions: int
    recall_any: float
    recall_class: float
    precision_any: float
    precision_class: float
    map50: float
    map50_95: float
    map50_class: float
    map50_95_class: float
    conf: float | None = None
    by_width: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class ClipMetrics:
    """Alert quality on labelled clips (see the module docstring)."""

    clips: int
    signs: int
    duration_s: float
    sign_recall: float
    value_accuracy: float | None
    false_alerts: int
    false_alerts_per_min: float
    duplicate_alerts: int
    lead_time_s_median: float | None
    earliest_lead_s_median: float | None
    eval_fps: float | None = None
    wrong_kind_alerts: int = 0
    per_clip: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_size: dict[str, dict[str, Any]] = field(default_factory=dict)
    per_sign: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SpeedMetrics:
    """CPU throughput: the whole pipeline (decode, detect, track, announce) and the detector alone."""

    fps_pipeline: float | None
    fps_detector: float
    threads: int | None
    frames: int


@dataclass
class BenchmarkResult:
    """One model's benchmark. A section is None when its data was not given.

    Attributes:
        model: the model file (or ``bundled``).
        model_size_mb: size of the ONNX file.
        data: the paths evaluated.
        frames, clips, speed: the sections.
        command: the command line that made it (for benchmarks/ records).
    """

    model: str
    model_size_mb: float | None = None
    data: list[str] = field(default_factory=list)
    frames: FrameMetrics | None = None
    clips: ClipMetrics | None = None
    speed: SpeedMetrics | None = None
    command: str | None = None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"model": self.model, "model_size_mb": self.model_size_mb, "data": self.data}
        for name in ("frames", "clips", "speed"):
            section = getattr(self, name)
            if section is not None:
                out[name] = _rounded(asdict(section))
        if self.command:
            out["command"] = self.command
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict) -> BenchmarkResult:
        return cls(model=data.get("model", "?"), model_size_mb=data.get("model_size_mb"),
                   data=list(data.get("data", [])), command=data.get("command"),
                   frames=FrameMetrics(**data["frames"]) if "frames" in data else None,
                   clips=ClipMetrics(**data["clips"]) if "clips" in data else None,
                   speed=SpeedMetrics(**data["speed"]) if "speed" in data else None)

    @classmethod
    def load(cls, path: str | Path) -> BenchmarkResult:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_dict(data[0] if isinstance(data, list) else data)

    def table(self):
        """A Rich table of this result (see :func:`results_table` for several models)."""
        return results_table([self])


def save_results(results: list[BenchmarkResult], path: str | Path) -> Path:
    """One result as an object, several as a list."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload: Any = results[0].to_dict() if len(results) == 1 else [r.to_dict() for r in results]
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


_TABLE_ROWS = (
    ("frames", "recall_any", "frames: recall (any class)", "{:.3f}"),
    ("frames", "recall_class", "frames: recall (right class)", "{:.3f}"),
    ("frames", "precision_any", "frames: precision (any class)", "{:.3f}"),
    ("frames", "precision_class", "frames: precision (right class)", "{:.3f}"),
    ("frames", "map50", "frames: mAP50 (any class)", "{:.3f}"),
    ("frames", "map50_95", "frames: mAP50-95 (any class)", "{:.3f}"),
    ("frames", "map50_class", "frames: mAP50 (class)", "{:.3f}"),
    ("clips", "sign_recall", "clips: sign recall", "{:.3f}"),
    ("clips", "value_accuracy", "clips: value accuracy", "{:.3f}"),
    ("clips", "wrong_kind_alerts", "clips: wrong-kind alerts", "{}"),
    ("clips", "false_alerts_per_min", "clips: false alerts / min", "{:.2f}"),
    ("clips", "duplicate_alerts", "clips: duplicate alerts", "{}"),
    ("clips", "lead_time_s_median", "clips: lead time median, s", "{:.2f}"),
    ("clips", "earliest_lead_s_median", "clips: earliest possible lead, s", "{:.2f}"),
    ("speed", "fps_pipeline", "speed: pipeline FPS", "{:.1f}"),
    ("speed", "fps_detector", "speed: detector FPS", "{:.1f}"),
    ("speed", "threads", "speed: threads", "{}"),
)


def results_table(results: list[BenchmarkResult]):
    """A Rich table with one column per model."""
    from rich.table import Table

    table = Table(title="astute benchmark")
    table.add_column("metric")
    for r in results:
        table.add_column(Path(r.model).name, justify="right")
    table.add_row("model size, MB", *[_fmt(r.model_size_mb, "{:.1f}") for r in results])
    for section, key, title, fmt in _TABLE_ROWS:
        if any(getattr(r, section) is not None for r in results):
            table.add_row(title, *[_fmt(getattr(getattr(r, section), key, None), fmt) for r in results])
    for bucket in _buckets_present(results):
        table.add_row(f"frames: recall, width {bucket} px",
                      *[_fmt(r.frames.by_width.get(bucket, {}).get("recall_any") if r.frames else None, "{:.3f}")
                        for r in results])
    return table


def _buckets_present(results: list[BenchmarkResult]) -> list[str]:
    return [name for name, _, _ in WIDTH_BUCKETS if any(r.frames and name in r.frames.by_width for r in results)]


def _fmt(value: Any, fmt: str) -> str:
    return "–" if value is None else fmt.format(value)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


# ---------------------------------------------------------------- frames


def match_greedy(pred_xyxy: np.ndarray, pred_conf: np.ndarray, gt_xyxy: np.ndarray,
                 allowed: np.ndarray | None = None, iou_min: float = IOU_MATCH) -> np.ndarray:
    """Match predictions (highest confidence first) to ground truth one to one.

    Args:
        pred_xyxy: (N, 4) predicted boxes; pred_conf: (N,) their scores.
        gt_xyxy: (M, 4) ground-truth boxes.
        allowed: (N, M) bool, pairs that may match (class check), or None for any.
        iou_min: IoU a pair needs; bigger is stricter.

    Returns:
        (N,) index of the matched ground truth per prediction, -1 for none.
    """
    iou = box_iou(pred_xyxy, gt_xyxy)
    if allowed is not None:
        iou = np.where(allowed, iou, 0.0)
    matched = np.full(len(pred_xyxy), -1, dtype=np.int64)
    taken = np.zeros(len(gt_xyxy), dtype=bool)
    for i in np.argsort(-np.asarray(pred_conf), kind="stable"):
        if not len(gt_xyxy):
            break
        candidates = np.where(taken, -1.0, iou[i])
        j = int(np.argmax(candidates))
        if candidates[j] >= iou_min:
            matched[i], taken[j] = j, True
    return matched


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
    m_any = match_greedy(dets.xyxy, dets.confidence, gt_xyxy)
    m_class = match_greedy(dets.xyxy, dets.confidence, gt_xyxy, allowed)
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
    data = json.loads(coco_json.read_text(encoding="utf-8"))
    categories = {c["id"]: c["name"] for c in data["categories"]}
    conf = _detector_conf(detector)
    images = data["images"][:limit] if limit else data["images"]
    per_image: list[tuple[int, Detections]] = []
    with _lowered_conf(detector):
        for image in images:
            frame = cv2.imread(str(_image_path(coco_json, image["file_name"])))
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
    by_width = {name: {"gt": tally.gt_any, "recall_any": _ratio(tally.hit_any, tally.gt_any),
                       "recall_class": _ratio(tally.hit_class, tally.gt_any), "predictions": tally.pred,
                       "precision_any": _ratio(tally.tp_any, tally.pred), **map_by_width[name]}
                for name, tally in totals.items() if name != "all"}
    return FrameMetrics(images=len(per_image), gt_boxes=t.gt_any, predictions=t.pred,
                        recall_any=_ratio(t.hit_any, t.gt_any), recall_class=_ratio(t.hit_class, t.gt_any),
                        precision_any=_ratio(t.tp_any, t.pred), precision_class=_ratio(t.tp_class, t.pred),
                        conf=conf, by_width=by_width, **maps)


def _ratio(a: float, b: float) -> float:
    return float(a) / b if b else 0.0


def _image_path(coco_json: Path, file_name: str) -> Path:
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


# ---------------------------------------------------------------- clips


@dataclass
class SignOutcome:
    """What happened to one physical sign of a clip."""

    clip: str
    sign_id: int
    label: str
    counted: bool
    recalled: bool
    value_right: bool | None
    alert_frame: int | None
    lead_time_s: float | None
    earliest_lead_s: float | None
    max_width_px: float
    duplicates: int = 0
    wrong_kind: bool = False


@dataclass
class ClipScore:
    """Alerts of one clip scored against its labels."""

    clip: str
    duration_s: float
    signs: list[SignOutcome]
    false_alerts: int
    alerts: int
    wrong_kind_alerts: int = 0

    @property
    def duplicates(self) -> int:
        return sum(s.duplicates for s in self.signs)


def _overlaps(alert_xyxy: np.ndarray, gt_xyxy: np.ndarray) -> bool:
    """IoU >= 0.3, or at least half of the alert box on the sign (a box half off the frame edge)."""
    iou = float(box_iou(alert_xyxy, gt_xyxy)[0, 0])
    a = np.asarray(alert_xyxy, np.float64)
    g = np.asarray(gt_xyxy, np.float64)
    inter = max(0.0, min(a[2], g[2]) - max(a[0], g[0])) * max(0.0, min(a[3], g[3]) - max(a[1], g[1]))
    area = max((a[2] - a[0]) * (a[3] - a[1]), 1e-9)
    return iou >= 0.3 or inter / area >= 0.5


def _match_alert(alert: Announcement, labels: ClipLabels, announced: set[int], window_frames: int) -> SignTrack | None:
    """The sign this alert is about: same code, box overlap at the alert frame, else visible nearby."""
    same = [s for s in labels.signs if s.sign == alert.sign]
    by_box = [s for s in same if (b := s.box_at(alert.frame_index)) is not None and _overlaps(np.array(alert.xyxy), b)]
    by_time = [s for s in same if s.first_frame - window_frames <= alert.frame_index < s.passed_frame + window_frames]
    for group in (by_box, by_time):
        fresh = [s for s in group if s.id not in announced]
        if fresh or group:
            pick = fresh or group
            return min(pick, key=lambda s: abs(s.passed_frame - alert.frame_index))
    return None


def score_alerts(labels: ClipLabels, alerts: list[Announcement], time_window_s: float = 0.5,
                 name: str | None = None) -> ClipScore:
    """Match a clip's alerts to its signs (see the module docstring).

    Args:
        labels: the clip's ground truth.
        alerts: the alerts made on it, frame indices in the clip's own frames.
        time_window_s: how far (s) outside a sign's visible span an alert may still be about it.
        name: the clip name in the result.
    """
    window = round(time_window_s * labels.fps)
    first: dict[int, Announcement] = {}
    wrong_first: set[int] = set()
    dupes: dict[int, int] = {}
    false_alerts = wrong_kind = 0
    for alert in sorted(alerts, key=lambda a: a.frame_index):
        sign = _match_alert(alert, labels, set(first), window)
        if sign is None:
            false_alerts += 1
            other = _wrong_kind_sign(alert, labels)
            if other is not None:
                wrong_kind += 1
                if other.id not in first:
                    wrong_first.add(other.id)
        elif sign.id in first:
            dupes[sign.id] = dupes.get(sign.id, 0) + 1
        else:
            first[sign.id] = alert
    outcomes = [_outcome(name or Path(labels.video).stem, labels, s, first.get(s.id), dupes.get(s.id, 0),
                         s.id in wrong_first) for s in labels.signs]
    return ClipScore(clip=name or Path(labels.video).stem, duration_s=labels.duration_s, signs=outcomes,
                     false_alerts=false_alerts, alerts=len(alerts), wrong_kind_alerts=wrong_kind)


def _wrong_kind_sign(alert: Announcement, labels: ClipLabels) -> SignTrack | None:
    """The sign of another code under this alert's box, when the alert's kind or the sign's carries a value."""
    from astute_cli.signs import lookup

    alert_valued = lookup(alert.sign).value_kind is not None
    for sign in labels.signs:
        box = sign.box_at(alert.frame_index)
        if sign.sign != alert.sign and box is not None and _overlaps(np.array(alert.xyxy), box) and (
                alert_valued or lookup(sign.sign).value_kind is not None):
            return sign
    return None


def _outcome(clip: str, labels: ClipLabels, sign: SignTrack, alert: Announcement | None, dupes: int,
             wrong_kind: bool = False) -> SignOutcome:
    value_right = None
    if alert is not None and sign.value is not None:
        value_right = alert.value is not None and abs(float(alert.value) - sign.value) < 1e-6
    if wrong_kind and sign.value is not None:
        value_right = False  # the first alert about this sign named another kind of sign
    earliest = None if sign.readable_frame is None else (sign.passed_frame - sign.readable_frame) / labels.fps
    return SignOutcome(clip=clip, sign_id=sign.id, label=sign.label, counted=not sign.sign.startswith("8_"),
                       recalled=alert is not None, value_right=value_right,
                       alert_frame=None if alert is None else alert.frame_index,
                       lead_time_s=None if alert is None else (sign.passed_frame - alert.frame_index) / labels.fps,
                       earliest_lead_s=earliest, max_width_px=sign.max_width(), duplicates=dupes,
                       wrong_kind=wrong_kind)


def summarize_clips(scores: list[ClipScore], eval_fps: float | None = None) -> ClipMetrics:
    """Pool clip scores into the ``clips`` section."""
    signs = [s for score in scores for s in score.signs if s.counted]
    recalled = [s for s in signs if s.recalled]
    valued = [s for s in signs if s.value_right is not None]
    duration = sum(score.duration_s for score in scores)
    false = sum(score.false_alerts for score in scores)
    per_clip = {score.clip: {"signs": sum(s.counted for s in score.signs),
                             "sign_recall": _ratio(sum(s.recalled for s in score.signs if s.counted),
                                                   sum(s.counted for s in score.signs))
                             if any(s.counted for s in score.signs) else None,
                             "false_alerts": score.false_alerts, "duplicate_alerts": score.duplicates,
                             "wrong_kind_alerts": score.wrong_kind_alerts,
                             "alerts": score.alerts, "duration_s": score.duration_s}
                for score in scores}
    return ClipMetrics(
        clips=len(scores), signs=len(signs), duration_s=duration,
        sign_recall=_ratio(len(recalled), len(signs)),
        value_accuracy=_ratio(sum(bool(s.value_right) for s in valued), len(valued)) if valued else None,
        false_alerts=false, false_alerts_per_min=_ratio(false, duration / 60.0),
        duplicate_alerts=sum(score.duplicates for score in scores),
        lead_time_s_median=_median([s.lead_time_s for s in recalled]),
        earliest_lead_s_median=_median([s.earliest_lead_s for s in signs]),
        eval_fps=eval_fps, wrong_kind_alerts=sum(score.wrong_kind_alerts for score in scores),
        per_clip=per_clip, by_size=_by_size(signs),
        per_sign=[asdict(s) for s in signs])


def _by_size(signs: list[SignOutcome]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, low, high in CLIP_SIZE_BUCKETS:
        group = [s for s in signs if low <= s.max_width_px < high]
        if group:
            out[name] = {"signs": len(group), "sign_recall": _ratio(sum(s.recalled for s in group), len(group)),
                         "lead_time_s_median": _median([s.lead_time_s for s in group if s.recalled]),
                         "earliest_lead_s_median": _median([s.earliest_lead_s for s in group])}
    return out


def _median(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.median(kept)) if kept else None


StageFactory = Callable[[list[str], float], tuple[Any, Any]]
"""(labels, fps) -> (tracker, announcer): fresh stateful stages for one clip."""


def default_stages(labels: list[str], fps: float) -> tuple[Any, Any]:
    """The product's Tracker and Announcer."""
    from astute_cli.announcer import Announcer
    from astute_cli.tracker import Tracker

    return Tracker(fps=fps), Announcer(labels, fps=fps, lang="en")


@dataclass
class _Timer:
    frames: int = 0
    detector_s: float = 0.0
    pipeline_s: float = 0.0


def evaluate_clip(detector, labels: ClipLabels, stages: StageFactory = default_stages,
                  eval_fps: float | None = None, timer: _Timer | None = None,
                  name: str | None = None, cache_dir: str | Path | None = None) -> ClipScore:
    """Run detector -> tracker -> announcer over a labelled clip and score the alerts.

    Args:
        detector: has ``labels`` and ``detect(frame_bgr) -> Detections``.
        labels: the clip's ground truth (its video is decoded with OpenCV).
        stages: makes a fresh tracker and announcer per clip.
        eval_fps: evaluate only every k-th frame so that about this many frames per second are seen
            (a slower CPU pipeline); None: every frame. Lower gives later alerts.
        timer: accumulates frame counts and seconds for the speed section.
        name: the clip's name in the result.
        cache_dir: keep the detector's output per clip here and replay it next time (tune the tracker
            and announcer without running the model; no speed is measured on replayed clips).
    """
    step = 1 if not eval_fps else max(1, round(labels.fps / eval_fps))
    name = name or Path(labels.video).stem
    timer = timer or _Timer()
    cache = None if cache_dir is None else Path(cache_dir) / f"{_model_key(detector)}__{name}__k{step}.npz"
    per_frame = _load_cached(cache) if cache is not None and cache.is_file() else None
    replayed = per_frame is not None
    if per_frame is None:
        per_frame = _detect_clip(detector, labels, step, timer)
        if cache is not None:
            _save_cached(cache, per_frame)
    tracker, announcer = stages(detector.labels, labels.fps)
    alerts: list[Announcement] = []
    started = time.perf_counter()
    for index, dets in per_frame:
        alerts += announcer.update(tracker.update(dets), index)
    if not replayed:
        timer.pipeline_s += time.perf_counter() - started
    return score_alerts(labels, alerts, name=name)


def _detect_clip(detector, labels: ClipLabels, step: int, timer: _Timer) -> list[tuple[int, Detections]]:
    """Decode the clip and detect on every ``step``-th frame; time decoding and detection."""
    import cv2

    cap = cv2.VideoCapture(str(labels.video_path()))
    if not cap.isOpened():
        raise ValueError(f"Cannot open video: {str(labels.video_path())!r}")
    out, index = [], 0
    try:
        while True:
            started = time.perf_counter()
            ok, frame = cap.read()
            if not ok:
                break
            if index % step == 0:
                t0 = time.perf_counter()
                out.append((index, detector.detect(frame)))
                timer.detector_s += time.perf_counter() - t0
                timer.pipeline_s += time.perf_counter() - started
                timer.frames += 1
            index += 1
    finally:
        cap.release()
    return out


def _model_key(detector) -> str:
    """Names a model in cache files: a digest of its files' bytes, thresholds and tiling (both stages of a
    two-stage model), else its class name."""
    parts = [getattr(detector, "detector", None), getattr(detector, "classifier", None),
             getattr(detector, "reader", None)]
    parts = [p for p in parts if p is not None] or [detector]
    digest, named = hashlib.sha256(), False
    for part in parts:
        path = getattr(part, "path", None) or getattr(part, "model_path", None)
        if path is not None and Path(path).is_file():
            digest.update(Path(path).read_bytes())
            named = True
        digest.update(repr(tuple(getattr(part, key, None) for key in ("conf", "iou", "tile", "roi", "zoom", "contexts"))
                           ).encode())
    digest.update(repr((getattr(detector, "min_confidence", None), getattr(detector, "plates_need_sign", None))
                       ).encode())
    return f"{type(detector).__name__}-{digest.hexdigest()[:16]}" if named else type(detector).__name__


def _save_cached(path: Path, per_frame: list[tuple[int, Detections]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    counts = np.array([len(d) for _, d in per_frame], np.int64)
    merged = Detections.merge([d for _, d in per_frame])
    values = {} if merged.value is None else {"value": merged.value, "value_confidence": merged.value_confidence}
    np.savez_compressed(path, frames=np.array([i for i, _ in per_frame], np.int64), counts=counts,
                        xyxy=merged.xyxy, confidence=merged.confidence, class_id=merged.class_id, **values)


def _load_cached(path: Path) -> list[tuple[int, Detections]]:
    data = np.load(path)
    ends = np.cumsum(data["counts"])
    starts = ends - data["counts"]
    value = data["value"] if "value" in data else None
    value_conf = data["value_confidence"] if "value_confidence" in data else None
    return [(int(i), Detections(data["xyxy"][a:b], data["confidence"][a:b], data["class_id"][a:b],
                                value=None if value is None else value[a:b],
                                value_confidence=None if value_conf is None else value_conf[a:b]))
            for i, a, b in zip(data["frames"], starts, ends, strict=True)]


def find_clip_labels(path: str | Path) -> list[Path]:
    """Label files in a folder (``*.labels.json``, other clip JSONs, CVAT ``*.xml``), or the file itself."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and is_clip_labels(p))


def evaluate_clips(detector, paths: list[Path], stages: StageFactory = default_stages,
                   eval_fps: float | None = None, timer: _Timer | None = None,
                   cache_dir: str | Path | None = None) -> ClipMetrics:
    """Clip metrics over all label files in ``paths``."""
    scores = []
    for path in paths:
        labels = load_clip_labels(path)
        scores.append(evaluate_clip(detector, labels, stages, eval_fps, timer, name=_clip_name(path),
                                    cache_dir=cache_dir))
    return summarize_clips(scores, eval_fps)


def _clip_name(path: Path) -> str:
    name = path.name
    for suffix in (".labels.json", ".json", ".xml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


# ---------------------------------------------------------------- speed and the whole run


def measure_detector_fps(detector, frames: list[np.ndarray], repeats: int = 1) -> float:
    """Frames per second of ``detector.detect`` alone over ``frames`` (after one warm-up call)."""
    if not frames:
        return 0.0
    detector.detect(frames[0])
    started = time.perf_counter()
    for _ in range(repeats):
        for frame in frames:
            detector.detect(frame)
    return len(frames) * repeats / max(time.perf_counter() - started, 1e-9)


def split_data(paths: list[str | Path]) -> tuple[list[Path], list[Path]]:
    """Sort inputs into COCO frame sets and clip label files."""
    coco, clips = [], []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise ValueError(f"No such data: {str(path)!r}")
        if path.is_dir():
            if (path / "annotations.json").is_file():
                coco.append(path / "annotations.json")
            found = find_clip_labels(path)
            if not found and not (path / "annotations.json").is_file():
                raise ValueError(f"No COCO annotations.json or clip labels in {str(path)!r}")
            clips += found
        elif is_clip_labels(path):
            clips.append(path)
        elif path.suffix.lower() == ".json":
            coco.append(path)
        else:
            raise ValueError(f"Not a COCO json, clip label file or folder: {str(path)!r}")
    return coco, clips


def evaluate(model: str | Path | None, data: list[str | Path], threads: int | None = None,
             eval_fps: float | None = None, detector=None, stages: StageFactory = default_stages,
             limit_frames: int | None = None, cache_dir: str | Path | None = None) -> BenchmarkResult:
    """Benchmark one model on frame sets and clips.

    Args:
        model: ONNX path, or None for the bundled model.
        data: COCO jsons, clip label files, or folders of either.
        threads: onnxruntime intra-op threads (None: the detector's default).
        eval_fps: see :func:`evaluate_clip`.
        detector: an already built detector (tests); ``model`` then only names it.
        stages: tracker/announcer factory for clips.
        limit_frames: evaluate at most this many images per COCO set.
        cache_dir: replay/keep the detector's output per clip (see :func:`evaluate_clip`).
    """
    coco_paths, clip_paths = split_data(data)
    if detector is None:
        from astute_cli.detector import load_detector

        detector = load_detector(model, **({"threads": threads} if threads else {}))
    result = BenchmarkResult(model=str(model) if model else "bundled", data=[str(p) for p in data],
                             model_size_mb=_model_size_mb(model, detector))
    if coco_paths:
        frames = [evaluate_frames(detector, p, limit_frames) for p in coco_paths]
        result.frames = frames[0] if len(frames) == 1 else _pool_frames(frames)
    timer = _Timer()
    if clip_paths:
        result.clips = evaluate_clips(detector, clip_paths, stages, eval_fps, timer, cache_dir)
    result.speed = _speed(detector, coco_paths, clip_paths, timer, threads)
    return result


def _speed(detector, coco_paths: list[Path], clip_paths: list[Path], timer: _Timer,
           threads: int | None) -> SpeedMetrics | None:
    import cv2

    sample: list[np.ndarray] = []
    if coco_paths:
        data = json.loads(coco_paths[0].read_text(encoding="utf-8"))
        for image in data["images"][:10]:
            frame = cv2.imread(str(_image_path(coco_paths[0], image["file_name"])))
            if frame is not None:
                sample.append(frame)
    if not sample and not timer.frames:
        return None
    fps_detector = (measure_detector_fps(detector, sample) if sample
                    else timer.frames / max(timer.detector_s, 1e-9))
    fps_pipeline = timer.frames / max(timer.pipeline_s, 1e-9) if timer.frames else None  # clips only
    used = threads or getattr(detector, "threads", None) or os.cpu_count()
    return SpeedMetrics(fps_pipeline=fps_pipeline, fps_detector=fps_detector, threads=used,
                        frames=timer.frames or len(sample))


def _pool_frames(parts: list[FrameMetrics]) -> FrameMetrics:
    """Several COCO sets: box-weighted means (mAP too, an approximation)."""
    weights = np.array([max(p.gt_boxes, 1) for p in parts], float)

    def mean(name: str) -> float:
        return float(np.average([getattr(p, name) for p in parts], weights=weights))

    keys = ("recall_any", "recall_class", "precision_any", "precision_class", "map50", "map50_95",
            "map50_class", "map50_95_class")
    return FrameMetrics(images=sum(p.images for p in parts), gt_boxes=sum(p.gt_boxes for p in parts),
                        predictions=sum(p.predictions for p in parts), conf=parts[0].conf,
                        **{k: mean(k) for k in keys})


def _model_size_mb(model: str | Path | None, detector) -> float | None:
    path = Path(model) if model else getattr(detector, "path", None) or getattr(detector, "model_path", None)
    if path is not None and Path(path).is_file():
        return Path(path).stat().st_size / 1e6
    return None


# ---------------------------------------------------------------- chart


def save_chart(results: list[BenchmarkResult], path: str | Path) -> Path | None:
    """PNG bar chart (drawn with OpenCV): sign recall and lead time by sign size, one colour per model."""
    import cv2

    with_clips = [r for r in results if r.clips is not None and r.clips.by_size]
    if not with_clips:
        return None
    buckets = [b[0] for b in CLIP_SIZE_BUCKETS]
    width, height, margin = 1000, 460, 60
    image = np.full((height, width, 3), 255, np.uint8)
    colours = [(200, 120, 40), (40, 140, 230), (60, 170, 60), (60, 60, 200), (150, 80, 160)]
    panels = (("sign recall by max sign width (px)", "sign_recall", 1.0),
              ("lead time s (bars) and earliest possible (line)", "lead_time_s_median",
               max([v.get("earliest_lead_s_median") or 0 for r in with_clips for v in r.clips.by_size.values()]
                   + [v.get("lead_time_s_median") or 0 for r in with_clips for v in r.clips.by_size.values()]
                   + [0.1])))
    panel_w = (width - 3 * margin) // 2
    for p, (title, key, top) in enumerate(panels):
        x0, y0, y1 = margin + p * (panel_w + margin), margin, height - margin
        cv2.putText(image, title, (x0, y0 - 25), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.line(image, (x0, y1), (x0 + panel_w, y1), (0, 0, 0), 1)
        cv2.line(image, (x0, y0), (x0, y1), (0, 0, 0), 1)
        cv2.putText(image, f"{top:.2g}", (x0 - 45, y0 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
        slot = panel_w / len(buckets)
        for b, bucket in enumerate(buckets):
            cv2.putText(image, bucket, (int(x0 + b * slot + slot / 3), y1 + 20), cv2.FONT_HERSHEY_SIMPLEX,
                        0.45, (0, 0, 0), 1, cv2.LINE_AA)
            bar_w = slot * 0.8 / len(with_clips)
            for m, r in enumerate(with_clips):
                cell = r.clips.by_size.get(bucket)
                if not cell:
                    continue
                value = cell.get(key) or 0.0
                bx = int(x0 + b * slot + slot * 0.1 + m * bar_w)
                by = int(y1 - (y1 - y0) * min(value / top, 1.0))
                cv2.rectangle(image, (bx, by), (int(bx + bar_w - 2), y1), colours[m % len(colours)], -1)
                if key == "lead_time_s_median" and cell.get("earliest_lead_s_median"):
                    ey = int(y1 - (y1 - y0) * min(cell["earliest_lead_s_median"] / top, 1.0))
                    cv2.line(image, (bx, ey), (int(bx + bar_w - 2), ey), (0, 0, 0), 2)
    for m, r in enumerate(with_clips):
        cv2.putText(image, Path(r.model).name, (margin + 200 * m, height - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    colours[m % len(colours)], 1, cv2.LINE_AA)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)
    return path
