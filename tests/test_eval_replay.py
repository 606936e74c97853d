from __future__ import annotations

import numpy as np

from astute_cli.eval import ReplayDetector
from astute_cli.eval.replay import load_cached, save_cached
from astute_cli.pipeline import run_stages
from astute_cli.types import Detections


def recorded() -> list[tuple[int, Detections]]:
    return [(0, Detections.empty()),
            (3, Detections([[1, 2, 3, 4]], [0.9], [1])),
            (6, Detections([[5, 6, 7, 8], [0, 0, 2, 2]], [0.5, 0.4], [0, 1]))]


class RecordingTracker:
    def update(self, detections: Detections) -> Detections:
        return detections


class RecordingAnnouncer:
    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []

    def update(self, detections: Detections, frame_index: int) -> list:
        self.seen.append((frame_index, len(detections)))
        return []


def test_replay_feeds_the_products_loop_in_recorded_order():
    replay = ReplayDetector(["a", "b"], recorded())
    announcer = RecordingAnnouncer()
    out = list(run_stages(replay.frames(), replay, RecordingTracker(), announcer))
    assert [index for index, *_ in out] == [0, 3, 6]
    assert announcer.seen == [(0, 0), (3, 1), (6, 2)]


def test_cache_round_trip(tmp_path):
    path = tmp_path / "clip.npz"
    save_cached(path, recorded())
    back = load_cached(path)
    assert [i for i, _ in back] == [0, 3, 6]
    for (_, a), (_, b) in zip(back, recorded(), strict=True):
        np.testing.assert_array_equal(a.xyxy, b.xyxy)
        np.testing.assert_array_equal(a.class_id, b.class_id)
