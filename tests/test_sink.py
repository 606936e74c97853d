from __future__ import annotations

import subprocess
import wave

import numpy as np
import pytest

from astute_cli.ffmpeg import ffmpeg_exe, has_audio_stream
from astute_cli.files import write_json_atomic
from astute_cli.sink import VideoSink
from astute_cli.types import VideoInfo
from tests.conftest import make_video, read_frames


def streams(path) -> str:
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False)
    return "\n".join(line for line in proc.stderr.splitlines() if "Stream #" in line)


def moov_before_mdat(path) -> bool:
    data = path.read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")


def write_wav(path, seconds: float, rate: int = 22050) -> None:
    samples = (0.3 * np.sin(np.linspace(0, 2 * np.pi * 440 * seconds, int(rate * seconds)))).astype(np.float32)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((samples * 32767).astype(np.int16).tobytes())


def write_frames(out, info: VideoInfo, n: int, alerts=None, original=None) -> None:
    with VideoSink(out, info) as sink:
        for i in range(n):
            sink.write(np.full((info.height, info.width, 3), (20 * i) % 256, np.uint8))
        sink.set_audio(alerts, original)


@pytest.mark.parametrize(
    ("size", "fps"),
    [pytest.param((96, 64), 10.0, id="even"), pytest.param((97, 63), 25.0, id="odd-size"),
     pytest.param((64, 96), 5.0, id="portrait")],
)
def test_sink_writes_browser_playable_h264(tmp_path, size, fps):
    out = tmp_path / "out.mp4"
    info = VideoInfo(width=size[0], height=size[1], fps=fps, total_frames=8)
    write_frames(out, info, 8)
    described = streams(out)
    assert "h264" in described and "yuv420p" in described
    assert moov_before_mdat(out), "faststart: the index must come first for browsers"
    got = read_frames(out)
    assert len(got) == 8
    assert [int(f.mean()) for f in got] == pytest.approx([20 * i for i in range(8)], abs=8)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"], "no temporary files left"


@pytest.mark.parametrize("size", [pytest.param((96, 64), id="even-sent-as-yuv"),
                                  pytest.param((97, 63), id="odd-sent-as-bgr")])
def test_sink_keeps_colours_and_range(tmp_path, size):
    """Even frames are converted to I420 before ffmpeg, odd ones by ffmpeg: both must give back the same
    colours (no swapped channels, no full/limited range slip)."""
    colours = [(0, 0, 230), (0, 200, 0), (220, 40, 0), (255, 255, 255), (16, 16, 16), (30, 140, 250)]
    width, height = size
    frame = np.zeros((height, width, 3), np.uint8)
    band = width // len(colours)
    for k, colour in enumerate(colours):
        frame[:, k * band:(k + 1) * band] = colour
    out = tmp_path / "out.mp4"
    info = VideoInfo(width=width, height=height, fps=10.0, total_frames=3)
    with VideoSink(out, info) as sink:
        for _ in range(3):
            sink.write(frame)
        sink.set_audio(None, None)
    got = read_frames(out)[1]
    for k, colour in enumerate(colours):
        patch = got[8:height - 8, k * band + 4:(k + 1) * band - 4].reshape(-1, 3).mean(axis=0)
        assert patch == pytest.approx(colour, abs=12), (k, colour, patch)


@pytest.mark.parametrize(
    ("alerts", "original", "expect_audio"),
    [
        pytest.param(False, False, False, id="silent"),
        pytest.param(True, False, True, id="alerts-only"),
        pytest.param(False, True, True, id="original-only"),
        pytest.param(True, True, True, id="mixed"),
    ],
)
def test_sink_muxes_audio(tmp_path, alerts, original, expect_audio):
    info = VideoInfo(width=96, height=64, fps=10.0, total_frames=20)
    wav = tmp_path / "alerts.wav"
    write_wav(wav, 2.0)
    source = make_video(tmp_path / "src.mp4", n_frames=20, audio=True)
    out = tmp_path / "out.mp4"
    write_frames(out, info, 20, wav if alerts else None, source if original else None)
    assert has_audio_stream(out) is expect_audio
    assert len(read_frames(out)) == 20


def test_sink_leaves_nothing_when_the_block_fails(tmp_path):
    info = VideoInfo(width=96, height=64, fps=10.0, total_frames=5)
    with pytest.raises(KeyboardInterrupt), VideoSink(tmp_path / "out.mp4", info) as sink:
        sink.write(np.zeros((64, 96, 3), np.uint8))
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("frame_shape", "message"),
    [pytest.param((10, 10, 3), "shape", id="wrong-size")],
)
def test_sink_rejects_wrong_frames(tmp_path, frame_shape, message):
    info = VideoInfo(width=96, height=64, fps=10.0, total_frames=5)
    with pytest.raises(ValueError, match=message), VideoSink(tmp_path / "out.mp4", info) as sink:
        sink.write(np.zeros(frame_shape, np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_sink_refuses_missing_folder(tmp_path):
    info = VideoInfo(width=96, height=64, fps=10.0, total_frames=5)
    with pytest.raises(ValueError, match="does not exist"), VideoSink(tmp_path / "nope" / "o.mp4", info):
        pass


def test_write_json_atomic(tmp_path):
    path = tmp_path / "e.json"
    write_json_atomic(path, {"text": "Ограничение скорости 60"})
    assert "Ограничение" in path.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["e.json"]
