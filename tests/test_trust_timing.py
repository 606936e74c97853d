"""Frames written at a constant rate by their own timestamps, not by their index (issue 20, defect 5)."""

from __future__ import annotations

import numpy as np
import pytest

from astute_cli.ffmpeg import stream_rate
from astute_cli.timing import Retimer, output_rate
from tests.conftest import make_video


def _shown(times: list[float], rate: float) -> list[int]:
    """Index of the input frame in each output slot."""
    retimer, out = Retimer(rate), []
    for i, t in enumerate(times):
        out += [int(f[0, 0]) for f in retimer.push(np.full((1, 1), i, np.uint8), t)]
    out += [int(f[0, 0]) for f in retimer.flush()]
    assert retimer.slots == len(out)
    return out


@pytest.mark.parametrize(
    ("times", "rate", "expected"),
    [
        pytest.param([i / 25 for i in range(5)], 25.0, [0, 1, 2, 3, 4], id="constant-rate-one-to-one"),
        pytest.param([0, 0.1, 0.2, 0.2 + 1 / 30, 0.2 + 2 / 30], 30.0, [0, 0, 0, 1, 1, 1, 2, 3, 4],
                     id="10-then-30-fps"),
        pytest.param([0, 0.041, 0.079, 0.121], 25.0, [0, 1, 2, 3], id="jittered-timestamps"),
        pytest.param([0, 0.2, 0.4], 10.0, [0, 0, 1, 1, 2], id="gap-repeats-the-frame"),
        pytest.param([0, 0.01, 0.1], 10.0, [1, 2], id="two-frames-in-one-slot"),
        pytest.param([0.1, 0.2], 10.0, [0, 0, 1], id="late-first-frame-shown-from-0"),
    ],
)
def test_retimer_places_frames_by_time(times, rate, expected):
    assert _shown(times, rate) == expected


@pytest.mark.parametrize(
    ("fps", "tbr", "expected"),
    [
        pytest.param(25.0, 25.0, 25.0, id="constant"),
        pytest.param(18.75, 30.0, 30.0, id="vfr-uses-base-rate"),
        pytest.param(25.0, None, 25.0, id="no-base-rate"),
        pytest.param(25.0, 90000.0, 25.0, id="absurd-base-rate"),
        pytest.param(30.0, 15.0, 30.0, id="base-rate-below-average"),
    ],
)
def test_output_rate(fps, tbr, expected):
    assert output_rate(fps, tbr) == expected


def test_stream_rate_of_a_constant_rate_video(tmp_path):
    assert stream_rate(make_video(tmp_path / "v.mp4", n_frames=5, fps=10.0)) == pytest.approx(10.0)
    assert stream_rate(tmp_path / "missing.mp4") is None


@pytest.mark.parametrize(
    ("read", "expected", "last_t", "fps", "early"),
    [
        pytest.param(11, 50, 1.0, 10.0, True, id="cut-at-half"),
        pytest.param(50, 50, 4.9, 10.0, False, id="complete"),
        pytest.param(49, 50, 4.8, 10.0, False, id="one-frame-short"),
        pytest.param(40, 60, 1.967, 30.0, False, id="vfr-webm-overestimated-count"),
        pytest.param(40, 0, 1.967, 30.0, False, id="count-unknown"),
    ],
)
def test_ended_early(read, expected, last_t, fps, early):
    from astute_cli.pipeline import ended_early

    assert ended_early(read, expected, last_t, fps) is early
