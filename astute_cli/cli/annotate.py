"""`astute annotate`: one video, a camera, or many videos at once (what runs in the car, driven from the shell)."""

from __future__ import annotations

import time
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from astute_cli.cli.common import app, console, fail, in_range
from astute_cli.geometry import DEFAULT_HFOV_DEG
from astute_cli.schedule import DEFAULT_SCAN_FPS

# --- annotate ---


class Lang(str, Enum):
    ru = "ru"
    en = "en"


class Vehicle(str, Enum):
    car = "car"
    truck = "truck"
    bus = "bus"


@app.command("annotate")
def annotate_command(
    videos: Annotated[list[str], typer.Argument(help="Video files or folders of videos; with --live one file, a "
                                                     "camera index or a stream URL.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output MP4 [default: <input>.astute.mp4]; with "
                                                                 "several videos, a folder.")] = None,
    events: Annotated[Path | None, typer.Option(help="Events JSON [default: <out>.events.json].")] = None,
    model: Annotated[Path | None, typer.Option(help="ONNX model [default: the bundled model, INT8].")] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the alerts and labels.")] = Lang.ru,
    no_voice: Annotated[bool, typer.Option("--no-voice", help="No spoken alerts.")] = False,
    voice: Annotated[str, typer.Option(help="Speech engine: espeak (offline) or gtts (needs internet).")] = "espeak",
    live: Annotated[bool, typer.Option("--live", help="Show the video in a window and speak aloud.")] = False,
    hfov: Annotated[float, typer.Option(help="Camera horizontal field of view, degrees.",
                                        callback=in_range("--hfov", 0, 180, low_open=True, high_open=True))]
    = DEFAULT_HFOV_DEG,
    conf: Annotated[float | None, typer.Option(help="Detector confidence threshold [default: the model's].",
                                               callback=in_range("--conf", 0, 1, low_open=True))] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads for inference [default: all; with --workers, "
                                                     "shared between them].",
                                                callback=in_range("--threads", 1))] = None,
    report: Annotated[Path | None, typer.Option(help="HTML drive report [default: <out>.html].")] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="No HTML drive report.")] = False,
    workers: Annotated[int, typer.Option(min=1, help="Videos annotated at once, in separate processes.")] = 1,
    dask: Annotated[str | None, typer.Option(help="Run the videos on Dask: 'local' (a local cluster of --workers "
                                                  "processes) or a scheduler address tcp://HOST:8786 whose workers "
                                                  "see the same files (dask extra).")] = None,
    vehicle: Annotated[Vehicle, typer.Option(help="Your vehicle, for the speed limit in force (truck: over "
                                                  "3.5 t).")] = Vehicle.car,
    scan_fps: Annotated[float, typer.Option(help="Frames a second the detector sees; the frames between get the "
                                                 "boxes moved between scans (0: every frame, slower).",
                                            callback=in_range("--scan-fps", 0))] = DEFAULT_SCAN_FPS,
    verbose: Annotated[bool, typer.Option("--verbose", help="Also show the video decoder's own messages.")] = False,
) -> None:
    """Annotate dashcam videos: boxes and labels on every sign, a spoken alert per sign, an events file and an HTML
    report; several files or a folder are done one after another (or in parallel), skipping those done before."""
    import os

    from astute_cli import batch, pipeline
    from astute_cli.interrupts import exit_code, termination_as_interrupt
    from astute_cli.report import check_writable

    if not verbose:  # libav's messages (read before the first video is opened); astute says what matters
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    settings = batch.Settings(None if model is None else str(model), conf, threads, lang.value, hfov,
                              None if no_voice else voice, not no_report, vehicle.value, scan_fps or None)
    if len(videos) > 1 or Path(videos[0]).is_dir() or dask is not None:
        if live or events is not None or report is not None:
            raise fail("--live, --events and --report take one video; with several, give -o FOLDER")
        raise typer.Exit(_annotate_many(videos, out, settings, workers, dask))
    video = videos[0]
    try:
        with termination_as_interrupt():
            if live and not pipeline.has_display():
                raise ValueError("No display: --live needs a window (set DISPLAY), or annotate to a file instead")
            info = pipeline.probe(video)  # bad input fails before the model loads
            if not live:  # and so do outputs that cannot be made
                out, events = pipeline.output_paths(Path(video), out, events)
            if report is not None and not no_report:
                check_writable(report)
            speaker = None if no_voice else _make_speaker(voice)
            # live scans the newest frame, as often as the CPU allows: its tracker counts the source's frames
            stages = replace(settings, scan_fps=None) if live else settings
            detector, tracker, announcer, schedule = batch.build_stages(stages, info.fps)
            if live:
                result = pipeline.live(video, detector, tracker, announcer, speaker, lang.value, hfov,
                                       vehicle=vehicle.value)
            else:
                with _progress() as progress:
                    task = progress.add_task("annotate", total=None, fps="")
                    started = time.perf_counter()

                    def on_frame(done: int, total: int) -> None:
                        fps = done / max(time.perf_counter() - started, 1e-6)
                        progress.update(task, completed=done, total=total or None, fps=f"{fps:.1f} fps")

                    result = pipeline.annotate(video, detector, tracker, announcer, speaker, out=out, events=events,
                                               lang=lang.value, hfov_deg=hfov, on_frame=on_frame,
                                               report=False if no_report else report or True,
                                               vehicle=vehicle.value, schedule=schedule, info=info)
    except KeyboardInterrupt as interrupt:
        raise fail("interrupted; no output was left behind", exit_code(interrupt)) from None
    except (ValueError, RuntimeError, OSError) as error:
        raise fail(str(error)) from None
    for warning in result.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    _print_summary(result)


