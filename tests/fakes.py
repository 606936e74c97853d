"""Fakes for the pipeline's stages: scripted detections, a recording speaker."""

from __future__ import annotations

import numpy as np

from astute_cli.types import Announcement, Detections, Reading


def make_detections(xyxy=(), confidence=None, class_id=None, track_id=None) -> Detections:
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    n = len(xyxy)
    return Detections(
        xyxy=xyxy,
        confidence=np.full(n, 0.9) if confidence is None else confidence,
        class_id=np.zeros(n) if class_id is None else class_id,
        track_id=track_id,
    )


class FakeDetector:
    """Returns scripted Detections per call, in order; empty ones once the script runs out."""

    def __init__(self, labels: list[str], script: list[Detections]) -> None:
        self.labels = labels
        self.script = list(script)
        self.calls = 0
        self.far_only_calls = 0

    def detect(self, image: np.ndarray, far_only: bool = False) -> Detections:
        self.calls += 1
        self.far_only_calls += far_only
        return self.script.pop(0) if self.script else Detections.empty()


class FakeSpeaker:
    """Records what it was asked to say and returns a short beep per phrase."""

    name = "fake"
    sample_rate = 16000

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def synthesize(self, text: str, lang: str) -> np.ndarray:
        self.said.append((text, lang))
        t = np.arange(int(0.4 * self.sample_rate)) / self.sample_rate
        return (0.5 * np.sin(2 * np.pi * 660 * t)).astype(np.float32)


class IdentityTracker:
    """Gives detection i of every frame the track id i (enough to test the loop, not tracking)."""

    def update(self, detections: Detections) -> Detections:
        return Detections(detections.xyxy, detections.confidence, detections.class_id, np.arange(len(detections)))

    def reset(self) -> None:
        pass


class FirstSightAnnouncer:
    """Announces each track id the first time it is seen."""

    def __init__(self, labels: list[str], fps: float) -> None:
        self.labels, self.fps, self.seen = labels, fps, set()

    def update(self, detections: Detections, frame_index: int) -> list[Announcement]:
        out = []
        for i, track in enumerate(detections.track_id if detections.track_id is not None else []):
            if int(track) in self.seen:
                continue
            self.seen.add(int(track))
            label = self.labels[int(detections.class_id[i])]
            out.append(Announcement(frame_index, frame_index / self.fps, int(track), int(detections.class_id[i]),
                                    label, label, None, None, f"sign {label}", tuple(detections.xyxy[i]), 3))
        return out

    def reset(self) -> None:
        self.seen.clear()


class FakeReader:
    """A value reader that gives its scripted readings in turn (the last one again once they run out) and
    records the codes it was asked to read."""

    def __init__(self, readings: list[Reading]) -> None:
        self.readings = list(readings)
        self.calls: list[list[str]] = []

    def read(self, image: np.ndarray, xyxy: np.ndarray, codes) -> list[Reading]:
        self.calls.append(list(codes))
        out = []
        for _ in codes:
            out.append(self.readings.pop(0) if len(self.readings) > 1 else self.readings[0])
        return out
