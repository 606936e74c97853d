"""Frames in: a video file, a camera index or a stream URL, decoded ahead of the consumer (``timed_frames``), or
only ever the newest frame, the rest dropped, for live work (``LatestFrames``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import closing, nullcontext
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from astute_cli.background import ahead
from astute_cli.types import VideoInfo

SUPPORTED_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".ts", ".mts", ".flv", ".wmv", ".mpg",
                      ".mpeg", ".3gp"}


def is_stream(src: str | Path | int) -> bool:
    """True for a camera index ("0") or a URL (rtsp://, http://…), False for a file path."""
    text = str(src)
    return text.isdigit() or "://" in text


def probe(src: str | Path | int) -> VideoInfo:
    """VideoInfo of a file, camera or stream; ValueError with a one-line reason when it cannot be read."""
    if not is_stream(src):
        path = Path(src)
        if path.exists() and path.is_file() and path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise ValueError(f"Unsupported video format {path.suffix or '(no extension)'!r}: {str(path)!r}")
        return VideoInfo.from_path(path)
    cap = _capture(src)
    try:
        if not cap.isOpened():
            raise ValueError(f"Cannot open camera or stream: {src!s}")
        ok, frame = cap.read()
        if not ok:
            raise ValueError(f"Camera or stream gives no frames: {src!s}")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        cap.release()
    return VideoInfo(width=frame.shape[1], height=frame.shape[0], fps=fps if 0.5 < fps < 1000 else 25.0,
                     total_frames=0)


def frames(src: str | Path | int, prefetch: int = 8) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (index, BGR frame) pairs; a thread decodes up to ``prefetch`` frames ahead of the consumer.

    Args:
        src: a video path, a camera index (int or digit string) or a stream URL.
        prefetch: frames decoded ahead; bigger hides decoding stalls better and holds more memory.
    """
    with closing(timed_frames(src, prefetch)) as timed:
        for index, _, frame in timed:
            yield index, frame


def timed_frames(src: str | Path | int, prefetch: int = 8, fps: float = 25.0
                 ) -> Iterator[tuple[int, float, np.ndarray]]:
    """Yield (index, t, BGR frame): like :func:`frames`, with each frame's own time in seconds from the start.

    ``t`` is the frame's presentation timestamp, so a variable-frame-rate video keeps its timing; a frame without
    one (or one not after the previous frame's) is placed ``1 / fps`` after the previous frame, and a clock that
    starts far from 0 (a stream's) is counted from the first frame.
    """
    clock = _Clock(fps)
    with closing(ahead(_decoded(src), prefetch, name="astute-decode")) as decoded:
        for raw_t, frame in decoded:
            yield clock.index, clock.time(raw_t), frame


class _Clock:
    """Each frame's time from its raw timestamp (see :func:`timed_frames`); ``index`` is the next frame's index."""

    def __init__(self, fps: float) -> None:
        self.fps, self.index, self._start, self._last = fps, 0, None, -1.0

    def time(self, raw: float) -> float:
        if self._start is None:
            self._start = raw if (raw > 1.0 or raw < 0.0) else 0.0
        t = raw - self._start
        if not t > self._last:  # no timestamp, or not after the previous one (also NaN)
            t = self._last + 1.0 / self.fps if self.index else 0.0
        self._last = t
        self.index += 1
        return t


class LiveFrame(NamedTuple):
    """A frame as live work sees it: its index in the source, its time in the video (s), the moment it was
    captured (``time.perf_counter()``; for a paced file, the moment it was due), and the BGR image."""

    index: int
    t: float
    captured: float
    image: np.ndarray


class LatestFrames:
    """Iterate over the newest frame of a source, never a stale one: a thread reads continuously and keeps only
    the newest frame; the consumer gets the newest frame it has not seen, and waits only when there is none.
    Frames the consumer was too slow to take are dropped (``dropped`` counts them, ``frames_read`` all).

    A camera or stream delivers frames at its own rate; a file is read at the rate it plays (``paced``, the default
    for a file), so that it behaves as a camera. The end of the input ends the iteration (after its newest frame);
    an error in the reader is raised to the consumer. Use it as a context manager, or ``close()`` it: the thread
    stops and the capture is released.

    Args:
        src: a video path, a camera index or a stream URL; or an iterable of (raw timestamp s, BGR frame).
        fps: frame rate for frames without timestamps (default: the source's).
        paced: release each frame at its time from the start, as a camera would (default: True but for a camera
            or stream).
    """

    def __init__(self, src: str | Path | int | Iterable[tuple[float, np.ndarray]], fps: float | None = None,
                 paced: bool | None = None) -> None:
        is_path = isinstance(src, str | Path | int)
        if fps is None:
            fps = probe(src).fps if is_path else 25.0
        self.paced = (not is_path or not is_stream(src)) if paced is None else paced
        self.frames_read = self.dropped = 0
        self._source = _decoded(src) if is_path else iter(src)
        self._clock = _Clock(fps)
        self._newest: LiveFrame | None = None
        self._ended = False
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="astute-latest-frame", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[LiveFrame]:
        return self

    def __next__(self) -> LiveFrame:
        with self._changed:
            while self._newest is None and not self._ended:
                self._changed.wait(timeout=0.1)
            frame, self._newest = self._newest, None
            if frame is None:
                if self._error is not None:
                    raise self._error
                raise StopIteration
            return frame

    def __enter__(self) -> LatestFrames:
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def close(self) -> None:
        """Stop the reader and release the capture (waits for the thread, at most a couple of seconds)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)

    @property
    def running(self) -> bool:
        """True while the reader thread is alive."""
        return self._thread.is_alive()

    def _run(self) -> None:
        error = None
        try:
            with closing(self._source) if hasattr(self._source, "close") else nullcontext():
                start = None
                for raw, image in self._source:
                    if self._stop.is_set():
                        break
                    index, t = self._clock.index, self._clock.time(raw)
                    captured = time.perf_counter()
                    if self.paced:
                        start = captured - t if start is None else start
                        if self._stop.wait(max(0.0, start + t - captured)):
                            break
                        captured = start + t  # when a camera would have captured it: lag is not hidden
                    self._publish(LiveFrame(index, t, captured, image))
        except BaseException as caught:  # raised again in the consumer
            error = caught
        finally:
            with self._changed:
                self._error, self._ended = error, True
                self._changed.notify_all()

    def _publish(self, frame: LiveFrame) -> None:
        with self._changed:
            self.frames_read += 1
            self.dropped += self._newest is not None
            self._newest = frame
            self._changed.notify_all()


def _decoded(src: str | Path | int) -> Iterator[tuple[float, np.ndarray]]:
    """(raw timestamp s, BGR frame) of a file, camera or stream, read in the calling thread; released on close."""
    cap = _capture(src)
    try:
        if not cap.isOpened():
            raise ValueError(f"Cannot open video: {src!s}")
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0, frame
    finally:
        cap.release()


def _capture(src: str | Path | int) -> cv2.VideoCapture:
    text = str(src)
    return cv2.VideoCapture(int(text)) if text.isdigit() else cv2.VideoCapture(text)
