"""Frames out: a browser-playable MP4 (H.264, yuv420p, faststart) with the audio mixed in, and the events file.

Everything is written under a temporary name beside the target and renamed at the end, so an error or
Ctrl-C never leaves a partial file behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np

from astute_cli.ffmpeg import RawVideoWriter, mux_command, raw_video_command, run_ffmpeg
from astute_cli.files import atomic_path
from astute_cli.types import VideoInfo


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
        preset: x264 speed preset; slower presets compress better and cost more CPU. ``ultrafast``: encoding is the
            biggest cost after detection, and this one halves it (720p annotate 1.05x -> 1.28x real time on 2 cores)
            for files about 1.6x as big as ``superfast``'s at the same quality setting (benchmarks/README.md,
            "Real time").
    """

    def __init__(self, path: str | Path, info: VideoInfo, crf: int = 23, preset: str = "ultrafast") -> None:
        self.path = Path(path)
        self.info = info
        self.crf = crf
        self.preset = preset
        self.frames_written = 0
        self._writer: RawVideoWriter | None = None
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
        encode = ["-c:v", "libx264", "-preset", self.preset, "-crf", str(self.crf), "-pix_fmt", "yuv420p",
                  "-an", str(self._video_tmp)]
        if self._yuv:  # converted here (about 1 ms at 1080p), which halves ffmpeg's work and the pipe
            command = raw_video_command(self.info.resolution_wh, self.info.fps, encode, pix_fmt="yuv420p")
        else:  # yuv420p needs even sides: pad odd sizes by one pixel rather than distort them
            command = raw_video_command(self.info.resolution_wh, self.info.fps,
                                        ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", *encode])
        self._writer = RawVideoWriter(command).start()
        return self

    @property
    def _yuv(self) -> bool:
        """Frames go to ffmpeg as I420 when both sides are even (every real camera's), as BGR otherwise."""
        return self.info.width % 2 == 0 and self.info.height % 2 == 0

    def write(self, frame: np.ndarray) -> None:
        """Append one BGR frame of the size given in ``info``."""
        if self._writer is None:
            raise RuntimeError("VideoSink.write() outside its `with` block")
        expected = (self.info.height, self.info.width, 3)
        if frame.shape != expected:
            raise ValueError(f"Frame of shape {frame.shape} written to a sink of shape {expected}")
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420) if self._yuv else frame)
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
        writer = self._writer
        if writer is None:
            return
        if failed:
            writer.kill()
            return
        if writer.finish() != 0:
            raise RuntimeError(f"ffmpeg could not encode the video: {writer.last_error()}")
        if self.frames_written == 0:
            raise ValueError("No frames were written")

    def _mux_to_target(self) -> None:
        assert self._video_tmp is not None
        with atomic_path(self.path, prefix=f".{self.path.stem}.", suffix=".mp4", ordinary_mode=True) as final_tmp:
            run_ffmpeg(mux_command(self._video_tmp, final_tmp, self._alerts_wav, self._original_audio,
                                    self.frames_written / self.info.fps))
