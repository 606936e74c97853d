from __future__ import annotations

import threading
import time

import pytest

from astute_cli.background import ahead


def counting(n: int, log: list):
    try:
        for i in range(n):
            log.append(("made", i))
            yield i
    finally:
        log.append(("closed", None))


@pytest.mark.parametrize("n", [pytest.param(0, id="empty"), pytest.param(1, id="one"), pytest.param(50, id="many")])
@pytest.mark.parametrize("depth", [pytest.param(1, id="depth-1"), pytest.param(8, id="depth-8")])
def test_ahead_yields_everything_in_order(n, depth):
    log: list = []
    assert list(ahead(counting(n, log), depth)) == list(range(n))
    assert log[-1] == ("closed", None)


def test_ahead_produces_in_another_thread():
    def where():
        yield threading.current_thread().name

    assert list(ahead(where(), name="astute-test")) == ["astute-test"]


def test_ahead_raises_the_producers_error_at_its_item():
    def failing():
        yield 1
        yield 2
        raise ValueError("bad frame")

    got = []
    with pytest.raises(ValueError, match="bad frame"):
        for item in ahead(failing()):
            got.append(item)
    assert got == [1, 2]


def test_ahead_stops_the_producer_when_the_consumer_leaves():
    log: list = []
    items = ahead(counting(10_000, log), depth=2)
    assert next(items) == 0
    items.close()
    deadline = time.monotonic() + 5
    while ("closed", None) not in log and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ("closed", None) in log
    assert len([e for e in log if e[0] == "made"]) < 10  # it stopped soon after, never ran to the end
    assert not any(t.name == "astute-ahead" for t in threading.enumerate())
