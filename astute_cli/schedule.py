"""Which frames the detector sees, and the boxes drawn on the frames it does not.

A sign takes 1–3 s to grow from 10 to 60 px, and the tracker and announcer reach full recall at 5 analysed frames a
second, so the detector need not see every frame of a 25 or 30 fps video: that is most of the cost of annotating
it. The schedule runs the detector (and so the tracker and announcer) on one frame in every ``step``, the scans.
New signs appear small in the far band, where the detector's zoom pass looks; a sign in the rest of the frame is
near, big and already tracked. So only one scan in every ``full_every`` searches the whole frame, and the others the
far band alone (``detector.detect(frame, far_only=True)``), a third of the cost with the bundled model; there the
signs already seen outside the band are looked at where they are expected, so that they are tracked at the scans'
rate (``pipeline.look_for_missed``: a classifier look, or a search of a small region around a sign seen
once). The frames between are held until the next scan and drawn with each track's box moved linearly from its box
at one scan to its box at the next, so the output keeps its own frame rate and its boxes move smoothly; a box the
next scan did not find keeps its place until then. Fewer views of a sign would mean a later alert, so on the frames
between scans the signs not yet said (or whose number is not yet read) are looked at where the tracker expects them:
the classifier and reader on those few boxes, at a fraction of a scan's cost (``focus``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astute_cli.types import Detections

DEFAULT_SCAN_FPS = 5.0
DEFAULT_FULL_EVERY = 3
"""The defaults: about 5 scans a second, every third of the whole frame (benchmarks/README.md, "Real time": a sixth
fewer model runs than every second whole, for the same signs on random drives; 4 scans a second save a third, for one
sign fewer)."""


@dataclass(frozen=True)
class Schedule:
    """The detector runs on frames 0, ``step``, 2·``step``, … of the video (1: every frame); every ``full_every``-th
    of these scans (from the first) searches the whole frame, the others the far band only (1: all whole).
    ``focus``: on the frames between scans, the signs not yet said are looked at again where the tracker expects
    them (classifier and reader only, no search), so an alert is as early as with a scan of every frame."""

    step: int = 1
    full_every: int = 1
    focus: bool = False

    def __post_init__(self) -> None:
        if self.step < 1 or self.full_every < 1:
            raise ValueError(f"A schedule's step and full_every are at least 1, not {self.step}, {self.full_every}")

    @classmethod
    def at_rate(cls, video_fps: float, scan_fps: float | None = DEFAULT_SCAN_FPS,
                full_every: int = DEFAULT_FULL_EVERY) -> Schedule:
        """Scans about ``scan_fps`` times a second (never fewer), every ``full_every``-th of the whole frame; None or
        0: every frame, each of the whole frame (the slow, thorough way). A video no faster than the scans (step 1)
        has no frame between scans for focus to look again at the near signs, so each of its scans is whole."""
        if not scan_fps or scan_fps <= 0 or video_fps <= 0:
            return cls(1, 1)
        step = max(1, int(video_fps / scan_fps))
        return cls(step, full_every if step > 1 else 1, focus=step > 1)

    def scan_fps(self, video_fps: float) -> float:
        """How many frames a second the detector, tracker and announcer see."""
        return video_fps / self.step

    def is_scan(self, n: int) -> bool:
        """Whether the ``n``-th frame read (from 0) is scanned."""
        return n % self.step == 0

    def is_far_only(self, n: int) -> bool:
        """Whether the ``n``-th frame read, a scan, searches the far band only."""
        return (n // self.step) % self.full_every != 0


EVERY_FRAME = Schedule(1)


def between(before: Detections, after: Detections | None, fraction: float) -> Detections:
    """The boxes of a frame ``fraction`` (0–1) of the way from the scan that found ``before`` to the one that found
    ``after`` (None: no scan after it): a track in both moves linearly from one box to the other; every other row
    of ``before`` keeps its box. Class, confidence and values stay those of ``before``."""
    if not len(before) or after is None or not len(after) or before.track_id is None or after.track_id is None:
        return before
    moved = before[np.arange(len(before))]  # a copy: the scan's own boxes stay as they were found
    where = {int(t): i for i, t in enumerate(after.track_id) if t >= 0}
    for i, track in enumerate(before.track_id):
        j = where.get(int(track), -1) if track >= 0 else -1
        if j >= 0:
            moved.xyxy[i] = before.xyxy[i] + (after.xyxy[j] - before.xyxy[i]) * np.float32(fraction)
    return moved
