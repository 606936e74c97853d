"""Speed and memory of `astute annotate` on this machine: whole pipeline FPS, detector-alone FPS, peak RSS,
and RSS over time (it must stay flat with video length: frames are streamed, never all held).

    .venv/bin/python benchmarks/pipeline_speed.py --seconds 20 --height 720 --json benchmarks/results/speed-720p.json
    .venv/bin/python benchmarks/pipeline_speed.py --seconds 60 --height 1080 --json benchmarks/results/speed-1080p.json

The input is the bundled demo clip looped to the asked length and scaled to the asked height.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import threading
import time
from pathlib import Path

from astute_cli.announcer import Announcer
from astute_cli.detector import load_detector
from astute_cli.eval.speed import looped_demo, peak_rss_mb, rss_mb
from astute_cli.pipeline import annotate
from astute_cli.source import frames, probe
from astute_cli.speech import make_speaker
from astute_cli.tracker import Tracker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        video = looped_demo(args.seconds, args.height, Path(tmp))
        info = probe(video)
        detector = load_detector(args.model, threads=args.threads)

        start = time.perf_counter()
        n = 0
        for _, frame in frames(video):
            detector.detect(frame)
            n += 1
        detector_fps = n / (time.perf_counter() - start)

        samples: list[tuple[float, float]] = []
        stop = threading.Event()

        def sample() -> None:
            t0 = time.perf_counter()
            while not stop.wait(1.0):
                samples.append((round(time.perf_counter() - t0, 1), round(rss_mb(), 1)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        result = annotate(video, detector, Tracker(fps=info.fps), Announcer(detector.labels, fps=info.fps),
                          make_speaker("espeak"), out=Path(tmp) / "out.mp4")
        stop.set()
        sampler.join()

    third = max(len(samples) // 3, 1)
    report = {
        "command": "python benchmarks/pipeline_speed.py " + " ".join(
            f"--{k} {v}" for k, v in vars(args).items() if v is not None and k != "json"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "threads": args.threads or os.cpu_count(),
        "resolution": f"{info.width}x{info.height}",
        "frames": result.frames,
        "fps_pipeline": round(result.fps, 2),
        "fps_detector": round(detector_fps, 2),
        "alerts": len(result.announcements),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_first_third_mb": max((s[1] for s in samples[:third]), default=None),
        "rss_last_third_mb": max((s[1] for s in samples[-third:]), default=None),
        "rss_samples": samples,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "rss_samples"}, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
