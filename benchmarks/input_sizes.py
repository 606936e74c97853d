"""A detector's accuracy on the real frames and its CPU cost at the input sizes that matter: the whole 1280×720
frame letterboxed into a 640, 960 or 1280 px wide input (the classic way), and native-resolution 640 px tiles of
the sign band, with and without the far-band zoom pass (the bundled way).

    .venv/bin/python benchmarks/input_sizes.py benchmarks/experiments/det-v5/weights/best.pt \\
        --like astute_cli/models/detector.onnx --json benchmarks/results/input-sizes-two-stage.json
    .venv/bin/python benchmarks/input_sizes.py benchmarks/experiments/one-v1/weights/best.pt \\
        --like /tmp/one-v1/detector.onnx --json benchmarks/results/input-sizes-one-stage.json

Each variant is exported from the same ``.pt`` with ``astute export`` (the train extra is needed) and run as
`astute annotate` runs it, with the thresholds (and crop classifier, crop margins) of the ``--like`` model: those
were chosen on synthetic frames for the bundled variant and are kept for every input size, so only the input
changes. Accuracy: ``astute benchmark``'s frame metrics on the real frames (measurement only). Speed: the median
time of ``detect`` (classifier included) over the real frames, ``--threads`` threads, after a warm-up; run
``--speed-only`` on an idle machine (it keeps the accuracy already in ``--json``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import cv2

from astute_cli.detector import TwoStageDetector, load_detector
from astute_cli.eval.frames import evaluate_frames, image_path
from astute_cli.export import astute_metadata, export_onnx, read_metadata, write_metadata

ROOT = Path(__file__).resolve().parent.parent
RTSD = ROOT.parent / "shared" / "data" / "rtsd-sample" / "annotations.json"

VARIANTS: dict[str, dict[str, str | None]] = {
    # name: model input (W x H; a 1280x720 frame letterboxed keeps its 16:9, padded to a multiple of 32),
    # native tile (None: the whole frame) and far-band zoom ("0": none)
    "whole 640x384": {"imgsz": "640x384", "tile": None, "zoom": "0"},
    "whole 960x544": {"imgsz": "960x544", "tile": None, "zoom": "0"},
    "whole 1280x736": {"imgsz": "1280x736", "tile": None, "zoom": "0"},
    "tiles 2x640 (sign band)": {"imgsz": "640", "tile": "640", "zoom": "0"},
    "tiles 2x640 + zoom tile": {"imgsz": "640", "tile": "640", "zoom": "1.5"},
}
THRESHOLD_KEYS = ("astute_conf", "astute_min_confidence", "astute_contexts")


def export_variant(pt: Path, like: Path, variant: dict[str, str | None], folder: Path) -> Path:
    """``pt`` exported as ``variant`` into ``folder``, with ``like``'s thresholds and classifier beside it."""
    meta_like = read_metadata(like)
    classifier = meta_like.get("astute_classifier")
    if classifier:
        shutil.copy2(like.parent / classifier, folder / classifier)
    meta = astute_metadata(classifier=classifier, tile=variant["tile"], zoom=variant["zoom"])
    meta |= {k: meta_like[k] for k in THRESHOLD_KEYS if k in meta_like}
    out = export_onnx(pt, folder / "detector.onnx", imgsz=variant["imgsz"])
    return write_metadata(out, meta)


def accuracy(detector, rtsd: Path) -> dict:
    f = evaluate_frames(detector, rtsd)
    return {"recall_any": f.recall_any, "recall_class": f.recall_class, "precision_any": f.precision_any,
            "precision_class": f.precision_class, "map50": f.map50, "map50_class": f.map50_class,
            "predictions": f.predictions, "gt_boxes": f.gt_boxes, "conf": f.conf,
            "recall_by_width": {k: v.get("recall_any") for k, v in f.by_width.items()}}


def speed(detector, rtsd: Path, threads: int, n: int) -> dict:
    data = json.loads(rtsd.read_text(encoding="utf-8"))
    frames = [cv2.imread(str(image_path(rtsd, im["file_name"]))) for im in data["images"][:n]]
    frames = [f for f in frames if f is not None]
    detector.detect(frames[0])
    times = []
    for frame in frames:
        started = time.perf_counter()
        detector.detect(frame)
        times.append(time.perf_counter() - started)
    base = detector.detector if isinstance(detector, TwoStageDetector) else detector
    ms = statistics.median(times) * 1000
    return {"ms_per_frame_median": round(ms, 1), "fps": round(1000 / ms, 2), "threads": threads,
            "frames": len(frames), "model_runs_per_frame": base.runs_per_frame((1280, 720)),
            "input_hw": list(base.input_hw)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pt", type=Path, help="detector weights (.pt)")
    parser.add_argument("--like", type=Path, default=ROOT / "astute_cli" / "models" / "detector.onnx",
                        help="ONNX model whose thresholds, classifier and crop margins every variant gets")
    parser.add_argument("--rtsd", type=Path, default=RTSD)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--speed-frames", type=int, default=30)
    parser.add_argument("--speed-only", action="store_true", help="re-time the variants, keep the accuracy in --json")
    parser.add_argument("--only", nargs="*", default=None, help="variant names to run (default: all)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    previous = json.loads(args.json.read_text()) if args.json and args.json.is_file() else {}
    rows = {row["variant"]: row for row in previous.get("rows", [])}
    for name, variant in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        with tempfile.TemporaryDirectory(prefix="astute-sizes-") as work:
            detector = load_detector(export_variant(args.pt, args.like, variant, Path(work)), threads=args.threads)
            row = rows.get(name, {}) | {"variant": name, **variant}
            if not args.speed_only:
                row |= accuracy(detector, args.rtsd)
            row |= speed(detector, args.rtsd, args.threads, args.speed_frames)
        rows[name] = row
        print(json.dumps(row), flush=True)
        if args.json:
            args.json.write_text(json.dumps({"pt": str(args.pt), "like": str(args.like), "rtsd": str(args.rtsd),
                                             "rows": list(rows.values())}, indent=2) + "\n")


if __name__ == "__main__":
    main()
