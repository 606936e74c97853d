"""The value reader on a seeded synthetic set of valued signs it never trained on, by kind and by sign width.

    .venv/bin/python benchmarks/values.py --json benchmarks/results/values-reader.json
    .venv/bin/python benchmarks/values.py --rapidocr --json benchmarks/results/values-rapidocr.json

Each crop is drawn by ``synth.values.sample`` (the face at its real width over a road photo, degraded, cut from a
±10 % jittered box) with seed ``--seed``; the training stream used other seeds, and the held-out numbers
(``synth.values.HELD_OUT``: 90, 110, 15, 3,8, 250) were never drawn for training. A read is right when the number
and printed unit it parses to equal the truth (``reader.parse_value``). ``--rapidocr`` reads the same crops with
the PP-OCR recogniser bundled in rapidocr-onnxruntime (an optional, benchmark-only import): the reader's grey
crop, upscaled to its 48 px input height; Latin look-alikes of the units (m, T) count as the Cyrillic ones.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np

from astute_cli import reader, signs
from astute_cli.synth import values

BUCKETS = ((12, 16, "<16"), (16, 24, "16-24"), (24, 32, "24-32"), (32, 48, "32-48"), (48, 80, ">=48"))
"""Sign widths in pixels: low, high, name."""

SPEEDS = tuple(str(v) for v in range(5, 135, 5))
HEIGHTS = tuple(f"{v / 10:.1f}".replace(".", ",") + "м" for v in range(15, 61))
WEIGHTS = (*(f"{v}т" for v in range(1, 61)), "2,5т", "3,5т", "7,5т", "12,5т")
LENGTHS = (*(f"{v}м" for v in range(2, 41)), "8,5м", "12,5м", "16,5м")
HEADWAYS = (*(f"{v}м" for v in range(10, 105, 5)), "150м", "200м")
PLATES = (*(f"{v}м" for v in range(50, 1050, 50)), *(f"{v / 10:g}".replace(".", ",") + "км" for v in range(10, 55, 5)))
TRUTHS: dict[str, tuple[str, ...]] = {
    # kind: the values a real sign of it can carry (held-out ones included)
    "3_24": SPEEDS, "3_25": SPEEDS[3:], "4_6": SPEEDS[3:], "6_2": SPEEDS[3:],
    "3_13": HEIGHTS, "3_14": HEIGHTS, "3_11": WEIGHTS, "3_12": WEIGHTS, "3_15": LENGTHS, "3_16": HEADWAYS,
    "8_1_1": PLATES, "8_2_1": PLATES,
}
SHOWCASE: dict[str, tuple[str, ...]] = {
    # held-out values on the kinds that carry them, drawn extra so each has its own count
    "3_24": ("90", "110"), "3_25": ("90", "110"), "4_6": ("90", "110"), "6_2": ("90", "110"),
    "3_13": ("3,8м",), "3_14": ("3,8м",), "3_11": ("15т",), "3_12": ("15т",), "3_15": ("15м",),
    "3_16": ("90м",), "8_1_1": ("250м",), "8_2_1": ("250м",),
}


def make_set(seed: int, per_bucket: int, showcase_per_bucket: int) -> list[dict]:
    """The benchmark's signs: each kind at every width bucket, values drawn from ``TRUTHS``, plus the showcase; kinds
    with a one-line layout (``synth.values.ONE_LINE``: "3,8 м") get as many again in it, big and small print."""
    rng = np.random.default_rng(seed)
    items = []
    for code in values.KINDS:
        layouts = (0, *range(1, len(values.ONE_LINE.get(code, ())) + 1))
        for low, high, name in BUCKETS:
            for one_line in layouts:
                n = per_bucket if one_line == 0 else per_bucket // (len(layouts) - 1)
                texts = [TRUTHS[code][int(rng.integers(len(TRUTHS[code])))] for _ in range(n)]
                texts += [t for t in SHOWCASE[code] for _ in range(showcase_per_bucket if one_line == 0 else 0)]
                for text in texts:
                    width = float(rng.uniform(low, high))
                    patch, box = values.view(code, text, width, rng, one_line)
                    items.append({"code": code, "text": text, "width": width, "bucket": name, "patch": patch,
                                  "box": box, "layout": "one-line" if one_line else "GOST",  # the fitting crop:
                                  "crop": reader.crop(patch, box, code, strips=values.strips_for(code, one_line))})
    return items


def is_held_out(text: str) -> bool:
    return text.rstrip("мтк") in values.HELD_OUT


def run_reader(items: list[dict], model: Path, threads: int, views: int = len(reader.VIEWS)
               ) -> tuple[list[str], list[float], float]:
    """Texts read by the CRNN as the runtime reads them (``ValueReader.read`` on the sign's patch and box: every
    layout of its kind at the first ``views`` of ``reader.VIEWS``, the views voting), their confidences, and its
    median ms per read (one speed sign, crop included)."""
    vr = reader.ValueReader(model, threads=threads, views=reader.VIEWS[:views])
    readings = [vr.read(it["patch"], it["box"][None], [it["code"]])[0] for it in items]
    texts, confidences = [r.text for r in readings], [r.confidence for r in readings]
    frame = np.full((720, 1280, 3), 128, np.uint8)
    frame[300:340, 600:640] = cv2.cvtColor(cv2.resize(items[0]["crop"], (40, 40)), cv2.COLOR_GRAY2BGR)
    times = []
    for _ in range(200):
        start = time.perf_counter()
        vr.read(frame, np.array([[600, 300, 640, 340]], np.float32), ["3_24"])
        times.append((time.perf_counter() - start) * 1000)
    return texts, confidences, statistics.median(times[20:])


_LATIN = str.maketrans({"m": "м", "M": "м", "T": "т", "t": "т", "k": "к", "K": "к", ".": ",", "O": "0", "o": "0"})


def run_rapidocr(items: list[dict], threads: int) -> tuple[list[str], float, float]:
    """Texts read by rapidocr's recogniser alone, its median ms per read and its model size in MB."""
    import rapidocr_onnxruntime
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
    texts, times = [], []
    for it in items:
        grey = cv2.resize(it["crop"], (144, 48), interpolation=cv2.INTER_CUBIC)
        start = time.perf_counter()
        result, _ = engine(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), use_det=False, use_cls=False, use_rec=True)
        times.append((time.perf_counter() - start) * 1000)
        raw = result[0][0] if result else ""
        texts.append(re.sub(r"[^0-9,мтк]", "", raw.translate(_LATIN)))
    models = Path(rapidocr_onnxruntime.__file__).parent / "models"
    size = sum(p.stat().st_size for p in models.glob("*rec*.onnx")) / 1e6
    return texts, statistics.median(times), size


