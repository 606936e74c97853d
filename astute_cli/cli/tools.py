"""The commands that make and measure models: synth, combine, train, train-reader, export, benchmark, make-clips,
import-cvat, and fetch."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from astute_cli.checks import refuse_same_files
from astute_cli.cli.common import app, fail, in_range, say

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
    mine_empty: Annotated[float, typer.Option(help="classifier: share of the mined frames with no sign pasted "
                                                   "(clutter only: every box is a background crop).",
                                              callback=in_range("--mine-empty", 0, 1))] = 0.2,
    urban: Annotated[bool, typer.Option("--urban", help="Add city clutter that is not a sign (shop signs, plates, "
                                                        "traffic lights, tail lights, logos, barriers, windows) "
                                                        "to the frames (detector sets and mining).")] = False,
    conditions: Annotated[str, typer.Option(help="detector and classifier mining (--mine-with): each frame under "
                                                 "one of these, drawn evenly (clear,dusk,night,winter,rain,fog,"
                                                 "glare); test: one of them.")]
    = "",
    layouts: Annotated[str, typer.Option(help="detector and classifier mining (--mine-with): each frame with one "
                                              "of these sign layouts, drawn evenly (poles,touching,big); test: one "
                                              "of them.")] = "",
    frame_size: Annotated[str, typer.Option(help="test: frame size WxH, e.g. 3840x2160 or 2448x2048.")] = "1280x720",
    extra_classes: Annotated[str, typer.Option(help="classifier: comma-separated classes beyond RTSD's to add "
                                                    "(e.g. 5_23_1,5_24_1).")] = "",
    only_classes: Annotated[str, typer.Option(help="classifier: make crops of these comma-separated classes "
                                                   "only (of the default list plus --extra-classes).")] = "",
    open_values: Annotated[float, typer.Option(min=0.0, max=1.0, help="classifier: share of a valued class's "
                                               "crops printing another value of its kind (any value, any layout), "
                                               "so the class teaches the kind.")] = 0.0,
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
            spec = ClassifierSpec(per_class=per_class, seed=seed, size=size, labels=tuple(labels),
                                  open_values=open_values)
            manifest = make_classifier_set(out, spec, workers)
        if kind is SynthKind.classifier and mine_with is not None:
            from astute_cli.synth.mining import MiningSpec, mine_classifier_crops

            mined = mine_classifier_crops(out, MiningSpec(frames=mine_frames, detector=str(mine_with), seed=seed,
                                                          size=size, conf=mine_conf, urban=urban,
                                                          empty_fraction=mine_empty,
                                                          conditions=parse_conditions(conditions),
                                                          layouts=parse_layouts(layouts)), workers)
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
    balance: Annotated[float, typer.Option(help="Share of crops drawn by kind in proportion to the reader's misses "
                                           "on validation (0: kinds alike).", callback=in_range("--balance", 0, 1))]
    = 0.0,
) -> None:
    """Train the value reader on synthetic valued sign faces (needs the train extra); writes OUT/reader.onnx."""
    from astute_cli.train_reader import ReaderSpec, train_reader

    try:
        path = train_reader(ReaderSpec(out=out, minutes=minutes, batch=batch, seed=seed, threads=threads, lr=lr,
                                       init=init, balance=balance))
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
    expert: Annotated[str | None, typer.Option(help="Expert classifier to record (astute_expert): it takes the "
                                                    "frames unlike daylight and names plates; 'none' for none.")]
    = None,
    keeper: Annotated[str | None, typer.Option(help="Keeper classifier to record (astute_keeper): a second look at "
                                                    "the boxes the crop classifier drops; 'none' for none.")] = None,
    keeper_gate: Annotated[float | None, typer.Option(help="The keeper's probability of a sign from which it keeps a "
                                                           "box, to record (astute_keeper_gate).")] = None,
) -> None:
    """Export weights to ONNX, stamp Astute metadata, optionally quantize to INT8 and check it against FP32."""
    from astute_cli import export
    from astute_cli.interrupts import exit_code, termination_as_interrupt
    from astute_cli.paths import MODELS_DIR

    try:
        with termination_as_interrupt():
            metadata = export.astute_metadata(classifier=classifier, tile=tile, roi=roi, zoom=zoom,
                                              contexts=contexts, expert=expert, keeper=keeper,
                                              keeper_gate=keeper_gate)
            written, check = export.export_and_check(model or MODELS_DIR / "detector.onnx", out, imgsz=imgsz,
                                                     int8=int8, calib_dir=calib, opset=opset,
                                                     tolerance=tolerance, force=force, metadata=metadata,
                                                     classifier_from=classifier, expert_from=expert,
                                                     keeper_from=keeper)
    except KeyboardInterrupt as interrupt:
        raise fail("interrupted; no output was left behind", exit_code(interrupt)) from None
    except (ValueError, RuntimeError, OSError) as error:
        raise fail(str(error)) from None
    if check is not None:
        Console().print(check.table())
    say(f"wrote {written} ({written.stat().st_size / 2**20:.2f} MB)")
    for key, given in (("astute_classifier", classifier), ("astute_expert", expert), ("astute_keeper", keeper)):
        _say_companion(model or MODELS_DIR / "detector.onnx", written, key, given)


def _say_companion(model: Path, written: Path, key: str, given: str | None) -> None:
    """Say which crop classifier (or expert, or keeper) the exported model uses, and whether it was copied beside it."""
    from astute_cli import export
    from astute_cli.checks import same_file

    name = export.read_metadata(written).get(key)
    if not name:
        return
    what = export.COMPANIONS[key]
    source = export.classifier_source(model, name, given)
    if same_file(source, written.parent / name):
        say(f"{what}: {written.parent / name} (beside it)")
    else:
        say(f"copied the {what} {source} beside it: {written.parent / name}")

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
    limit_drives: Annotated[int, typer.Option("--limit-drives", help="Random drives through a town or along a "
                                              "motorway, labelled with the limit in force (seeds from --seed).",
                                              callback=in_range("--limit-drives", 0))] = 0,
    conditions: Annotated[str | None, typer.Option(help="The random drives (--count) under these conditions in turn "
                                                        "(clear,dusk,night,winter,rain,fog,glare).")] = None,
) -> None:
    """Render labelled drive clips (signs beside a real road, exact boxes) for the benchmark."""
    from astute_cli.synth import scenarios
    from astute_cli.synth.conditions import parse_conditions

    try:
        weather = parse_conditions(conditions)
    except ValueError as error:
        raise fail(str(error)) from None
    specs = (list(scenarios.STANDARD_CLIPS) if standard else []) + scenarios.random_specs(count, seed, weather)
    if not specs and not demo and not limits and not limit_drives:
        raise fail("nothing to render: give --count N, --standard, --demo, --limits or --limit-drives N")
    try:
        paths = scenarios.make_clips(out_dir, specs)
        if limits or limit_drives:
            from astute_cli.synth.limit_clips import LIMIT_CLIPS, make_limit_clips, random_limit_clip

            drives = tuple(random_limit_clip(seed + i) for i in range(limit_drives))
            paths += make_limit_clips(out_dir, (LIMIT_CLIPS if limits else ()) + drives)
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
