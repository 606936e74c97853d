"""Run an iterator ahead of its consumer in a thread: decoding ahead of detection, detection ahead of drawing.

ONNX Runtime, OpenCV and ffmpeg's pipes release the GIL, so a stage in its own thread uses the core the other stages
leave idle. The queue between them is bounded, so a fast producer waits instead of filling memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def ahead(items: Iterator[T], depth: int = 8, name: str = "astute-ahead") -> Iterator[T]:
    """Yield what ``items`` yields, produced in a background thread up to ``depth`` items ahead.

    An exception raised by ``items`` is raised here, at the item where it happened. Closing this generator (or
    leaving a ``for`` loop over it early) stops the thread at its next item and closes ``items``.
    """
    buffer: queue.Queue = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():  # once stop is set the consumer has gone: drop the item
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    break
        except BaseException as error:  # handed to the consumer, which raises it
            put(_Failed(error))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
        put(_DONE)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while (item := buffer.get()) is not _DONE:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=5.0)
