"""CPU speed: the detector alone on sample frames, and the whole per-frame loop on clips."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astute_cli.eval.frames import image_path
from astute_cli.eval.groundtruth import read_checked_coco
from astute_cli.eval.results import SpeedMetrics


def rss_mb(field: str = "VmRSS") -> float:
    """This process's memory in MB from /proc/self/status: resident now (``VmRSS``) or at its peak (``VmHWM``);
    0 where there is no /proc."""
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.is_file() else []:
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (``VmHWM``)."""
    return rss_mb("VmHWM")


def looped_demo(seconds: float, height: int, folder: Path, fps: float | None = None) -> Path:
    """The bundled demo clip looped to ``seconds``, scaled to ``height`` (and converted to ``fps``), in ``folder``:
    a speed benchmark's input of any length and size."""
    import subprocess

    from astute_cli.ffmpeg import ffmpeg_exe
    from astute_cli.paths import CLIPS_DIR

    out = folder / f"loop-{height}p{'' if fps is None else f'{fps:g}'}.mp4"
    scale = f"scale=-2:{height}" + ("" if fps is None else f",fps={fps:g}")
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "-1",
                    "-i", str(CLIPS_DIR / "demo.mp4"), "-t", str(seconds), "-vf", scale,
                    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(out)], check=True)
    return out


@dataclass
class Timer:
    frames: int = 0
    detector_s: float = 0.0
    pipeline_s: float = 0.0




def measure_detector_fps(detector, frames: list[np.ndarray], repeats: int = 1) -> float:
    """Frames per second of ``detector.detect`` alone over ``frames`` (after one warm-up call)."""
    if not frames:
        return 0.0
    detector.detect(frames[0])
    started = time.perf_counter()
    for _ in range(repeats):
        for frame in frames:
            detector.detect(frame)
    return len(frames) * repeats / max(time.perf_counter() - started, 1e-9)




def measure_speed(detector, coco_paths: list[Path], clip_paths: list[Path], timer: Timer,
           threads: int | None) -> SpeedMetrics | None:
    import cv2

    sample: list[np.ndarray] = []
    if coco_paths:
        data = read_checked_coco(coco_paths[0])
        for image in data["images"][:10]:
            frame = cv2.imread(str(image_path(coco_paths[0], image["file_name"])))
            if frame is not None:
                sample.append(frame)
    if not sample and not timer.frames:
        return None
    fps_detector = (measure_detector_fps(detector, sample) if sample
                    else timer.frames / max(timer.detector_s, 1e-9))
    fps_pipeline = timer.frames / max(timer.pipeline_s, 1e-9) if timer.frames else None  # clips only
    used = threads or getattr(detector, "threads", None) or os.cpu_count()
    return SpeedMetrics(fps_pipeline=fps_pipeline, fps_detector=fps_detector, threads=used,
                        frames=timer.frames or len(sample))




def model_size_mb(model: str | Path | None, detector) -> float | None:
    path = Path(model) if model else getattr(detector, "path", None) or getattr(detector, "model_path", None)
    if path is not None and Path(path).is_file():
        return Path(path).stat().st_size / 1e6
    return None
