"""Clip metrics: the product's loop (``pipeline.run_stages``) over a labelled clip, each alert matched to a
physical sign; recall, right value, lead time, false and duplicate alerts. A false alert whose box is on a sign of
another code, where either code carries a value (a weight limit said as a speed limit), is also a wrong-kind
alert; when it comes before the sign's right alert, that sign's first alert has the wrong value."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from astute_cli.boxes import box_iou
from astute_cli.eval.replay import ReplayDetector, detect_clip, load_cached, model_key, save_cached
from astute_cli.eval.results import CLIP_SIZE_BUCKETS, ClipMetrics, ratio
from astute_cli.eval.speed import Timer
from astute_cli.labels.clips import ClipLabels, SignTrack, is_clip_labels, load_clip_labels
from astute_cli.pipeline import run_stages
from astute_cli.signs import is_of_group_8, lookup
from astute_cli.types import Announcement


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
    limits: Any = None  # eval.limits.LimitScore on a clip labelled with a limit timeline
    limit_rules: Any = None  # the same with every labelled sign announced (the rules alone)

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
    return SignOutcome(clip=clip, sign_id=sign.id, label=sign.label, counted=not is_of_group_8(sign.sign),
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
                             "sign_recall": ratio(sum(s.recalled for s in score.signs if s.counted),
                                                   sum(s.counted for s in score.signs))
                             if any(s.counted for s in score.signs) else None,
                             "false_alerts": score.false_alerts, "duplicate_alerts": score.duplicates,
                             "wrong_kind_alerts": score.wrong_kind_alerts,
                             "alerts": score.alerts, "duration_s": score.duration_s}
                for score in scores}
    return ClipMetrics(
        clips=len(scores), signs=len(signs), duration_s=duration,
        sign_recall=ratio(len(recalled), len(signs)),
        value_accuracy=ratio(sum(bool(s.value_right) for s in valued), len(valued)) if valued else None,
        false_alerts=false, false_alerts_per_min=ratio(false, duration / 60.0),
        duplicate_alerts=sum(score.duplicates for score in scores),
        lead_time_s_median=_median([s.lead_time_s for s in recalled]),
        earliest_lead_s_median=_median([s.earliest_lead_s for s in signs]),
        eval_fps=eval_fps, wrong_kind_alerts=sum(score.wrong_kind_alerts for score in scores),
        per_clip=per_clip, by_size=_by_size(signs),
        per_sign=[asdict(s) for s in signs], **_limit_fields(scores))


def _limit_fields(scores: list[ClipScore]) -> dict[str, Any]:
    from astute_cli.eval import limits

    shown = limits.summarize([s.limits for s in scores])
    if shown is None:
        return {}
    return {"speed_limit_time_right": shown["time_right"], "speed_limit_changes_caught": shown["changes_caught"],
            "speed_limit": {**shown, "rules": limits.summarize([s.limit_rules for s in scores])}}


def _by_size(signs: list[SignOutcome]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, low, high in CLIP_SIZE_BUCKETS:
        group = [s for s in signs if low <= s.max_width_px < high]
        if group:
            out[name] = {"signs": len(group), "sign_recall": ratio(sum(s.recalled for s in group), len(group)),
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


def evaluate_clip(detector, labels: ClipLabels, stages: StageFactory = default_stages,
                  eval_fps: float | None = None, timer: Timer | None = None,
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
    timer = timer or Timer()
    cache = None if cache_dir is None else Path(cache_dir) / f"{model_key(detector)}__{name}__k{step}.npz"
    per_frame = load_cached(cache) if cache is not None and cache.is_file() else None
    replayed = per_frame is not None
    if per_frame is None:
        per_frame = detect_clip(detector, labels, step, timer)
        if cache is not None:
            save_cached(cache, per_frame)
    tracker, announcer = stages(detector.labels, labels.fps)
    replay = ReplayDetector(detector.labels, per_frame)
    alerts: list[Announcement] = []
    started = time.perf_counter()
    for _, _, _, new in run_stages(replay.frames(), replay, tracker, announcer):
        alerts += new
    if not replayed:
        timer.pipeline_s += time.perf_counter() - started
    score = score_alerts(labels, alerts, name=name)
    if labels.speed_limits is not None:
        from astute_cli.eval import limits

        score.limits = limits.score_clip(labels, alerts, name=name)
        score.limit_rules = limits.score_clip(labels, limits.oracle_alerts(labels), name=name)
    return score


def find_clip_labels(path: str | Path) -> list[Path]:
    """Label files in a folder (``*.labels.json``, other clip JSONs, CVAT ``*.xml``), or the file itself."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and is_clip_labels(p))


def evaluate_clips(detector, paths: list[Path], stages: StageFactory = default_stages,
                   eval_fps: float | None = None, timer: Timer | None = None,
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
