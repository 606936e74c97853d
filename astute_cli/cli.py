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
from rich.markup import escape

from astute_cli.checks import refuse_same_files
from astute_cli.geometry import DEFAULT_HFOV_DEG

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Astute: Russian road-sign recognition in dashcam video, offline, with spoken alerts.")
console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one red error line and return the Exit to raise."""
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def say(text: str) -> None:
    """Print a line of plain text (paths and names as they are, never read as Rich markup) to stderr."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def in_range(option: str, low: float | None = None, high: float | None = None, *, low_open: bool = False,
             high_open: bool = False):
    """A parse-time check of a numeric option (a Typer callback): out of range (or NaN) gives one red line naming
    the option and exit 2, before anything runs."""
    text = " and ".join(part for part in (
        None if low is None else f"{'>' if low_open else '≥'} {low:g}",
        None if high is None else f"{'<' if high_open else '≤'} {high:g}") if part)

    def check(value: float | None) -> float | None:
        if value is None:
            return value
        ok = value == value  # NaN is never in range
        if low is not None:
            ok = ok and (value > low if low_open else value >= low)
        if high is not None:
            ok = ok and (value < high if high_open else value <= high)
        if not ok:
            raise fail(f"invalid value for {option}: {value:g} (must be {text})", 2)
        return value

    return check


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
    model: Annotated[Path | None, typer.Option(help="ONNX model [default: the bundled model].")] = None,
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
                              None if no_voice else voice, not no_report, vehicle.value)
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
            detector, tracker, announcer = batch.build_stages(settings, info.fps)
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
                                               vehicle=vehicle.value)
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
                        f"{result.frames} frames at {result.fps:.1f} fps")
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


# --- synth ---


class SynthKind(str, Enum):
    detector = "detector"
    classifier = "classifier"
    test = "test"


