"""The ffmpeg binary that imageio-ffmpeg ships: locating it, probing, piping raw frames in, muxing.

Why not imageio-ffmpeg's ``write_frames``: it builds its own command (``-vcodec rawvideo``, its ``quality``
mapping, resizing to 16-pixel macro blocks unless told otherwise), while each caller here needs its exact
arguments (the sink pads odd sizes and uses a fast preset; synthetic clips use ``-preset medium``).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary that imageio-ffmpeg ships (no system ffmpeg needed)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _stream_lines(path: str | Path) -> list[str]:
    """The ``Stream #`` lines ffmpeg prints for a file (none for a file it cannot read)."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True, errors="replace", check=False)
    return [line for line in proc.stderr.splitlines() if "Stream #" in line]


def has_audio_stream(path: str | Path) -> bool:
    """True when ffmpeg sees an audio stream in the file."""
    return any("Audio:" in line for line in _stream_lines(path))


def stream_rate(path: str | Path) -> float | None:
    """The video stream's base rate (ffmpeg's ``tbr``: the lowest rate that shows every frame at its time), or None.

    For a constant-rate video it is the frame rate; for a variable one the fastest part's (10 then 30 fps: 30).
    """
    for line in _stream_lines(path):
        if "Video:" in line:
            match = re.search(r"([\d.]+)(k?) tbr", line)
            if match:
                return float(match.group(1)) * (1000 if match.group(2) else 1)
    return None


def run_ffmpeg(command: list[str]) -> None:
    """Run ffmpeg; raise RuntimeError with its last error line on failure."""
    proc = subprocess.run(command, capture_output=True, text=True, errors="replace", check=False)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise RuntimeError(f"ffmpeg failed: {lines[-1] if lines else proc.returncode}")


def mux_command(video: Path, out: Path, alerts_wav: Path | None, original: Path | None,
                duration_s: float) -> list[str]:
    """The ffmpeg command that puts the video, the original sound and the alerts into one faststart MP4.

    ``duration_s``: the video's length. The sound is padded with silence and cut to exactly that length inside
    the filter graph, so the graph ends by itself: an endless ``apad`` ended only by ``-shortest`` or ``-t`` did
    not always stop on ffmpeg 9, and the mux then wrote silence until the disk was full."""
    command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(video)]
    inputs = [p for p in (original, alerts_wav) if p is not None]
    for path in inputs:
        command += ["-i", str(path)]
    command += ["-map", "0:v:0", "-c:v", "copy"]
    fit = f"apad=whole_dur={duration_s:.6f},atrim=duration={duration_s:.6f}"
    if len(inputs) == 2:
        # alerts over the original sound (normalize=0 keeps its level); the video's length decides
        command += ["-filter_complex", f"[1:a:0][2:a:0]amix=inputs=2:duration=longest:normalize=0,{fit}[a]",
                    "-map", "[a]"]
    elif len(inputs) == 1:
        command += ["-filter_complex", f"[1:a:0]{fit}[a]", "-map", "[a]"]
    if inputs:
        command += ["-c:a", "aac", "-b:a", "128k"]
    return [*command, "-movflags", "+faststart", "-f", "mp4", str(out)]


def raw_video_command(resolution_wh: tuple[int, int], fps: float, output_args: list[str],
                      pix_fmt: str = "bgr24") -> list[str]:
    """ffmpeg reading raw frames of this size, rate and pixel format from stdin, then ``output_args`` (codec, file).

    ``pix_fmt`` "yuv420p" takes frames already converted (``cv2.COLOR_BGR2YUV_I420``, BT.601 limited range as
    ffmpeg's own conversion): at 1080p that halves the pipe and ffmpeg's CPU (19 → 10 ms a frame here) for about
    1 ms of OpenCV's conversion.
    """
    width, height = resolution_wh
    return [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{width}x{height}", "-r", f"{fps:.6g}", "-i", "-",
            *output_args]


class RawVideoWriter:
    """Raw frames piped into one ffmpeg process (see :func:`raw_video_command`).

    Call :meth:`start`, :meth:`write` each frame, then :meth:`finish` (or :meth:`kill` on an error).
    """

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.proc: subprocess.Popen | None = None

    def start(self) -> RawVideoWriter:
        self.proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        return self

    def write(self, frame: np.ndarray) -> None:
        """Send one frame; raise RuntimeError with ffmpeg's last line if it has stopped."""
        if self.proc is None or self.proc.stdin is None:
            raise RuntimeError("RawVideoWriter.write() before start()")
        try:
            self.proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        except BrokenPipeError as error:
            raise RuntimeError(f"ffmpeg stopped: {self.last_error()}") from error

    def finish(self) -> int:
        """Close the pipe, wait for ffmpeg; its exit status."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()

    def stderr_text(self) -> str:
        """What ffmpeg wrote to stderr (read once, after it has stopped)."""
        if self.proc is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read().decode(errors="replace").strip()

    def last_error(self) -> str:
        text = self.stderr_text()
        return text.splitlines()[-1] if text else "no message"
