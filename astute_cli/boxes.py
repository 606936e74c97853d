"""Box math on (N, 4) xyxy arrays: overlap, suppression, and the two ways of pairing boxes one to one.

The two matchers follow different rules on purpose, so each is named by its rule:
:func:`match_by_confidence` (the benchmark's: predictions take ground truth in order of their score, as COCO
does) and :func:`match_by_overlap` (the export self-check's: the best-overlapping pair anywhere goes first).
"""

from __future__ import annotations

import numpy as np

IOU_MATCH = 0.5
"""IoU a predicted box needs to count as finding a labelled one."""


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU of two sets of xyxy boxes, (N, 4) and (M, 4)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    tl = np.maximum(a[:, None, :2], b[None, :, :2])
    br = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(br - tl, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def visible_share(xyxy: np.ndarray, frame_wh: tuple[int, int]) -> np.ndarray:
    """(N,) share of each xyxy box's area inside a frame of ``frame_wh`` px (0 for a box wholly outside it, or
    of no area)."""
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    w, h = frame_wh
    inside = np.clip(xyxy, 0, [w, h, w, h])
    area = np.prod(np.clip(xyxy[:, 2:] - xyxy[:, :2], 0, None), axis=1)
    return np.prod(inside[:, 2:] - inside[:, :2], axis=1) / np.maximum(area, 1e-9) * (area > 0)


def nms(xyxy: np.ndarray, scores: np.ndarray, iou: float, split_merged: bool = True) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best first.

    ``split_merged``: a box that holds two or more side-by-side boxes (touching signs on one pole, a sign and its
    plate) is one box around several signs: it is dropped and its parts compete instead, so neighbours stay two
    boxes even when the box around both scores higher (see :func:`holds_parts`).
    """
    order = np.argsort(-scores)
    keep = []
    while len(order):
        i = order[0]
        if split_merged and len(order) > 2 and holds_parts(xyxy[i], scores[i], xyxy[order[1:]], scores[order[1:]]):
            order = order[1:]
            continue
        keep.append(i)
        if len(order) == 1:
            break
        rest = order[1:]
        overlap = box_iou(xyxy[i:i + 1], xyxy[rest])[0]
        order = rest[overlap <= iou]
    return np.array(keep, np.int64)


def holds_parts(box: np.ndarray, score: float, others: np.ndarray, other_scores: np.ndarray, inside: float = 0.8,
                cover: float = 0.7, apart: float = 0.2, min_score: float = 0.5) -> bool:
    """Whether ``box`` is several signs in one box: at least two of ``others`` lie in it (``inside`` of each
    one's area), apart from each other (IoU below ``apart``), each scoring at least ``min_score`` of the box and
    smaller than 0.7 of it, and together they cover ``cover`` of it. A duplicate of one sign never qualifies:
    it overlaps the other duplicates."""
    others = np.asarray(others, np.float64).reshape(-1, 4)
    box = np.asarray(box, np.float64)
    area = float(np.prod(np.clip(box[2:] - box[:2], 0, None)))
    if len(others) < 2 or area <= 0:
        return False
    sizes = np.prod(np.clip(others[:, 2:] - others[:, :2], 0, None), axis=1)
    inter = np.prod(np.clip(np.minimum(box[2:], others[:, 2:]) - np.maximum(box[:2], others[:, :2]), 0, None), 1)
    candidate = (inter >= inside * np.maximum(sizes, 1e-9)) & (sizes <= 0.7 * area) & (
        np.asarray(other_scores) >= min_score * score)
    parts: list[int] = []
    for j in np.flatnonzero(candidate)[np.argsort(-np.asarray(other_scores)[candidate])]:
        if not parts or box_iou(others[j], others[parts]).max() < apart:
            parts.append(int(j))
    if len(parts) < 2:
        return False
    chosen = others[parts]
    pairwise = np.prod(np.clip(np.minimum(chosen[:, None, 2:], chosen[None, :, 2:])
                               - np.maximum(chosen[:, None, :2], chosen[None, :, :2]), 0, None), axis=2)
    return float(inter[parts].sum() - np.triu(pairwise, 1).sum()) >= cover * area


def match_by_confidence(pred_xyxy: np.ndarray, pred_conf: np.ndarray, gt_xyxy: np.ndarray,
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


def match_by_overlap(truth: np.ndarray, found: np.ndarray, iou: float = IOU_MATCH) -> int:
    """Number of one-to-one pairs between ``truth`` and ``found`` xyxy boxes at IoU >= ``iou``, taking the
    best-overlapping pair first (scores play no part)."""
    if not len(truth) or not len(found):
        return 0
    overlaps = box_iou(truth[:, :4], found[:, :4])
    matched = 0
    while overlaps.size and overlaps.max() >= iou:
        i, j = np.unravel_index(overlaps.argmax(), overlaps.shape)
        overlaps[i, :], overlaps[:, j] = -1, -1
        matched += 1
    return matched
