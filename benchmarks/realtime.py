"""Real time (issue 17): `astute annotate`'s speed by stage before and after, at 720p 25 fps and 1080p 30 fps, and
per-sign recall, value accuracy and lead time on the committed clips in the same run.

    .venv/bin/python benchmarks/realtime.py --json benchmarks/results/realtime.json
    .venv/bin/python benchmarks/realtime.py --skip-speed --clips limit-clips/   # + the limit in force, as annotate runs

Speed: the bundled demo clip looped to ``--seconds`` and scaled (1080p: also converted to 30 fps), annotated with
spoken alerts (espeak) and the report, once per setting, each in a fresh process (its own peak memory). Stages are
timed by wrapping them. Decoding runs in a thread ahead of the loop and encoding in ffmpeg, so their rows are the
loop's waits for them, and ffmpeg's own CPU time is a row of its own; detection (with classify, track, announce) runs
in a thread of its own ahead of drawing and encoding, so the rows overlap and may add up to more than the wall time.

Quality: through the product's own loop (``pipeline.run_stages``) and stages (``batch.build_stages``). Each clip's
every frame is detected once per model (FP32, INT8, cached); the every-frame rows replay all of them, the scheduled
rows without ``focus`` the schedule's scans only (a replayed scan's detections are exactly what the scheduled run
computes); a schedule with ``focus`` looks again at the frames between scans, so it runs the model on the clip.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import closing
from dataclasses import asdict, replace
from pathlib import Path

from astute_cli.eval.speed import looped_demo, peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
FP32 = ROOT / "astute_cli" / "models" / "detector.onnx"
INT8 = ROOT / "astute_cli" / "models" / "detector.int8.onnx"
SETTINGS = {  # name: (model, scans a second or None for every frame, a whole-frame scan every n-th, focus)
    "before: FP32, every frame": (FP32, None, 1, False),
    "INT8, every frame": (INT8, None, 1, False),
    "INT8, 5 scans/s, all whole": (INT8, 5.0, 1, False),
    "INT8, 5 scans/s, every 2nd whole": (INT8, 5.0, 2, False),
    "INT8, 5 scans/s, every 2nd whole, focus": (INT8, 5.0, 2, True),  # the defaults before every 3rd whole
    "FP32, 5 scans/s, every 2nd whole, focus": (FP32, 5.0, 2, True),
    "after: INT8, 5 scans/s, every 3rd whole, focus": (INT8, 5.0, 3, True),
    "INT8, 4 scans/s, every 2nd whole, focus": (INT8, 4.0, 2, True),
    "INT8, 4 scans/s, every 3rd whole, focus": (INT8, 4.0, 3, True),
    "INT8, 3 scans/s, every 2nd whole, focus": (INT8, 3.0, 2, True),
}
SPEED_SETTINGS = ["before: FP32, every frame", "INT8, 5 scans/s, all whole", "INT8, 5 scans/s, every 2nd whole, focus",
                  "INT8, 4 scans/s, every 3rd whole, focus", "after: INT8, 5 scans/s, every 3rd whole, focus"]
STAGES = ["decode (wait)", "detect", "classify + read", "track", "announce", "draw", "encode (wait)",
          "alerts audio", "mux"]


class Stopwatch:
    """Seconds spent in wrapped callables, by stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner: object, name: str, stage: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - started

        setattr(owner, name, timed)

    def wrap_iterator(self, owner: object, name: str, stage: str) -> None:
        original = getattr(owner, name)
        watch = self

        class Timed:
            def __init__(self, *args, **kwargs) -> None:
                self.inner = original(*args, **kwargs)

            def __iter__(self):
                return self

            def __next__(self):
                started = time.perf_counter()
                try:
                    return next(self.inner)
                finally:
                    watch.seconds[stage] += time.perf_counter() - started

            def close(self) -> None:
                self.inner.close()

        setattr(owner, name, Timed)


