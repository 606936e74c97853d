"""Live latency: a clip played as a camera at its real rate through `astute annotate --live`'s loop, with no window
and a silent sound sink; for each alert, the time from the capture of the frame that made it to the start of its
sound (the espeak phrase is synthesised on the player's thread first, as live).

    .venv/bin/python benchmarks/live_latency.py --threads 2 --loop 3 --json benchmarks/results/live-latency-720p.json

Prints p50/p95/max latency, frames processed and dropped, the processed FPS and where the time goes (detector
per frame, capture to alert made, alert made to sound). The playback never blocks the loop: alerts are queued to
a background player, one at a time, the most urgent first, so an alert made while another is spoken waits for it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from astute_cli.announcer import Announcer
from astute_cli.batch import default_model
from astute_cli.detector import load_detector
from astute_cli.ffmpeg import ffmpeg_exe
from astute_cli.paths import CLIPS_DIR
from astute_cli.pipeline import live, spread
from astute_cli.source import probe
from astute_cli.speech import AlertPlayer, make_speaker, warm_up
from astute_cli.tracker import Tracker


class TimedDetector:
    """The detector, with the seconds of each ``detect`` call kept."""

    def __init__(self, inner) -> None:
        self.inner, self.labels, self.seconds = inner, inner.labels, []

    def detect(self, image: np.ndarray, **kwargs):
        started = time.perf_counter()
        try:
            return self.inner.detect(image, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - started)


def looped(video: Path, times: int, folder: Path) -> Path:
    """The video played ``times`` times in a row (stream copy, no re-encoding)."""
    if times <= 1:
        return video
    out = folder / f"{video.stem}-x{times}{video.suffix}"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", str(times - 1),
                    "-i", str(video), "-c", "copy", str(out)], check=True)
    return out


def percentiles(values: list[float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in spread(values).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=CLIPS_DIR / "demo.mp4")
    parser.add_argument("--loop", type=int, default=1, help="play the clip this many times in a row")
    parser.add_argument("--model", type=Path, default=None, help="default: what annotate runs (batch.default_model)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--speech", default="espeak", help="espeak (offline) or none")
    parser.add_argument("--lang", default="ru")
    parser.add_argument("--full-every", type=int, default=1,
                        help="one frame in this many searched whole, the others the far band only")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("ASTUTE_HOME", folder)  # a fresh phrase cache: synthesis is counted
        video = looped(args.video, args.loop, Path(folder))
        info = probe(video)
        detector = TimedDetector(load_detector(args.model or default_model(), threads=args.threads))
        detector.inner.detect(np.zeros((info.height, info.width, 3), np.uint8))  # warm up, as before a camera opens
        speaker = make_speaker(args.speech)
        warm_up(speaker, args.lang)  # as live() does with its own player, before the first frame
        player = AlertPlayer(speaker, args.lang, output=lambda samples, rate: True)  # silent: no sound device
        load = os.getloadavg()
        result = live(video, detector, Tracker(fps=info.fps), Announcer(detector.labels, fps=info.fps, lang=args.lang),
                      lang=args.lang, show=lambda image: True, player=player, full_every=args.full_every)
        player.close(wait=True)
    spoken = player.spoken
    latency = result.latency_ms()
    detect_ms = [s * 1000 for s in detector.seconds]
    document = {
        "video": str(args.video), "loop": args.loop, "width": info.width, "height": info.height,
        "fps": round(info.fps, 3), "seconds": round(result.seconds, 2),
        "frames_processed": result.frames, "frames_dropped": result.dropped,
        "processed_fps": round(result.frames / result.seconds, 2) if result.seconds else 0.0,
        "alerts_made": len(result.announcements), "alerts_said": len(spoken),
        "alerts_dropped": len(getattr(player, "dropped", [])),  # replaced by their sign's later alert, or stale
        "latency_ms": {k: round(v, 1) if isinstance(v, float) else v for k, v in latency.items()},
        "latency_ms_not_behind_another": percentiles([s.latency_s * 1000 for s in spoken if not s.behind]),
        "alerts_behind_another": sum(s.behind for s in spoken),
        "detect_ms": percentiles(detect_ms),
        "capture_to_alert_ms": percentiles([(s.queued - s.due) * 1000 for s in spoken]),
        "alert_to_sound_ms": percentiles([(s.started - s.queued) * 1000 for s in spoken]),
        "alerts": [{"text": s.text, "priority": s.priority, "latency_ms": round(s.latency_s * 1000, 1),
                    "capture_to_alert_ms": round((s.queued - s.due) * 1000, 1),
                    "alert_to_sound_ms": round((s.started - s.queued) * 1000, 1), "behind_another": s.behind}
                   for s in spoken],
        "threads": args.threads, "full_every": args.full_every, "model": str(args.model or default_model()),
        "speech": args.speech, "load_average_1m_at_start": round(load[0], 2),
        "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(),
    }
    print(f"{info.width}x{info.height} {info.fps:g} fps, {result.seconds:.1f} s: {result.summary()}")
    print(f"processed {document['processed_fps']} fps; detector {document['detect_ms']} ms; capture to alert "
          f"{document['capture_to_alert_ms']} ms; alert to sound {document['alert_to_sound_ms']} ms; "
          f"load at start {load[0]:.2f}")
    print(f"latency ms: {document['latency_ms']}; the {len(spoken) - document['alerts_behind_another']} alerts not "
          f"waiting behind another: {document['latency_ms_not_behind_another']}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
