"""Frames out: a browser-playable MP4 (H.264, yuv420p, faststart) with the audio mixed in, and the events file.

Everything is written under a temporary name beside the target and renamed at the end, so an error or
Ctrl-C never leaves a partial file behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import numpy as np

from astute_cli.checks import follow_umask
from astute_cli.types import VideoInfo, ffmpeg_exe


class VideoSink:
    """Write BGR frames to an H.264 MP4 through the ffmpeg binary that imageio-ffmpeg ships.

    Use as a context manager; audio is added by :meth:`set_audio` before the block ends::

        with VideoSink("out.mp4", info) as sink:
            sink.write(frame)
            sink.set_audio(alerts_wav, original=info.path)

    Args:
        path: the MP4 to make; it appears only when the block ends without an exception.
        info: size and frame rate of the frames that will be written.
        crf: x264 quality; bigger makes smaller files of lower quality.
        preset: x264 speed preset; slower presets compress better and cost more CPU.
    """

    def __init__(self, path: str | Path, info: VideoInfo, crf: int = 23, preset: str = "superfast") -> None:
        self.path = Path(path)
        self.info = info
        self.crf = crf
        self.preset = preset
        self.frames_written = 0
        self._proc: subprocess.Popen | None = None
        self._video_tmp: Path | None = None
        self._alerts_wav: Path | None = None
        self._original_audio: Path | None = None

    def __enter__(self) -> VideoSink:
        folder = self.path.parent if str(self.path.parent) else Path(".")
        if not folder.is_dir():
            raise ValueError(f"Output folder does not exist: {str(folder)!r}")
        if not os.access(folder, os.W_OK):
            raise ValueError(f"Output folder is not writable: {str(folder)!r}")
        fd, name = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".video.mp4", dir=folder)
        os.close(fd)
        self._video_tmp = Path(name)
        width, height = self.info.resolution_wh
        command = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", f"{self.info.fps:.6g}",
            "-i", "-",
            # yuv420p needs even sides: pad odd sizes by one pixel rather than distort them
            "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",
            "-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf), "-pix_fmt", "yuv420p",
            "-an", str(self._video_tmp),
        ]
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        return self

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR frame of the size given in ``info``."""
        if self._proc is None or self._proc.stdin is None:
            raise RuntimeError("VideoSink.write() outside its `with` block")
        expected = (self.info.height, self.info.width, 3)
        if frame.shape != expected:
            raise ValueError(f"Frame of shape {frame.shape} written to a sink of shape {expected}")
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        except BrokenPipeError as error:
            raise RuntimeError(f"ffmpeg stopped: {self._stderr()}") from error
        self.frames_written += 1

    def set_audio(self, alerts_wav: Path | None, original: Path | None) -> None:
        """Mix these into the output: the alerts track and the audio of the original video (either may be None)."""
        self._alerts_wav = alerts_wav
        self._original_audio = original

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self._finish_video(failed=exc_type is not None)
            if exc_type is None:
                self._mux_to_target()
        finally:
            if self._video_tmp is not None:
                self._video_tmp.unlink(missing_ok=True)

    def _finish_video(self, failed: bool) -> None:
        proc = self._proc
        if proc is None:
            return
        if failed:
            proc.kill()
            proc.wait()
            return
        assert proc.stdin is not None
        proc.stdin.close()
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg could not encode the video: {self._stderr()}")
        if self.frames_written == 0:
            raise ValueError("No frames were written")

    def _mux_to_target(self) -> None:
        assert self._video_tmp is not None
        fd, name = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".mp4", dir=self._video_tmp.parent)
        os.close(fd)
        final_tmp = Path(name)
        try:
            run_ffmpeg(mux_command(self._video_tmp, final_tmp, self._alerts_wav, self._original_audio))
            follow_umask(final_tmp)
            os.replace(final_tmp, self.path)
        finally:
            final_tmp.unlink(missing_ok=True)

    def _stderr(self) -> str:
        if self._proc is None or self._proc.stderr is None:
            return ""
        text = self._proc.stderr.read().decode(errors="replace").strip()
        return text.splitlines()[-1] if text else "no message"


def mux_command(video: Path, out: Path, alerts_wav: Path | None, original: Path | None) -> list[str]:
    """The ffmpeg command that puts the video, the original sound and the alerts into one faststart MP4."""
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(video)]
    inputs = [p for p in (original, alerts_wav) if p is not None]
    for path in inputs:
        command += ["-i", str(path)]
    command += ["-map", "0:v:0", "-c:v", "copy"]
    if len(inputs) == 2:
        # alerts over the original sound (normalize=0 keeps its level), padded with silence: the video's length
        # decides (-shortest then ends the padded sound with the video)
        command += ["-filter_complex", "[1:a:0][2:a:0]amix=inputs=2:duration=longest:normalize=0,apad[a]",
                    "-map", "[a]"]
    elif len(inputs) == 1:
        command += ["-filter_complex", "[1:a:0]apad[a]", "-map", "[a]"]
    if inputs:
        command += ["-c:a", "aac", "-b:a", "128k", "-shortest"]
    return [*command, "-movflags", "+faststart", "-f", "mp4", str(out)]


def run_ffmpeg(command: list[str]) -> None:
    """Run ffmpeg; raise RuntimeError with its last error line on failure."""
    proc = subprocess.run(command, capture_output=True, text=True, errors="replace", check=False)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise RuntimeError(f"ffmpeg failed: {lines[-1] if lines else proc.returncode}")


def write_json_atomic(path: str | Path, data: dict) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=2)
        follow_umask(name)
        os.replace(name, path)
    finally:
        Path(name).unlink(missing_ok=True)
