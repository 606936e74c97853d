"""A model's recall (any class, right class) and precision on the seeded synthetic test set of each condition,
layout and camera size, by sign width, next to daylight (issue 16's target: every set within 5 points of daylight's
class-agnostic recall).

    ASTUTE_THREADS=1 .venv/bin/python benchmarks/conditions.py --json benchmarks/results/conditions-bundled.json
    ASTUTE_THREADS=1 .venv/bin/python benchmarks/conditions.py --merge-neighbours --sets daylight,touching,big \
        --json benchmarks/results/conditions-bundled-merge-neighbours.json   # the detector before the fix
    .venv/bin/python benchmarks/conditions.py --sheets benchmarks/results/conditions   # the sample pictures only

The sets (``astute_cli/synth/condition_sets.py``: ``CONDITION_SETS``) are written once under ``--data``
(default ``datasets/conditions/``, not in git) and reused; ``astute synth test`` writes the same files one set at
a time. They are test sets: nothing is trained, tuned or chosen on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from astute_cli import detector
from astute_cli.detector import load_detector
from astute_cli.eval.frames import evaluate_frames
from astute_cli.eval.results import WIDTH_BUCKETS
from astute_cli.synth.condition_sets import (
    CONDITION_SETS,
    condition_item,
    contact_sheet,
    draw_boxes,
    make_condition_set,
)

ROOT = Path(__file__).resolve().parent.parent
TARGET_GAP = 0.05


def ensure_sets(folder: Path, names: list[str]) -> dict[str, Path]:
    """Each named set's ``annotations.json``, written first when missing."""
    paths = {}
    for name in names:
        out = folder / name
        if not (out / "annotations.json").is_file():
            started = time.perf_counter()
            manifest = make_condition_set(out, CONDITION_SETS[name])
            print(f"{name}: {manifest['images']} frames, {manifest['objects']} signs in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
        paths[name] = out / "annotations.json"
    return paths


def measure(model: Path | None, paths: dict[str, Path], haze: bool = True, detector_only: bool = False
            ) -> dict[str, dict]:
    """Frame metrics per set (its first ``n`` frames: a set written with more frames measures the same);
    ``detector_only``: of the sign detector alone, before the classifier keeps or drops its boxes."""
    detector = load_detector(model, haze=haze)
    if detector_only and hasattr(detector, "detector"):
        detector = detector.detector
    rows = {}
    for name, path in paths.items():
        started = time.perf_counter()
        m = evaluate_frames(detector, path, limit=CONDITION_SETS[path.parent.name].n)
        rows[name] = {"images": m.images, "signs": m.gt_boxes, "recall_any": m.recall_any,
                      "recall_class": m.recall_class, "precision_any": m.precision_any,
                      "precision_class": m.precision_class, "map50": m.map50,
                      "by_width": {b: {k: m.by_width[b][k] for k in ("gt", "recall_any", "recall_class")}
                                   for b in m.by_width}}
        print(f"{name}: recall {m.recall_any:.3f} / {m.recall_class:.3f}, precision {m.precision_any:.3f} "
              f"({m.gt_boxes} signs, {time.perf_counter() - started:.0f} s)", flush=True)
    return rows


def table(rows: dict[str, dict]) -> str:
    """Markdown: one row per set, the gap to daylight's class-agnostic recall, recall by width bucket."""
    day = rows.get("daylight", {}).get("recall_any")
    buckets = [b[0] for b in WIDTH_BUCKETS]
    lines = ["| set | signs | recall any / right class | precision | gap to daylight | "
             + " / ".join(buckets) + " px (signs) |", "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        gap = "" if day is None or name == "daylight" else f"{r['recall_any'] - day:+.3f}" + (
            " ✗" if day - r["recall_any"] > TARGET_GAP else " ✓")
        widths = " / ".join(f"{r['by_width'][b]['recall_any']:.2f} ({r['by_width'][b]['gt']})"
                            if r["by_width"][b]["gt"] else "–" for b in buckets)
        lines.append(f"| {name} | {r['signs']} | {r['recall_any']:.3f} / {r['recall_class']:.3f} | "
                     f"{r['precision_any']:.3f} | {gap} | {widths} |")
    return "\n".join(lines)


def write_sheets(folder: Path, per_sheet: int = 4) -> None:
    """A small contact sheet per set: its first frames (after the measured ones' seeds: index 10 000 on) with boxes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, spec in CONDITION_SETS.items():
        frames = [draw_boxes(*condition_item(spec, 10_000 + i)) for i in range(per_sheet)]
        sheet = contact_sheet(frames, tile_w=400)
        cv2.imwrite(str(folder / f"{name}.jpg"), sheet, [cv2.IMWRITE_JPEG_QUALITY, 80])
        print(f"{folder / name}.jpg", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path, help="ONNX detector (default: the bundled model)")
    parser.add_argument("--data", type=Path, default=ROOT / "datasets" / "conditions")
    parser.add_argument("--sets", default=",".join(CONDITION_SETS), help="comma-separated set names")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--sheets", type=Path, help="write a sample picture per set here, then stop")
    parser.add_argument("--write-only", action="store_true", help="write the missing sets, measure nothing")
    parser.add_argument("--merge-neighbours", action="store_true",
                        help="ablation: NMS without splitting boxes around several signs, and seam repair that joins "
                             "two whole signs touching at a tile seam (the detector before issue 16)")
    parser.add_argument("--no-haze", action="store_true",
                        help="ablation: search hazy frames as they are (the detector before haze lifting)")
    parser.add_argument("--detector-only", action="store_true",
                        help="measure the sign detector alone (class-agnostic), before the crop classifier")
    args = parser.parse_args(argv)
    if args.merge_neighbours:
        detector.nms = partial(detector.nms, split_merged=False)
        detector._join_seams = partial(detector._join_seams, whole_aspect=float("inf"))
    if args.sheets:
        write_sheets(args.sheets)
        return 0
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONDITION_SETS]
    if unknown:
        print(f"unknown set {unknown[0]!r} (one of: {', '.join(CONDITION_SETS)})", file=sys.stderr)
        return 2
    paths = ensure_sets(args.data, names)
    if args.write_only:
        return 0
    rows = measure(args.model, paths, haze=not args.no_haze, detector_only=args.detector_only)
    record = {"model": str(args.model or "bundled"), "merge_neighbours": args.merge_neighbours,
              "haze": not args.no_haze, "detector_only": args.detector_only, "commands": [], "sets": {},
              "results": {}}
    if args.json and args.json.is_file():  # add these sets to an earlier run of the same model and detector
        earlier = json.loads(args.json.read_text())
        same = ("model", "merge_neighbours", "haze", "detector_only")
        defaults = {"haze": True, "detector_only": False}
        if [earlier.get(k, defaults.get(k)) for k in same] == [record[k] for k in same]:
            record = earlier
    record["commands"].append("python " + " ".join(sys.argv))
    record["sets"] |= {n: {**CONDITION_SETS[n].__dict__} for n in names}
    record["results"] = {n: ({**record["results"], **rows})[n] for n in CONDITION_SETS
                         if n in record["results"] or n in rows}
    print(table(record["results"]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=2, default=lambda o: list(o) if isinstance(o, tuple) else
                                        (o.item() if isinstance(o, np.generic) else str(o))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