@app.command("synth")
def synth_command(
    kind: Annotated[SynthKind, typer.Argument(help="detector: YOLO set of native-resolution crops; "
                                                   "classifier: sign crops by class; test: a COCO test set of "
                                                   "whole frames under one condition (never train on it).")],
    out: Annotated[Path, typer.Argument(help="Output folder.")],
    n: Annotated[int, typer.Option(help="detector: number of images.",
                                   callback=in_range("--n", 1))] = 2000,
    per_class: Annotated[int, typer.Option(help="classifier: crops per class.",
                                           callback=in_range("--per-class", 0))] = 100,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 0,
    imgsz: Annotated[int, typer.Option(help="detector: crop size in px (native resolution).",
                                       callback=in_range("--imgsz", 32))] = 320,
    size: Annotated[int, typer.Option(help="classifier: crop size in px.",
                                      callback=in_range("--size", 8))] = 48,
    classes: Annotated[str, typer.Option(help="detector: 'one' (class 'sign') or 'full' (RTSD labels).")] = "one",
    full_frames: Annotated[bool, typer.Option("--full-frames", help="detector: whole frames, not crops.")] = False,
    big_signs: Annotated[float, typer.Option(min=0.0, max=1.0, help="detector: fraction of poles with near, "
                                                                    "40–140 px signs (rare in RTSD).")] = 0.0,
    coco: Annotated[bool, typer.Option("--coco", help="detector: also write a COCO annotations.json.")] = False,
    workers: Annotated[int, typer.Option(help="Processes.",
                                         callback=in_range("--workers", 1))] = 1,
    mine_with: Annotated[Path | None, typer.Option(help="classifier: also add the crops this ONNX sign detector "
                                                        "cuts from synthetic frames (its false alarms as "
                                                        "background).")] = None,
    mine_frames: Annotated[int, typer.Option(help="classifier: synthetic frames to mine with --mine-with.",
                                             callback=in_range("--mine-frames", 1))] = 1000,
    mine_conf: Annotated[float, typer.Option(help="classifier: detector score from which boxes are mined.",
                                             callback=in_range("--mine-conf", 0, 1, low_open=True))] = 0.1,
    urban: Annotated[bool, typer.Option("--urban", help="Add city clutter that is not a sign (shop signs, plates, "
                                                        "traffic lights, tail lights, logos, barriers, windows) "
                                                        "to the frames (detector sets and mining).")] = False,
    conditions: Annotated[str, typer.Option(help="detector: each frame under one of these, drawn evenly "
                                                 "(clear,dusk,night,winter,rain,fog,glare); test: one of them.")]
    = "",
    layouts: Annotated[str, typer.Option(help="detector: each frame with one of these sign layouts, drawn evenly "
                                              "(poles,touching,big); test: one of them.")] = "",
    frame_size: Annotated[str, typer.Option(help="test: frame size WxH, e.g. 3840x2160 or 2448x2048.")] = "1280x720",
    extra_classes: Annotated[str, typer.Option(help="classifier: comma-separated classes beyond RTSD's to add "
                                                    "(e.g. 5_23_1,5_24_1).")] = "",
    only_classes: Annotated[str, typer.Option(help="classifier: make crops of these comma-separated classes "
                                                   "only (of the default list plus --extra-classes).")] = "",
) -> None:
    """Make a synthetic training set from the pictograms, the GOST font and real road footage."""
    from astute_cli.synth.conditions import parse_conditions
    from astute_cli.synth.dataset import ClassifierSpec, DetectorSpec, make_classifier_set, make_detector_set
    from astute_cli.synth.streets import parse_layouts

    if kind is SynthKind.classifier and per_class <= 0 and mine_with is None:
        raise fail("--per-class 0 makes no crops: give --per-class N, or --mine-with DETECTOR.onnx")
    try:
        if kind is SynthKind.test:
            manifest = _synth_test(out, n, seed, conditions, layouts, frame_size, urban)
        elif kind is SynthKind.detector:
            spec = DetectorSpec(n=n, seed=seed, imgsz=imgsz, classes=classes, full_frames=full_frames,
                                big_signs=big_signs, urban=urban, conditions=parse_conditions(conditions),
                                layouts=parse_layouts(layouts))
            manifest = make_detector_set(out, spec, workers=workers, coco=coco)
        elif per_class > 0:
            from astute_cli.synth.dataset import classifier_labels

            labels = classifier_labels(_comma_list(extra_classes))
            if only := _comma_list(only_classes):
                if unknown := [label for label in only if label not in labels]:
                    raise ValueError(f"--only-classes: {unknown[0]!r} is not a class (add it with --extra-classes)")
                labels = only
            spec = ClassifierSpec(per_class=per_class, seed=seed, size=size, labels=tuple(labels))
            manifest = make_classifier_set(out, spec, workers)
        if kind is SynthKind.classifier and mine_with is not None:
            from astute_cli.synth.mining import MiningSpec, mine_classifier_crops

            mined = mine_classifier_crops(out, MiningSpec(frames=mine_frames, detector=str(mine_with), seed=seed,
                                                          size=size, conf=mine_conf, urban=urban), workers)
            say(f"mined {mined['background']} background and {mined['signs']} sign crops from "
                f"{mined['frames']} frames in {mined['seconds']} s → {out}")
    except (ValueError, OSError) as error:
        raise fail(str(error)) from None
    if kind is not SynthKind.classifier or per_class > 0:
        say(f"{manifest['images']} images, {manifest['objects']} signs in {manifest['seconds']} s → {out}")


