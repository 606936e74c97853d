"""Frames in: a video file, a camera index or a stream URL, decoded ahead of the consumer."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import cv2
import numpy as np

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
    cap = _capture(src)
    if not cap.isOpened():
        raise ValueError(f"Cannot open video: {src!s}")
    buffer: queue.Queue = queue.Queue(maxsize=max(prefetch, 1))
    stop = threading.Event()

    def put(item: tuple[float, np.ndarray] | None) -> None:
        while not stop.is_set():  # once stop is set the consumer has gone: drop the item
            try:
                buffer.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def decode() -> None:
        try:
            while not stop.is_set():
                ok, frame = cap.read()
                if not ok:
                    break
                put((cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0, frame))
        finally:
            cap.release()
            put(None)

    thread = threading.Thread(target=decode, name="astute-decode", daemon=True)
    thread.start()
    try:
        index, start, last = 0, None, -1.0
        while (item := buffer.get()) is not None:
            t, frame = item
            if start is None:
                start = t if (t > 1.0 or t < 0.0) else 0.0
            t -= start
            if not t > last:  # no timestamp, or not after the previous one (also NaN)
                t = last + 1.0 / fps if index else 0.0
            yield index, t, frame
            last = t
            index += 1
    finally:
        stop.set()
        thread.join(timeout=2.0)


def _capture(src: str | Path | int) -> cv2.VideoCapture:
    text = str(src)
    return cv2.VideoCapture(int(text)) if text.isdigit() else cv2.VideoCapture(text)
