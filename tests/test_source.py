from __future__ import annotations

import pytest

from astute_cli.source import frames, is_stream, probe
from tests.conftest import BAD_VIDEOS, make_video


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        pytest.param("0", True, id="camera-index"),
        pytest.param(1, True, id="camera-int"),
        pytest.param("rtsp://127.0.0.1/cam", True, id="rtsp"),
        pytest.param("http://127.0.0.1/v.mp4", True, id="http"),
        pytest.param("drive.mp4", False, id="file"),
        pytest.param("videos/a b/drive.mov", False, id="file-with-space"),
    ],
)
def test_is_stream(src, expected):
    assert is_stream(src) is expected


def test_frames_yields_every_frame_in_order(tmp_path):
    video = make_video(tmp_path / "v.mp4", n_frames=9)
    got = list(frames(video))
    assert [i for i, _ in got] == list(range(9))
    levels = [int(frame.mean()) for _, frame in got]
    assert levels == pytest.approx([20 * i for i in range(9)], abs=4)


def test_frames_stops_cleanly_when_consumer_breaks(tmp_path):
    video = make_video(tmp_path / "v.mp4", n_frames=30)
    for index, _ in frames(video, prefetch=2):
        if index == 3:
            break  # the decoder thread must not hang


@pytest.mark.parametrize(("make", "message"), BAD_VIDEOS)
def test_probe_rejects_bad_input(tmp_path, make, message):
    with pytest.raises(ValueError, match=message):
        probe(make(tmp_path))


def test_probe_truncated_video(tmp_path):
    video = make_video(tmp_path / "v.mp4", n_frames=20)
    data = video.read_bytes()
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError):
        probe(truncated)


@pytest.mark.parametrize(
    ("size", "fps", "audio"),
    [
        pytest.param((96, 64), 10.0, False, id="plain"),
        pytest.param((64, 96), 25.0, True, id="portrait-with-audio"),
        pytest.param((97, 63), 5.0, False, id="odd-size"),
    ],
)
def test_probe_reads_size_rate_and_audio(tmp_path, size, fps, audio):
    video = make_video(tmp_path / "v.mp4", size_wh=size, fps=fps, audio=audio)
    info = probe(video)
    assert info.resolution_wh == size
    assert info.fps == pytest.approx(fps, rel=0.01)
    assert info.has_audio is audio