def _synth_test(out: Path, n: int, seed: int, conditions: str, layouts: str, frame_size: str, urban: bool) -> dict:
    """A COCO test set of whole frames: one condition and one layout (the seed should be far from training's)."""
    from astute_cli.synth.condition_sets import ConditionSet, make_condition_set
    from astute_cli.synth.conditions import parse_conditions
    from astute_cli.synth.streets import parse_frame_size, parse_layouts

    condition, layout = parse_conditions(conditions) or ("clear",), parse_layouts(layouts) or ("poles",)
    if len(condition) > 1 or len(layout) > 1:
        raise ValueError("a test set has one condition and one layout: give one name to --conditions and --layouts")
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{str(out)!r} is not empty: give a new folder")
    spec = ConditionSet(n=n, seed=seed, condition=condition[0], layout=layout[0],
                        frame_wh=parse_frame_size(frame_size), urban=urban)
    return make_condition_set(out, spec)


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@app.command("combine")
def combine_command(
    out: Annotated[Path, typer.Argument(help="New folder for the combined classifier set.")],
    parts: Annotated[list[Path], typer.Argument(help="Classifier sets (train/ and val/ class folders).")],
    max_per_class: Annotated[int | None, typer.Option(min=1, help="At most this many crops of each part's class "
                                                                  "folder (evenly spaced).")] = None,
) -> None:
    """Combine classifier sets into one by symbolic links (no copies), e.g. a generated set and a mined one."""
    from astute_cli.synth.dataset import link_classifier_sets

    try:
        manifest = link_classifier_sets(out, parts, max_per_class)
    except (ValueError, OSError) as error:
        raise fail(str(error)) from None
    say(f"{manifest['counts'].get('train', 0)} train and {manifest['counts'].get('val', 0)} val crops "
        f"→ {out}")


# --- train ---


class Task(str, Enum):
    detect = "detect"
    classify = "classify"


@app.command("train")
def train_command(
    data: Annotated[Path, typer.Argument(help="YOLO data.yaml, a classification folder, or a data set astute reads.")],
    model: Annotated[str, typer.Option(help="Model yaml (no pretrained weights offline) or a .pt to go on from.")]
    = "yolov8n.yaml",
    task: Annotated[Task, typer.Option(help="detect (sign boxes) or classify (sign crops).")] = Task.detect,
    imgsz: Annotated[int, typer.Option(help="Training image size, pixels.",
                                       callback=in_range("--imgsz", 32))] = 320,
    epochs: Annotated[int, typer.Option(help="Passes over the data (ignored with --time-budget-h).",
                                        callback=in_range("--epochs", 1))] = 50,
    batch: Annotated[int, typer.Option(help="Images per step.",
                                       callback=in_range("--batch", 1))] = 16,
    device: Annotated[str, typer.Option(help="cpu, or a CUDA index such as 0.")] = "cpu",
    workers: Annotated[int, typer.Option(help="Data-loader processes.",
                                         callback=in_range("--workers", 0))] = 2,
    time_budget_h: Annotated[float | None, typer.Option(help="Stop after this many hours.",
                                                        callback=in_range("--time-budget-h", 0, low_open=True))] = None,
    name: Annotated[str | None, typer.Option(help="Run name (runs/NAME, benchmarks/experiments/NAME).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Go on from runs/NAME/weights/last.pt.")] = False,
    export: Annotated[bool, typer.Option("--export", help="Export best.pt to ONNX beside it at the end.")] = False,
    settings: Annotated[list[str] | None, typer.Option("--set", help="Any other ultralytics train argument as "
                                                                     "KEY=VALUE (lr0=0.002, cache=ram); repeatable.")]
    = None,
) -> None:
    """Train a detector or a crop classifier (needs the train extra); logs the run under benchmarks/experiments."""
    from astute_cli import train
    from astute_cli.interrupts import exit_code, termination_as_interrupt

    try:
        with termination_as_interrupt():
            overrides = train.parse_overrides(settings or [])
            best = train.train(data, model=model, task=task.value, imgsz=imgsz, epochs=epochs, batch=batch,
                               device=device, name=name, resume=resume, workers=workers, time_budget_h=time_budget_h,
                               **overrides)
            say(f"best weights: {best}")
            if export:
                from astute_cli.export import export_onnx

                onnx_path = export_onnx(best, best.with_suffix(".onnx"), imgsz=640 if task == Task.detect else imgsz)
                say(f"ONNX: {onnx_path}")
    except KeyboardInterrupt as interrupt:
        raise fail("interrupted; resume with --resume --name NAME", exit_code(interrupt)) from None
    except (ValueError, RuntimeError, OSError) as error:
        raise fail(str(error)) from None

