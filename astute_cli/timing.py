"""Frame timing: each frame keeps its own timestamp, and a variable-frame-rate video is written at a constant rate
by those timestamps (never by the frame index), so the picture, the sound and the alerts stay together."""

from __future__ import annotations

import numpy as np

MAX_OUTPUT_FPS = 120.0


def output_rate(fps: float, tbr: float | None) -> float:
    """The constant rate to write at: the stream's base rate when it is plausible and not below the average rate."""
    if tbr is not None and fps <= tbr <= MAX_OUTPUT_FPS:
        return tbr
    return fps


class Retimer:
    """Turns frames with their own timestamps into a constant-rate sequence.

    The video starts at 0 s: a first frame stamped later is also shown before its time. Each frame is shown from
    its timestamp until the next frame's: it is repeated over the slots of ``1 / rate``
    seconds that start in that span. A frame whose span holds no slot start (two frames closer than one slot) is
    replaced by the next one, as any resampling by time does.

    Args:
        rate: output frames per second.
    """

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.slots = 0  # output frames given out so far
        self._pending: np.ndarray | None = None

    def push(self, frame: np.ndarray, t: float) -> list[np.ndarray]:
        """Add the frame shown from ``t`` seconds; returns the output frames now complete (the previous frame,
        repeated over its slots)."""
        slot = round(t * self.rate)
        out = [] if self._pending is None else [self._pending] * max(slot - self.slots, 0)
        self.slots += len(out)
        self._pending = frame
        return out

    def flush(self) -> list[np.ndarray]:
        """The last frame, once (it lasts one slot)."""
        out = [] if self._pending is None else [self._pending]
        self.slots += len(out)
        self._pending = None
        return out

    @property
    def duration_s(self) -> float:
        """Length of the sequence given out so far."""
        return self.slots / self.rate
