"""A tracker for road signs seen from a moving car at 3–25 frames per second.

IoU trackers (SORT, ByteTrack) assume boxes overlap from one frame to the next. A sign approached at 60 km/h
and sampled at 3 FPS moves outward from the vanishing point and grows by a large factor between frames, so
its boxes often do not overlap at all. This tracker predicts each track's centre and log-width with a
constant-velocity model and matches by centre distance in units of box size plus the size change, so a fast,
growing sign keeps one id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from astute_cli.types import Detections

SLOPE_WIDTH_CHANGE = 0.1
"""Share of its width a sign must grow by before the line its centre moves along (``_Track.slope``) is measured;
until then the centre moves at its measured velocity."""


@dataclass
class _Track:
    """A sign seen from a car moving straight at a steady speed: 1 / width falls linearly with time (it is
    proportional to the distance), and the box centre moves along a line with the width (c = focus + k·w). The
    line's slope k is measured once the width has grown enough (``SLOPE_WIDTH_CHANGE``) for it to stand out of the
    boxes' jitter; until then the centre is taken to move at its measured velocity."""

    centre: np.ndarray  # cx, cy in px
    width: float
    aspect: float  # h / w
    class_id: int
    inverse_rate: float = 0.0  # d(1/w)/dframe
    slope: np.ndarray | None = None  # d(centre)/d(width), once measured
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # d(centre)/dframe, until then
    anchor: tuple[np.ndarray, float] | None = None  # centre and width the slope is measured from
    hits: int = 1
    misses: int = 0
    track_id: int = -1
    confidence: float = 1.0  # of the detection it was last matched to

    def predicted(self, steps: float | None = None) -> tuple[np.ndarray, float]:
        """Centre and width expected ``steps`` updates after the last one (default: at the next update)."""
        steps = self.misses + 1 if steps is None else self.misses + steps
        inverse = 1.0 / self.width + self.inverse_rate * steps
        width = 1.0 / inverse if inverse > 1.0 / (4.0 * self.width) else 4.0 * self.width
        if self.slope is not None:
            return self.centre + self.slope * (width - self.width), width
        return self.centre + self.velocity * steps, width


def _measure(xyxy: np.ndarray) -> tuple[np.ndarray, float, float]:
    w, h = max(float(xyxy[2] - xyxy[0]), 1e-3), max(float(xyxy[3] - xyxy[1]), 1e-3)
    return np.array([(xyxy[0] + xyxy[2]) / 2, (xyxy[1] + xyxy[3]) / 2], np.float64), w, h / w