@app.command("train-reader")
def train_reader_command(
    out: Annotated[Path, typer.Option("-o", "--out", help="Run folder: log, checkpoint, reader.onnx.")]
    = Path("runs/reader"),
    minutes: Annotated[float, typer.Option(help="Training time budget, minutes.",
                                         callback=in_range("--minutes", 0, low_open=True))] = 35.0,
    batch: Annotated[int, typer.Option(help="Crops per step.", callback=in_range("--batch", 1))] = 64,
    seed: Annotated[int, typer.Option(help="Seeds the drawn crops and the weights.")] = 0,
    threads: Annotated[int, typer.Option(help="torch threads (one more core draws the crops).",
                                         callback=in_range("--threads", 1))] = 1,
    lr: Annotated[float, typer.Option(help="Peak learning rate.", callback=in_range("--lr", 0, low_open=True))] = 3e-3,
    init: Annotated[Path | None, typer.Option(help="reader.pt of an earlier run to go on from.")] = None,
) -> None:
    """Train the value reader on synthetic valued sign faces (needs the train extra); writes OUT/reader.onnx."""
    from astute_cli.train_reader import ReaderSpec, train_reader

    try:
        path = train_reader(ReaderSpec(out=out, minutes=minutes, batch=batch, seed=seed, threads=threads, lr=lr,
                                       init=init))
        say(f"reader: {path}")
    except (ValueError, RuntimeError, OSError) as error:
        raise fail(str(error)) from None


# --- export ---


@app.command("export")
def export_command(
    model: Annotated[Path | None, typer.Argument(help=".pt weights or an .onnx model (default: the bundled detector).")]
    = None,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Output .onnx (default: beside MODEL).")] = None,
    imgsz: Annotated[str, typer.Option(help="Input size of the exported model, pixels: N or WxH (e.g. 672x576: "
                                            "two overlapping native tiles of a 720p frame's sign band).")] = "640",
    int8: Annotated[bool, typer.Option("--int8", help="Quantize to INT8 (static) and check its recall and "
                                                      "precision against FP32's on labelled synthetic frames.")]
    = False,
    calib: Annotated[Path | None, typer.Option(help="Folder of calibration images (default: synthetic frames).")]
    = None,
    opset: Annotated[int, typer.Option(help="ONNX opset.",
                                       callback=in_range("--opset", 7))] = 17,
    tolerance: Annotated[float, typer.Option(help="Largest recall an INT8 model may lose vs FP32 on labelled "
                                                  "synthetic frames (0.01 = 1 point).",
                                             callback=in_range("--tolerance", 0, 1))] = 0.01,
    force: Annotated[bool, typer.Option("--force", help="Keep an INT8 model that loses more than --tolerance.")]
    = False,
    classifier: Annotated[str | None, typer.Option(help="Crop classifier file name to record (astute_classifier).")]
    = None,
    tile: Annotated[str | None, typer.Option(help="Native tile size to record (astute_tile): N or WxH, the "
                                                  "model's input.")] = None,
    roi: Annotated[str | None, typer.Option(help="Sign region 'x1,y1,x2,y2' as frame fractions (astute_roi).")]
    = None,
    zoom: Annotated[str | None, typer.Option(help="Far-band pass to record (astute_zoom): an upscale factor "
                                                  "('1.5': the default far band) or 'x1,y1,x2,y2,factor'; '0': "
                                                  "none.")] = None,
    contexts: Annotated[str | None, typer.Option(help="Crop margins the classifier's probabilities are averaged "
                                                      "over, to record (astute_contexts), e.g. '0.05,0.1,0.2'.")]
    = None,
) -> None:
    """Export weights to ONNX, stamp Astute metadata, optionally quantize to INT8 and check it against FP32."""
    from astute_cli import export
    from astute_cli.interrupts import exit_code, termination_as_interrupt
    from astute_cli.paths import MODELS_DIR

    try:
        with termination_as_interrupt():
            metadata = export.astute_metadata(classifier=classifier, tile=tile, roi=roi, zoom=zoom,
                                              contexts=contexts)
            written, check = export.export_and_check(model or MODELS_DIR / "detector.onnx", out, imgsz=imgsz,
                                                     int8=int8, calib_dir=calib, opset=opset,
                                                     tolerance=tolerance, force=force, metadata=metadata,
                                                     classifier_from=classifier)
    except KeyboardInterrupt as interrupt:
        raise fail("interrupted; no output was left behind", exit_code(interrupt)) from None
    except (ValueError, RuntimeError, OSError) as error:
        raise fail(str(error)) from None
    if check is not None:
        Console().print(check.table())
    say(f"wrote {written} ({written.stat().st_size / 2**20:.2f} MB)")
    _say_classifier(model or MODELS_DIR / "detector.onnx", written, classifier)


