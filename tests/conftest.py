from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def astute_home(tmp_path_factory, monkeypatch):
    """Point ASTUTE_HOME (caches) at a temporary folder for every test."""
    home = tmp_path_factory.mktemp("astute_home")
    monkeypatch.setenv("ASTUTE_HOME", str(home))
    return home


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not beside the project")
    return SHARED_DATA


def make_video(path: Path, n_frames: int = 12, size_wh: tuple[int, int] = (96, 64), fps: float = 10.0,
               audio: bool = False, codec: str = "libx264") -> Path:
    """A small video whose frame i is a solid grey level 20*i (survives codec loss), made with ffmpeg."""
    import subprocess

    import numpy as np

    from astute_cli.ffmpeg import ffmpeg_exe

    width, height = size_wh
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "-"]
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={n_frames / fps}"]
    pix = ["-pix_fmt", "yuv420p"] if codec == "libx264" and width % 2 == 0 and height % 2 == 0 else []
    if codec == "libx264" and not pix:
        codec, pix = "mpeg4", []
    command += ["-c:v", codec, *pix]
    command += ["-c:a", "aac", "-shortest"] if audio else ["-an"]
    command.append(str(path))
    frames = b"".join(np.full((height, width, 3), (20 * i) % 256, np.uint8).tobytes() for i in range(n_frames))
    subprocess.run(command, input=frames, check=True)
    return path


@pytest.fixture
def video_factory(tmp_path):
    """Make small synthetic videos in tmp_path: video_factory(name, **make_video kwargs)."""

    def factory(name: str = "clip.mp4", **kwargs) -> Path:
        return make_video(tmp_path / name, **kwargs)

    return factory


def read_frames(path: Path) -> list:
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def write_file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_VIDEOS = [
    pytest.param(lambda p: p / "missing.mp4", "No such video", id="missing"),
    pytest.param(lambda p: write_file(p / "empty.mp4", b""), "Empty video", id="empty"),
    pytest.param(lambda p: write_file(p / "junk.mp4", b"not a video at all" * 50), "Cannot open video",
                 id="not-a-video"),
    pytest.param(lambda p: write_file(p / "notes.txt", b"hello"), "Unsupported video format", id="unsupported-suffix"),
    pytest.param(lambda p: p, "Is a folder", id="folder"),
]
"""(make(tmp_path) -> path, the message it must produce): bad inputs every video reader must refuse in one line."""