def speed_run(video: Path, setting: str, threads: int | None, preset: str | None = None) -> dict:
    """One annotate run with the stages timed (run in a fresh process); ``preset``: x264's, instead of the sink's."""
    from astute_cli import batch, pipeline
    from astute_cli.sink import VideoSink

    if preset:
        VideoSink.__init__.__defaults__ = (VideoSink.__init__.__defaults__[0], preset)
    from astute_cli.source import probe
    from astute_cli.speech import make_speaker

    model, scan_fps, full_every, focus = SETTINGS[setting]
    info = probe(video)
    settings = batch.Settings(model=str(model), threads=threads, scan_fps=scan_fps, full_every=full_every)
    detector, tracker, announcer, schedule = batch.build_stages(settings, info.fps)
    schedule = replace(schedule, focus=schedule.focus and focus)
    watch = Stopwatch()
    watch.wrap(detector.detector, "detect", "detect")
    watch.wrap(detector, "describe_kept", "classify + read")  # the scans' boxes and the looks between scans
    watch.wrap(tracker, "update", "track")
    watch.wrap(announcer, "update", "announce")
    watch.wrap(pipeline, "draw", "draw")
    watch.wrap(VideoSink, "write", "encode (wait)")
    watch.wrap(VideoSink, "_mux_to_target", "mux")
    watch.wrap(pipeline, "_alerts_audio", "alerts audio")
    watch.wrap_iterator(pipeline, "timed_frames", "decode (wait)")
    with tempfile.TemporaryDirectory() as tmp:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = pipeline.annotate(video, detector, tracker, announcer, make_speaker("espeak"),
                                   out=Path(tmp) / "out.mp4", schedule=schedule)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    frames = result.frames
    seconds = dict(watch.seconds)
    return {
        "setting": setting, "resolution": f"{info.width}x{info.height}", "video_fps": info.fps, "frames": frames,
        "scans": -(-frames // schedule.step), "wall_s": round(wall, 2), "fps": round(frames / wall, 2),
        "realtime_factor": round(result.realtime_factor, 3), "alerts": len(result.announcements),
        "ms_per_frame": {stage: round(1000 * seconds.get(stage, 0.0) / frames, 2) for stage in STAGES},
        "ffmpeg_cpu_ms_per_frame": round(1000 * (after.ru_utime + after.ru_stime - children.ru_utime
                                                  - children.ru_stime) / frames, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1), "x264_preset": preset or "the sink's default",
    }


def clip_quality(clips: list[Path], threads: int | None, cache: Path, settings: list[str] | None = None
                 ) -> dict[str, dict]:
    """Each setting's clip metrics (default: every one), from one every-frame detection pass per model (cached in
    ``cache``)."""
    from astute_cli import batch
    from astute_cli.detector import load_detector
    from astute_cli.eval.clips import score_alerts, summarize_clips
    from astute_cli.eval.limits import score_clip, summarize
    from astute_cli.eval.replay import ReplayDetector, detect_clip, load_cached, model_key, save_cached
    from astute_cli.eval.speed import Timer
    from astute_cli.labels.clips import load_clip_labels
    from astute_cli.pipeline import run_stages
    from astute_cli.source import frames

    out: dict[str, dict] = {}
    detected: dict[tuple, list] = {}

    digests: dict[int, str] = {}  # id(detector): model_key (hashes ~25 MB of models: once per detector)

    def detections(detector, model: Path, path: Path, labels, step: int, far_only: bool) -> list:
        if id(detector) not in digests:
            digests[id(detector)] = model_key(detector)
        key = (model.stem, digests[id(detector)], path.name, step, far_only)  # a new classifier or reader: new key
        if key not in detected:
            cached = cache / ("__".join(map(str, key)) + ".npz")
            if not cached.is_file():
                save_cached(cached, detect_clip(FarOnly(detector) if far_only else detector, labels, step, Timer()))
            detected[key] = load_cached(cached)
        return detected[key]

    for setting, (model, scan_fps, full_every, focus) in SETTINGS.items():
        if settings is not None and setting not in settings:
            continue
        detector = load_detector(model, threads=threads)
        scores, limits = [], []
        for path in clips:
            labels = load_clip_labels(path)
            _, tracker, announcer, schedule = batch.build_stages(batch.Settings(
                model=str(model), threads=threads, scan_fps=scan_fps, full_every=full_every, lang="en"), labels.fps)
            schedule = replace(schedule, focus=schedule.focus and focus)
            if schedule.focus:  # it looks again at frames between scans: run the model on the clip's frames
                with closing(frames(labels.video_path())) as source:
                    alerts = [a for *_, new in run_stages(source, detector, tracker, announcer, schedule) for a in new]
            else:  # replay the scans' detections (what the scheduled run computes)
                every = detections(detector, model, path, labels, 1, False)
                far = dict(detections(detector, model, path, labels, schedule.step, True)) if full_every > 1 else {}
                scans = [(index, far[index] if schedule.is_far_only(n) else found)
                         for n, (index, found) in enumerate(every) if schedule.is_scan(n)]
                source = ((index, None) for index, _ in every)
                alerts = [a for *_, new in run_stages(source, ReplayDetector(detector.labels, scans), tracker,
                                                      announcer, schedule) for a in new]
            scores.append(score_alerts(labels, alerts, name=path.name.removesuffix(".labels.json")))
            limits.append(score_clip(labels, alerts, name=path.name.removesuffix(".labels.json")))
        metrics = asdict(summarize_clips(scores))
        out[setting] = {k: metrics[k] for k in ("clips", "signs", "sign_recall", "value_accuracy", "false_alerts",
                                                  "false_alerts_per_min", "duplicate_alerts", "wrong_kind_alerts",
                                                  "lead_time_s_median", "earliest_lead_s_median")}
        out[setting]["lead_time_s_mean"] = _mean_lead(metrics["per_sign"])
        if (limit := summarize(limits)) is not None:  # clips labelled with the limit in force (limit-clips/)
            out[setting]["speed_limit"] = limit
    return out


def _chosen(names: str) -> list[str]:
    """The SETTINGS named in a ';'-separated list, by full name or by the word before the colon (before, after)."""
    wanted = [w.strip() for w in names.split(";") if w.strip()]
    return [name for name in SETTINGS if name in wanted or name.split(":")[0] in wanted]


class FarOnly:
    """A detector's far-band search alone (``detect(frame, far_only=True)``), as a detector."""

    def __init__(self, detector) -> None:
        self.detector, self.labels = detector, detector.labels

    def detect(self, image):
        return self.detector.detect(image, far_only=True)


def _mean_lead(per_sign: list[dict]) -> float | None:
    leads = [s["lead_time_s"] for s in per_sign if s.get("lead_time_s") is not None]
    return round(sum(leads) / len(leads), 3) if leads else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--clips", type=Path, default=ROOT / "annotations")
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "realtime")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--preset", default=None, help="x264 preset of the output (default: the sink's)")
    parser.add_argument("--speed-settings", default=";".join(SPEED_SETTINGS),
                        help="speed rows to run: names of SETTINGS, or their first word (before, after), separated "
                             "by ';' (default: before, all whole, after)")
    parser.add_argument("--quality-settings", default=";".join(SETTINGS),
                        help="quality rows to run, as --speed-settings (default: all of SETTINGS)")
    parser.add_argument("--one", nargs=2, metavar=("VIDEO", "SETTING"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(speed_run(Path(args.one[0]), args.one[1], args.threads, args.preset)))
        return
    report: dict = {"command": "python benchmarks/realtime.py " + " ".join(sys.argv[1:]),
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores", "threads": args.threads or "all"}
    speed_settings, quality_settings = _chosen(args.speed_settings), _chosen(args.quality_settings)
    if not args.skip_speed:
        report["speed"] = []
        with tempfile.TemporaryDirectory() as tmp:
            for height, fps in ((720, 25.0), (1080, 30.0)):
                video = looped_demo(args.seconds, height, Path(tmp), fps)
                for setting in speed_settings:
                    command = [sys.executable, __file__, "--one", str(video), setting]
                    if args.threads:
                        command += ["--threads", str(args.threads)]
                    if args.preset:
                        command += ["--preset", args.preset]
                    run = json.loads(subprocess.run(command, check=True, capture_output=True, text=True
                                                    ).stdout.strip().splitlines()[-1])
                    print(json.dumps(run), flush=True)
                    report["speed"].append(run)
    if not args.skip_quality:
        from astute_cli.eval.clips import find_clip_labels
        from astute_cli.labels.clips import load_clip_labels

        args.cache.mkdir(parents=True, exist_ok=True)
        clips = [p for p in find_clip_labels(args.clips) if load_clip_labels(p).video_path().is_file()]
        report["clips"] = [p.name for p in clips]
        report["quality"] = clip_quality(clips, args.threads, args.cache, quality_settings)
        print(json.dumps(report["quality"], indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