def _say_classifier(model: Path, written: Path, classifier: str | None) -> None:
    """Say which crop classifier the exported model uses, and whether it was copied beside it."""
    from astute_cli import export
    from astute_cli.checks import same_file

    name = export.read_metadata(written).get("astute_classifier")
    if not name:
        return
    source = export.classifier_source(model, name, classifier)
    if same_file(source, written.parent / name):
        say(f"classifier: {written.parent / name} (beside it)")
    else:
        say(f"copied the classifier {source} beside it: {written.parent / name}")

# --- benchmark ---


@app.command("benchmark")
def benchmark_command(
    models: Annotated[list[Path] | None, typer.Argument(help="ONNX model(s) (default: the bundled model).")] = None,
    data: Annotated[list[Path] | None, typer.Option(help="COCO json (images/ beside it), clip labels "
                                                         "(JSON or CVAT XML) or a folder; repeatable.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the results as JSON here.")] = None,
    threads: Annotated[int | None, typer.Option(help="onnxruntime intra-op CPU threads (default: all).",
                                                callback=in_range("--threads", 1))] = None,
    eval_fps: Annotated[float | None, typer.Option(help="Run clips at about this many frames per second "
                                                        "(every k-th frame, a slower CPU) (default: all).",
                                                   callback=in_range("--eval-fps", 0, low_open=True))] = None,
    chart: Annotated[Path | None, typer.Option(help="Draw recall and lead time by sign size to this PNG.")] = None,
    cache: Annotated[Path | None, typer.Option(help="Keep/replay the detector's output per clip in this folder "
                                                    "(re-score tracker and announcer without the model).")] = None,
) -> None:
    """Benchmark models: frame recall/precision/mAP, per-sign alert recall and lead time on clips, CPU FPS."""
    import sys

    import astute_cli.eval

    if not data:
        raise fail("give at least one --data PATH (a COCO json, clip labels or a folder)")
    for option, path in (("--json", json_out), ("--chart", chart)):
        if path is not None and path.is_dir():  # found now, not after the whole benchmark
            raise fail(f"{option} {str(path)!r} is a folder: give a file name")
    try:
        refuse_same_files({f"--data file {str(p)!r}": p for p in data if p.is_file()}
                          | {f"model {str(m)!r}": m for m in models or []},
                          {f"--{k}": v for k, v in (("json", json_out), ("chart", chart)) if v is not None})
    except ValueError as error:
        raise fail(str(error)) from None
    results = []
    try:
        for model in models or [None]:
            if model is not None and not model.is_file():
                raise ValueError(f"No such model: {str(model)!r}")
            result = astute_cli.eval.evaluate(model, list(data), threads=threads, eval_fps=eval_fps, cache_dir=cache)
            result.command = "astute " + " ".join(sys.argv[1:])
            results.append(result)
    except (ValueError, RuntimeError, OSError, ImportError) as error:
        raise fail(str(error)) from None
    Console().print(astute_cli.eval.results_table(results))
    if json_out is not None:
        say(f"json: {astute_cli.eval.save_results(results, json_out)}")
    if chart is not None and astute_cli.eval.save_chart(results, chart):
        say(f"chart: {chart}")