def _annotate_many(inputs: list[str], out: Path | None, settings, workers: int, dask: str | None) -> int:
    """Annotate several videos with one overall progress bar; a bad one is a red line and the exit code is 1."""
    from astute_cli import batch
    from astute_cli.interrupts import exit_code, termination_as_interrupt
    from astute_cli.report import check_writable

    try:
        if out is not None and (out.is_file() or (not out.exists() and out.suffix.lower() == ".mp4")):
            raise ValueError(f"-o must be a folder when several videos are annotated: {str(out)!r}")
        missing = [p for p in inputs if not Path(p).exists()]
        if missing:
            raise ValueError(f"No such file or folder: {missing[0]!r}")
        videos = batch.find_videos(inputs)
        if not videos:
            raise ValueError(f"No video files in {', '.join(inputs)}")
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        jobs = batch.plan_jobs(videos, out, settings.report)
        index = batch.index_path(inputs, videos, out)
        check_writable(index)
    except (ValueError, OSError) as error:
        raise fail(str(error)) from None
    todo = [job for job in jobs if not job.done()]
    results = {job: batch.skipped_result(job) for job in jobs if job.done()}
    for result in results.values():
        console.print(f"[yellow]skipped[/] {escape(str(result.job.video))} (done before)", highlight=False)
    try:
        with termination_as_interrupt():
            done = _run_with_progress(todo, settings, workers, dask) if todo else []
            results.update({r.job: r for r in done})
            batch.write_batch_index([results[job] for job in jobs], index, settings.lang)
    except KeyboardInterrupt as interrupt:
        raise fail("interrupted; videos finished so far are kept, the others left no output",
                   exit_code(interrupt)) from None
    except (ValueError, RuntimeError, OSError) as error:
        raise fail(str(error)) from None
    failed = sum(r.status == "failed" for r in results.values())
    Console().print(f"{len(jobs) - failed} of {len(jobs)} videos annotated ({len(jobs) - len(todo)} done before); "
                    f"index: {escape(str(index))}", highlight=False)
    return 1 if failed else 0


def _run_with_progress(todo: list, settings, workers: int, dask: str | None) -> list:
    """Run the batch's jobs under one progress bar (videos done plus the fractions of those under way)."""
    from astute_cli import batch

    with _progress() as progress:
        task = progress.add_task(f"{len(todo)} videos", total=len(todo), fps="")
        finished, partial = [0], {}

        def on_frame(i: int, done: int, total: int) -> None:
            partial[i] = done / total if total else 0.0
            progress.update(task, completed=finished[0] + sum(partial.values()))

        def on_result(result) -> None:
            finished[0] += 1
            partial.pop(todo.index(result.job), None)
            progress.update(task, completed=finished[0] + sum(partial.values()))
            name = escape(str(result.job.video))
            if result.status == "failed":
                progress.console.print(f"[bold red]error:[/] {name}: {escape(result.message)}", highlight=False,
                                       soft_wrap=True)
            else:
                progress.console.print(f"[green]done[/] {name}: {result.alerts} alert(s), {result.frames} frames in "
                                       f"{result.seconds:.1f} s", highlight=False)

        return batch.run_jobs(todo, settings, workers=workers, dask=dask, on_result=on_result, on_frame=on_frame)


def _make_speaker(engine: str):
    from astute_cli.speech import make_speaker

    return make_speaker(engine)


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[fps]}"), TimeRemainingColumn(), console=console, transient=False)


def _print_summary(result) -> None:
    from rich.table import Table

    table = Table(title=f"{escape(result.video.name)}: {len(result.announcements)} alerts, "
                        f"{result.frames} frames at {result.fps:.1f} fps ({result.realtime_factor:.2f}× real time)")
    for column in ("t, s", "sign", "value", "alert"):
        table.add_column(column)
    for a in result.announcements:
        table.add_row(f"{a.t:.1f}", escape(a.sign), "" if a.value is None else f"{a.value:g}", escape(a.text))
    Console().print(table)
    if result.out is not None:
        Console().print(f"video: {escape(str(result.out))}\nevents: {escape(str(result.events))}", highlight=False,
                        soft_wrap=True)
    if result.report is not None:
        Console().print(f"report: {escape(str(result.report))}", highlight=False, soft_wrap=True)
    if hasattr(result, "summary"):  # a live run
        Console().print(escape(result.summary()), highlight=False, soft_wrap=True)
