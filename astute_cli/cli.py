"""The `astute` command line: parse, build the stages, call the library, print with Rich.

Each command is a few lines over a library function; errors the user can fix are one red line
and a non-zero exit.
"""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from astute_cli.geometry import DEFAULT_HFOV_DEG

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Astute: Russian road-sign recognition in dashcam video, offline, with spoken alerts.")
console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one red error line and return the Exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


# --- annotate (issue 5) ---


class Lang(str, Enum):
    ru = "ru"
    en = "en"


@app.command()
def annotate(
    video: Annotated[str, typer.Argument(help="Video file; with --live also a camera index or a stream URL.")],
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output MP4 [default: <input>.astute.mp4].")] = None,
    events: Annotated[Path | None, typer.Option(help="Events JSON [default: <out>.events.json].")] = None,
    model: Annotated[Path | None, typer.Option(help="ONNX model [default: the bundled model].")] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the alerts and labels.")] = Lang.ru,
    no_voice: Annotated[bool, typer.Option("--no-voice", help="No spoken alerts.")] = False,
    voice: Annotated[str, typer.Option(help="Speech engine: espeak (offline) or gtts (needs internet).")] = "espeak",
    live: Annotated[bool, typer.Option("--live", help="Show the video in a window and speak aloud.")] = False,
    hfov: Annotated[float, typer.Option(help="Camera horizontal field of view, degrees.")] = DEFAULT_HFOV_DEG,
    conf: Annotated[float | None, typer.Option(help="Detector confidence threshold [default: the model's].")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads for inference [default: all].")] = None,
) -> None:
    """Annotate a dashcam video: boxes and labels on every sign, a spoken alert per sign, an events file."""
    from astute_cli import pipeline

    try:
        if live and not pipeline.has_display():
            raise ValueError("No display: --live needs a window (set DISPLAY), or annotate to a file instead")
        if not live:
            pipeline.probe(video)  # bad input fails before the model loads
        detector, tracker, announcer = _build_stages(model, conf, threads, lang.value, hfov)
        speaker = None if no_voice else _make_speaker(voice)
        if live:
            result = pipeline.live(video, detector, tracker, announcer, speaker, lang.value, hfov)
        else:
            with _progress() as progress:
                task = progress.add_task("annotate", total=None, fps="")
                started = time.perf_counter()

                def on_frame(done: int, total: int) -> None:
                    fps = done / max(time.perf_counter() - started, 1e-6)
                    progress.update(task, completed=done, total=total or None, fps=f"{fps:.1f} fps")

                result = pipeline.annotate(video, detector, tracker, announcer, speaker, out=out, events=events,
                                           lang=lang.value, hfov_deg=hfov, on_frame=on_frame)
    except KeyboardInterrupt:
        raise fail("interrupted; no output was left behind", 130) from None
    except (ValueError, RuntimeError, OSError) as error:
        raise fail(str(error)) from None
    _print_summary(result)


def _build_stages(model: Path | None, conf: float | None, threads: int | None, lang: str, hfov: float):
    from astute_cli.announcer import Announcer
    from astute_cli.detector import load_detector
    from astute_cli.tracker import Tracker

    kwargs = {k: v for k, v in {"conf": conf, "threads": threads}.items() if v is not None}
    detector = load_detector(model, **kwargs)
    return detector, Tracker(), Announcer(detector.labels, fps=25.0, lang=lang, hfov_deg=hfov)


def _make_speaker(engine: str):
    from astute_cli.speech import make_speaker

    return make_speaker(engine)


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[fps]}"), TimeRemainingColumn(), console=console, transient=False)


def _print_summary(result) -> None:
    from rich.table import Table

    table = Table(title=f"{result.video.name}: {len(result.announcements)} alerts, "
                        f"{result.frames} frames at {result.fps:.1f} fps")
    for column in ("t, s", "sign", "value", "alert"):
        table.add_column(column)
    for a in result.announcements:
        table.add_row(f"{a.t:.1f}", a.sign, "" if a.value is None else f"{a.value:g}", a.text)
    Console().print(table)
    if result.out is not None:
        Console().print(f"video: {result.out}\nevents: {result.events}", highlight=False)


# --- synth (issue 6) ---

# --- train (issue 6) ---

# --- export (issue 3) ---

# --- benchmark (issue 2) ---

# --- fetch (issue 4) ---