CONFIDENCE_BINS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.01)


def by_confidence(items: list[dict], texts: list[str], confidences: list[float]) -> dict:
    """Of the readings that parse to a plausible value, the share right per confidence bin (how far a reading of
    a given confidence can be trusted: the announcer's ``value_min_confidence``)."""
    out = {}
    for lo, hi in itertools.pairwise(CONFIDENCE_BINS):
        right = [reader.parse_value(t, it["code"]) == reader.parse_value(it["text"], it["code"])
                 for it, t, c in zip(items, texts, confidences, strict=True)
                 if lo <= c < hi and reader.parse_value(t, it["code"])[0] is not None]
        out[f"{lo:.2f}-{min(hi, 1.0):.2f}"] = {"right": round(float(np.mean(right)), 3) if right else None,
                                               "n": len(right)}
    return out


def score(items: list[dict], texts: list[str]) -> dict:
    """Value accuracy overall, by width bucket, by kind, by kind and bucket, and on held-out values."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for it, text in zip(items, texts, strict=True):
        want = reader.parse_value(it["text"], it["code"])
        right = want[0] is not None and reader.parse_value(text, it["code"]) == want
        keys = ["all", f"width {it['bucket']}", f"kind {it['code']}", f"kind {it['code']} width {it['bucket']}"]
        if it["code"] in values.ONE_LINE:
            keys += [f"kind {it['code']} {it['layout']}", f"kind {it['code']} {it['layout']} width {it['bucket']}"]
        size = ">=24 px" if it["width"] >= 24 else ("16-24 px" if it["width"] >= 16 else "<16 px")
        keys += [size, f"kind {it['code']} {size}"]
        if is_held_out(it["text"]):
            keys += ["held-out", f"held-out {it['text']}", f"held-out {it['text']} >=24 px" if it["width"] >= 24
                     else f"held-out {it['text']} <24 px"]
        for key in keys:
            groups[key].append(right)
    out = {key: {"accuracy": round(float(np.mean(v)), 4), "n": len(v)} for key, v in sorted(groups.items())}
    share = road_share()
    for size in (">=24 px", "16-24 px", "<16 px"):
        rows = [(share[code], out[f"kind {code} {size}"]) for code in share if f"kind {code} {size}" in out]
        if rows:
            weight = sum(w for w, _ in rows)
            out[f"road mix {size}"] = {"accuracy": round(sum(w * row["accuracy"] for w, row in rows) / weight, 4),
                                       "n": sum(row["n"] for _, row in rows)}
    return out


def road_share() -> dict[str, float]:
    """How often each kind of the set is met on the road: its share of the valued signs among RTSD's 25,870 boxes
    (``rtsd-meta/rtsd_frames_boxes_14724.json``; 3_24 is two thirds of them, and 3_12, 3_14, 3_15, 3_16 and 4_6 do
    not occur). A "road mix" accuracy weighs each kind's accuracy by it: the signs a driver meets, not the kinds."""
    from astute_cli.paths import shared_data

    data = json.loads((shared_data() / "rtsd-meta" / "rtsd_frames_boxes_14724.json").read_text())
    counts = Counter(reader.kind_of(code) for labels in data["labels"].values() for label in labels
                     if (code := signs.parse_label(label)[0]) in values.KINDS)
    kinds = {code: counts.get(reader.kind_of(code), 0) for code in values.KINDS}
    total = sum(kinds.values())
    return {code: n / total for code, n in kinds.items() if n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=reader.DEFAULT_READER)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--per-bucket", type=int, default=60, help="crops per kind and width bucket")
    parser.add_argument("--showcase", type=int, default=6, help="extra crops per held-out value, kind and bucket")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--views", type=int, default=len(reader.VIEWS),
                        help="read each sign at the first N of reader.VIEWS (1: the box as it is)")
    parser.add_argument("--rapidocr", action="store_true", help="read with rapidocr-onnxruntime instead")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    items = make_set(args.seed, args.per_bucket, args.showcase)
    confidences = None
    if args.rapidocr:
        texts, ms, size_mb = run_rapidocr(items, args.threads)
        name = "rapidocr-onnxruntime PP-OCR recogniser"
    else:
        texts, confidences, ms = run_reader(items, args.model, args.threads, args.views)
        size_mb, name = args.model.stat().st_size / 1e6, f"CRNN {args.model.name}, {args.views} view(s)"
    result = {"command": " ".join(["benchmarks/values.py", *sys.argv[1:]]), "reader": name, "seed": args.seed,
              "crops": len(items), "ms_per_read": round(ms, 3),
              "threads": args.threads, "model_mb": round(size_mb, 3), "accuracy": score(items, texts),
              "errors": [{"code": it["code"], "truth": it["text"], "read": t, "width": round(it["width"], 1)}
                         for it, t in zip(items, texts, strict=True)
                         if reader.parse_value(t, it["code"]) != reader.parse_value(it["text"], it["code"])]}
    if confidences is not None:
        result["by_confidence"] = by_confidence(items, texts, confidences)
    for key, row in result["accuracy"].items():
        if " width " not in key:
            print(f"{key:28s} {row['accuracy']:.3f}  (n={row['n']})")
    for key, row in result.get("by_confidence", {}).items():
        print(f"confidence {key}: {row['right']} right of {row['n']} plausible readings")
    print(f"{name}: {ms:.2f} ms per read ({args.threads} thread), {size_mb:.2f} MB")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