@app.command("make-clips")
def make_clips_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder for the clips and their .labels.json files.")],
    count: Annotated[int, typer.Option("--count", help="Random drives to render (0 with --standard).",
                                       callback=in_range("--count", 0))] = 0,
    standard: Annotated[bool, typer.Option("--standard", help="The committed set of annotations/.")] = False,
    demo: Annotated[bool, typer.Option("--demo", help="Also the bundled demo clip (demo.mp4).")] = False,
    seed: Annotated[int, typer.Option(help="First seed of the random drives.")] = 1000,
    limits: Annotated[bool, typer.Option("--limits", help="Also the speed-limit clips (town signs, limits, "
                                                          "ends, plates; labelled limit timeline).")] = False,
) -> None:
    """Render labelled drive clips (signs beside a real road, exact boxes) for the benchmark."""
    from astute_cli.synth import scenarios

    specs = (list(scenarios.STANDARD_CLIPS) if standard else []) + scenarios.random_specs(count, seed)
    if not specs and not demo and not limits:
        raise fail("nothing to render: give --count N, --standard, --demo or --limits")
    try:
        paths = scenarios.make_clips(out_dir, specs)
        if limits:
            from astute_cli.synth.limit_clips import make_limit_clips

            paths += make_limit_clips(out_dir)
        if demo:
            scenarios.make_demo(out_dir / "demo.mp4")
            paths.append(out_dir / "demo.labels.json")
    except (ValueError, RuntimeError, OSError) as error:
        raise fail(str(error)) from None
    say(f"{len(paths)} clips in {out_dir}")


@app.command("import-cvat")
def import_cvat_command(
    xml: Annotated[Path, typer.Argument(help="CVAT 'CVAT for video 1.1' annotations.xml.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Clip labels JSON to write.")],
    video: Annotated[str | None, typer.Option(help="Video file, relative to --out (default: the task's).")] = None,
    fps: Annotated[float | None, typer.Option(help="Frame rate (default: read from the video, else 25).",
                                              callback=in_range("--fps", 0, 1000, low_open=True))] = None,
) -> None:
    """Convert a CVAT video export into Astute clip labels (JSON)."""
    from astute_cli.labels.clips import from_cvat_video

    if out.is_dir():
        raise fail(f"-o {str(out)!r} is a folder: give a file name")
    try:
        refuse_same_files({"CVAT file": xml}, {"-o": out})
        labels = from_cvat_video(xml, fps=fps, video=video)
        labels.save(out)
    except (ValueError, OSError) as error:
        raise fail(str(error)) from None
    say(f"{len(labels.signs)} signs, {labels.n_frames} frames -> {out}")


# --- fetch ---


@app.command("fetch")
def fetch_command(
    urls: Annotated[list[str] | None, typer.Argument(help="Channel, playlist, video or file URLs "
                                                         "[default: the pilot's dash-cam channel].")] = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for the videos.")] = Path("videos"),
    limit: Annotated[int | None, typer.Option(help="Only the N newest videos of a channel or playlist.",
                                              callback=in_range("--limit", 1))] = None,
    max_height: Annotated[int, typer.Option(help="Best quality up to this height (720, 1080, 2160).",
                                            callback=in_range("--max-height", 1))] = 1080,
    section: Annotated[str | None, typer.Option(help="Only this time range, START-END (1:00-2:30).")] = None,
    archive: Annotated[Path | None, typer.Option(help="Download archive [default: OUT/archive.txt].")] = None,
) -> None:
    """Download the pilot dash-cam videos (yt-dlp) with their metadata; re-runs skip what is there."""
    from astute_cli import fetch
    from astute_cli.interrupts import exit_code, termination_as_interrupt

    try:
        with termination_as_interrupt():
            options = fetch.FetchOptions(out_dir=out, limit=limit, max_height=max_height, archive=archive,
                                         section=fetch.parse_section(section) if section else None)
            results = fetch.fetch(urls or [], options)
    except KeyboardInterrupt as interrupt:
        raise fail("interrupted; partial downloads were removed", exit_code(interrupt)) from None
    except (ValueError, OSError) as error:
        raise fail(str(error)) from None
    for r in results:
        colour = {"fetched": "green", "skipped": "yellow"}.get(r.status, "red")
        detail = str(r.path) if r.path else r.reason
        Console().print(f"[{colour}]{r.status}[/] {escape(r.url)} {escape(detail)}", highlight=False, soft_wrap=True)
    if any(r.status == "failed" for r in results):
        raise typer.Exit(1)