class Tracker:
    """Give each physical sign one id across frames.

    Args:
        fps: frames per second of the detections that will be given to ``update`` (sets the time-based
            parameters below in frames).
        min_hits: detections in a row before a track gets an id; bigger means fewer false tracks, later ids.
        lost_track_buffer_s: how long a track survives without a detection; bigger bridges longer gaps, and
            risks joining two signs.
        max_distance: largest centre distance, in box widths, between prediction and detection; bigger
            tolerates faster motion (low FPS), and risks swaps between neighbouring signs.
        max_scale_change: largest |log| size change between prediction and detection.
    """

    def __init__(self, fps: float = 25.0, min_hits: int = 2, lost_track_buffer_s: float = 0.8,
                 max_distance: float = 2.0, max_scale_change: float = 0.7) -> None:
        self.fps = fps
        self.min_hits = min_hits
        self.lost_track_buffer = max(2, math.ceil(lost_track_buffer_s * fps))
        self.max_distance = max_distance
        self.max_scale_change = max_scale_change
        self.reset()

    def reset(self) -> None:
        """Forget every track; ids start again from 1."""
        self._tracks: list[_Track] = []
        self._next_id = 1

    def update(self, detections: Detections, step: int = 1) -> Detections:
        """Match this frame's detections to tracks; returns them with ``track_id`` (-1: not yet confirmed).

        ``step``: frames since the previous update (more than 1 when frames in between were skipped or dropped),
        so that motion and the lost-track buffer follow the video's time, not the count of updates.
        """
        step = max(1, int(step))
        pairs = self._assign(detections, step)
        track_ids = np.full(len(detections), -1, np.int64)
        matched_tracks = set()
        for t_index, d_index in pairs:
            track = self._tracks[t_index]
            self._correct(track, detections, d_index, step)
            matched_tracks.add(t_index)
            track_ids[d_index] = track.track_id
        for t_index, track in enumerate(self._tracks):
            if t_index not in matched_tracks:
                track.misses += step
        unmatched = sorted(set(range(len(detections))) - {d for _, d in pairs})
        for d_index in unmatched:
            centre, width, aspect = _measure(detections.xyxy[d_index])
            self._tracks.append(_Track(centre, width, aspect, int(detections.class_id[d_index]),
                                       confidence=float(detections.confidence[d_index])))
            if self.min_hits <= 1:
                self._tracks[-1].track_id = self._new_id()
                track_ids[d_index] = self._tracks[-1].track_id
        self._tracks = [t for t in self._tracks if t.misses <= self.lost_track_buffer]
        return detections.with_tracks(track_ids)

    def predict(self, steps: float, tentative: bool = False) -> Detections:
        """Where the confirmed tracks seen at the last update are expected ``steps`` updates later (a fraction for
        a frame between two updates): their boxes, ids, classes and the confidence of their last detection.
        ``tentative``: the tracks not yet confirmed too (track id -1). The tracks are not changed."""
        live = [t for t in self._tracks if (t.track_id >= 0 or tentative) and t.misses == 0]
        if not live:
            return Detections.empty().with_tracks(np.zeros(0, np.int64))
        boxes = []
        for track in live:
            (cx, cy), width = track.predicted(steps)
            height = width * track.aspect
            boxes.append([cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2])
        return Detections(np.array(boxes, np.float32), np.array([t.confidence for t in live], np.float32),
                          np.array([t.class_id for t in live]), np.array([t.track_id for t in live]))

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _assign(self, detections: Detections, step: int = 1) -> list[tuple[int, int]]:
        """Greedy matching on the cost matrix, cheapest pairs first, within the gates."""
        if not self._tracks or not len(detections):
            return []
        cost = self._costs(detections, step)
        pairs, used_t, used_d = [], set(), set()
        for flat in np.argsort(cost, axis=None):
            t, d = np.unravel_index(flat, cost.shape)
            if not np.isfinite(cost[t, d]):
                break
            if t in used_t or d in used_d:
                continue
            pairs.append((int(t), int(d)))
            used_t.add(t)
            used_d.add(d)
        return pairs

    def _costs(self, detections: Detections, step: int = 1) -> np.ndarray:
        measured = [_measure(b) for b in detections.xyxy]
        centres = np.array([m[0] for m in measured])
        widths = np.array([m[1] for m in measured])
        cost = np.full((len(self._tracks), len(detections)), np.inf)
        for t, track in enumerate(self._tracks):
            centre, width = track.predicted(step)
            distance = np.hypot(*(centres - centre).T) / np.maximum(width, widths)
            scale = np.abs(np.log(widths / width))
            # a young track has no motion model yet: at low FPS its sign may have moved far, so widen its gates
            young = 2.0 if track.hits < 2 else 1.0
            ok = (distance <= self.max_distance * young) & (scale <= self.max_scale_change * young)
            class_penalty = np.where(detections.class_id == track.class_id, 0.0, 0.3)
            cost[t, ok] = (distance + scale + class_penalty)[ok]
        return cost

    def _correct(self, track: _Track, detections: Detections, d_index: int, step: int = 1) -> None:
        centre, width, aspect = _measure(detections.xyxy[d_index])
        frames = track.misses + step
        rate = (1.0 / width - 1.0 / track.width) / frames
        smooth = 1.0 if track.hits == 1 else 0.6
        track.inverse_rate = smooth * rate + (1 - smooth) * track.inverse_rate
        track.velocity = smooth * (centre - track.centre) / frames + (1 - smooth) * track.velocity
        # the slope from widths at least SLOPE_WIDTH_CHANGE apart: a far sign grows by a pixel or so between scans,
        # as much as its box jitters, and a slope measured over that points anywhere
        anchor_centre, anchor_width = track.anchor or (track.centre, track.width)
        if abs(width - anchor_width) >= max(1.0, SLOPE_WIDTH_CHANGE * anchor_width):
            slope = (centre - anchor_centre) / (width - anchor_width)
            track.slope = slope if track.slope is None else 0.6 * slope + 0.4 * track.slope
            track.anchor = None
        elif track.anchor is None:
            track.anchor = (track.centre, track.width)
        track.centre, track.width, track.aspect = centre, width, aspect
        track.class_id = int(detections.class_id[d_index])
        track.confidence = float(detections.confidence[d_index])
        track.hits += 1
        track.misses = 0
        if track.track_id < 0 and track.hits >= self.min_hits:
            track.track_id = self._new_id()
