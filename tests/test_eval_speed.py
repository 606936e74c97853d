from __future__ import annotations

import pytest

from astute_cli.eval.speed import looped_demo, peak_rss_mb, rss_mb
from astute_cli.source import probe


def test_memory_is_read_from_proc():
    if not rss_mb():
        pytest.skip("no /proc/self/status here")
    assert peak_rss_mb() >= rss_mb() > 10  # a Python process with numpy and OpenCV loaded


@pytest.mark.parametrize(
    ("fps", "name", "expected_fps"),
    [pytest.param(None, "loop-96p.mp4", 25.0, id="demo-rate"), pytest.param(30.0, "loop-96p30.mp4", 30.0, id="30fps")],
)
def test_looped_demo_is_the_asked_length_size_and_rate(tmp_path, fps, name, expected_fps):
    video = looped_demo(0.4, 96, tmp_path, fps)
    info = probe(video)
    assert video.name == name
    assert (info.height, info.fps) == (96, pytest.approx(expected_fps))
    assert info.total_frames == pytest.approx(0.4 * expected_fps, abs=1)
