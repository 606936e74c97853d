"""Many videos at once: find them, skip those already done, annotate the rest one by one, in parallel processes
or on a Dask cluster, go on past a bad file, and write an index page linking each drive's report.

Each worker process loads the model once and keeps it for every video it is given.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from astute_cli.geometry import DEFAULT_HFOV_DEG
from astute_cli.report import IndexRow, default_report_path, write_index
from astute_cli.schedule import DEFAULT_FULL_EVERY, DEFAULT_SCAN_FPS, Schedule
from astute_cli.source import SUPPORTED_SUFFIXES

OUTPUT_TAG = ".astute"  # outputs are <stem>.astute.mp4: never taken for inputs when a folder is read


@dataclass(frozen=True)
class Settings:
    """How every video of a batch is annotated (the `annotate` options).

    Attributes:
        model: the ONNX model, or None for the bundled one (its INT8 twin: :func:`default_model`).
        conf: detector confidence threshold, or None for the model's.
        threads: inference threads per video, or None (``ASTUTE_THREADS``, else all cores).
        lang: ``ru`` or ``en``.
        hfov_deg: the camera's horizontal field of view.
        voice: speech engine (``espeak``, ``gtts``), or None for no spoken alerts.
        report: write each drive's HTML report.
        vehicle: ``car``, ``truck`` or ``bus``, for the speed limit in force.
        scan_fps: frames a second the detector sees (``schedule.Schedule``); None: every frame, each whole.
        full_every: one scan in this many searches the whole frame, the others the far band only.
    """

    model: str | None = None
    conf: float | None = None
    threads: int | None = None
    lang: str = "ru"
    hfov_deg: float = DEFAULT_HFOV_DEG
    voice: str | None = "espeak"
    report: bool = True
    vehicle: str = "car"
    scan_fps: float | None = DEFAULT_SCAN_FPS
    full_every: int = DEFAULT_FULL_EVERY


@dataclass(frozen=True)
class Job:
    """One video and the files it makes."""

    video: Path
    out: Path
    events: Path
    report: Path | None

    def done(self) -> bool:
        """True when its MP4 and events file exist and are newer than the video (annotated before)."""
        try:
            made = min(self.out.stat().st_mtime, self.events.stat().st_mtime)
            return made >= self.video.stat().st_mtime
        except OSError:
            return False


@dataclass(frozen=True)
class JobResult:
    """What became of one video: ``done``, ``skipped`` (done before) or ``failed`` (with the reason)."""

    job: Job
    status: str
    message: str = ""
    alerts: int | None = None
    frames: int = 0
    length_s: float | None = None
    seconds: float = 0.0

    def index_row(self) -> IndexRow:
        report = self.job.report if self.job.report is not None and self.job.report.exists() else None
        video = self.job.out if self.status != "failed" else None
        return IndexRow(self.job.video.name, self.status, report, video, self.alerts, self.length_s, self.message)


def find_videos(inputs: Sequence[str | Path]) -> list[Path]:
    """The videos to annotate: files as given (checked later, one by one) and the video files of folders
    (by suffix, not recursing, without Astute's own outputs and hidden files)."""
    videos: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            videos += sorted(p for p in item.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                             and not p.stem.endswith(OUTPUT_TAG) and not p.name.startswith("."))
        else:
            videos.append(item)
    return list(dict.fromkeys(videos))


def plan_jobs(videos: Sequence[Path], out_dir: Path | None = None, report: bool = True) -> list[Job]:
    """The files each video makes: ``<stem>.astute.mp4`` (+ events, + report) in ``out_dir`` or beside the video.

    Raises:
        ValueError: when two videos would write the same files.
    """
    jobs, seen = [], {}
    for video in videos:
        folder = out_dir if out_dir is not None else video.parent
        out = folder / f"{video.stem}{OUTPUT_TAG}.mp4"
        if out in seen:
            raise ValueError(f"Two videos would write the same output {str(out)!r}: {str(seen[out])!r} and "
                             f"{str(video)!r}")
        seen[out] = video
        jobs.append(Job(video, out, out.with_name(f"{out.stem}.events.json"),
                        default_report_path(out) if report else None))
    return jobs


def index_path(inputs: Sequence[str | Path], videos: Sequence[Path], out_dir: Path | None) -> Path:
    """Where the index page goes: the output folder, else the one folder given, else the videos' common folder."""
    if out_dir is not None:
        return out_dir / "index.html"
    if len(inputs) == 1 and Path(inputs[0]).is_dir():
        return Path(inputs[0]) / "index.html"
    parents = [str(v.resolve().parent) for v in videos] or ["."]
    return Path(os.path.commonpath(parents)) / "index.html"


def skipped_result(job: Job) -> JobResult:
    """A video done before: its counts from its events file."""
    try:
        document = json.loads(job.events.read_text(encoding="utf-8"))
        fps = float(document.get("fps") or 0) or None
        length = float(document.get("frames") or 0) / fps if fps else None
        return JobResult(job, "skipped", alerts=len(document.get("events") or []), length_s=length)
    except (OSError, ValueError, TypeError, AttributeError):
        return JobResult(job, "skipped")


def annotate_job(job: Job, settings: Settings, on_frame: Callable[[int, int], None] | None = None) -> JobResult:
    """Annotate one video; a video that cannot be read (or written) gives a ``failed`` result, not an exception."""
    from astute_cli import pipeline

    started = time.perf_counter()
    try:
        info = pipeline.probe(job.video)
        detector, tracker, announcer, schedule = build_stages(settings, info.fps)
        speaker = None if settings.voice is None else _speaker(settings.voice)
        result = pipeline.annotate(job.video, detector, tracker, announcer, speaker, out=job.out, events=job.events,
                                   lang=settings.lang, hfov_deg=settings.hfov_deg, on_frame=on_frame,
                                   report=job.report if job.report is not None else False,
                                   vehicle=settings.vehicle, schedule=schedule, info=info)
    except (ValueError, RuntimeError, OSError) as error:
        return JobResult(job, "failed", str(error), seconds=time.perf_counter() - started)
    return JobResult(job, "done", alerts=len(result.announcements), frames=result.frames,
                     length_s=result.frames / result.info.fps, seconds=time.perf_counter() - started)


def run_jobs(jobs: Sequence[Job], settings: Settings, workers: int = 1, dask: str | None = None,
             on_result: Callable[[JobResult], None] | None = None,
             on_frame: Callable[[int, int, int], None] | None = None) -> list[JobResult]:
    """Annotate the jobs, each video once, and return their results in the jobs' order.

    Args:
        jobs: what to annotate (leave out those already done).
        settings: the annotate options.
        workers: parallel processes (each loads its own model); with ``dask="local"``, the local cluster's workers.
        dask: None to run here; ``local`` for a Dask LocalCluster of ``workers`` processes; or the address of a
            Dask scheduler (``tcp://host:8786``) whose workers see the same files (needs the ``dask`` extra).
        on_result: called with each result as it comes.
        on_frame: called with (job index, frames done, frames in total or 0) as frames are done (in parallel
            processes about every second; not on Dask).
    """
    if dask is None and workers > 1 and len(jobs) > 1:
        results = _run_processes(jobs, _per_worker_threads(settings, workers), workers, on_result, on_frame)
    elif dask is not None:
        threads = _per_worker_threads(settings, workers) if dask == "local" else settings
        results = _run_dask(jobs, threads, dask, workers, on_result)
    else:
        results = {}
        for i, job in enumerate(jobs):
            progress = None if on_frame is None else (lambda done, total, i=i: on_frame(i, done, total))
            results[i] = annotate_job(job, settings, progress)
            if on_result is not None:
                on_result(results[i])
    return [results[i] for i in range(len(jobs))]


def write_batch_index(results: Sequence[JobResult], path: Path, lang: str = "ru") -> Path:
    """The index page of a batch: every video with its report and video links, or why it failed."""
    return write_index([r.index_row() for r in results], path, lang)


def build_stages(settings: Settings, fps: float):
    """(detector, tracker, announcer, schedule) for a video at ``fps``; the model is loaded once per process and
    kept. The tracker is made for the schedule's scan rate, the announcer for the video's frame times."""
    from astute_cli.announcer import Announcer
    from astute_cli.tracker import Tracker

    detector = _detector(settings.model or default_model(), settings.conf, settings.threads)
    schedule = Schedule.at_rate(fps, settings.scan_fps, settings.full_every)
    if not hasattr(detector, "describe_kept"):  # a one-stage model cannot look again at a box it did not find
        schedule = replace(schedule, focus=False)
    return (detector, Tracker(fps=schedule.scan_fps(fps)),
            Announcer(detector.labels, fps=fps, lang=settings.lang, hfov_deg=settings.hfov_deg), schedule)


def default_model() -> str | None:
    """The model annotate runs when none is given: the bundled INT8 detector (1.9x faster, recall within one
    sign of FP32: benchmarks/README.md, "Real time"), else the bundled FP32 one."""
    from astute_cli.detector import FAST_MODEL

    return str(FAST_MODEL) if FAST_MODEL.is_file() else None


_DETECTORS: dict[tuple, object] = {}
_SPEAKERS: dict[str, object] = {}


def _detector(model: str | None, conf: float | None, threads: int | None):
    from astute_cli.detector import load_detector

    key = (model, conf, threads)
    if key not in _DETECTORS:
        kwargs = {k: v for k, v in {"conf": conf, "threads": threads}.items() if v is not None}
        _DETECTORS[key] = load_detector(model, **kwargs)
    return _DETECTORS[key]


def _speaker(engine: str):
    from astute_cli.speech import make_speaker

    if engine not in _SPEAKERS:
        _SPEAKERS[engine] = make_speaker(engine)
    return _SPEAKERS[engine]


def _per_worker_threads(settings: Settings, workers: int) -> Settings:
    """Share the cores between the workers unless the threads were given."""
    if settings.threads is not None:
        return settings
    return replace(settings, threads=max(1, (os.cpu_count() or 1) // max(workers, 1)))


def _init_worker(threads: int | None) -> None:
    if threads is not None:
        os.environ["ASTUTE_THREADS"] = str(threads)
        import cv2

        cv2.setNumThreads(threads)


def _annotate_and_tell(job: Job, settings: Settings, index: int, frames_done) -> JobResult:
    """annotate_job in a worker process; (index, done, total) goes on the queue ``frames_done`` about every second."""
    last = [0.0]

    def tell(done: int, total: int) -> None:
        if time.monotonic() - last[0] >= 1.0:
            last[0] = time.monotonic()
            frames_done.put((index, done, total))

    return annotate_job(job, settings, tell)


def _run_processes(jobs: Sequence[Job], settings: Settings, workers: int,
                   on_result: Callable[[JobResult], None] | None,
                   on_frame: Callable[[int, int, int], None] | None) -> dict[int, JobResult]:
    import multiprocessing
    import queue
    from concurrent.futures.process import BrokenProcessPool

    results: dict[int, JobResult] = {}
    context = multiprocessing.get_context("spawn")  # no fork of a process holding threads and ONNX sessions
    with context.Manager() as manager, ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context,
                                                           initializer=_init_worker,
                                                           initargs=(settings.threads,)) as pool:
        frames_done = manager.Queue()
        pending = {pool.submit(_annotate_and_tell, job, settings, i, frames_done): i for i, job in enumerate(jobs)}
        try:
            while pending:
                finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                while on_frame is not None:
                    try:
                        on_frame(*frames_done.get_nowait())
                    except queue.Empty:
                        break
                for future in finished:
                    i = pending.pop(future)
                    try:
                        results[i] = future.result()
                    except BrokenProcessPool as error:
                        results[i] = JobResult(jobs[i], "failed", f"worker process died: {error}")
                    if on_result is not None:
                        on_result(results[i])
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)  # the running ones stop on the same Ctrl-C, leaving no files
            raise
    return results


def _run_dask(jobs: Sequence[Job], settings: Settings, address: str, workers: int,
              on_result: Callable[[JobResult], None] | None) -> dict[int, JobResult]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ValueError("--dask needs the dask extra: pip install 'astute-cli[dask]'") from None
    results: dict[int, JobResult] = {}
    with ExitStack() as stack:
        if address == "local":
            cluster = stack.enter_context(LocalCluster(n_workers=max(workers, 1), threads_per_worker=1,
                                                       processes=True, dashboard_address=None))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(address, timeout="10s"))
            except OSError as error:
                raise ValueError(f"Cannot reach the Dask scheduler at {address!r}: {error}") from None
        futures = {client.submit(annotate_job, job, settings, pure=False): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except Exception as error:  # a worker lost or killed: this video failed, the others go on
                results[i] = JobResult(jobs[i], "failed", f"Dask worker failed: {error}")
            if on_result is not None:
                on_result(results[i])
    return results
