"""Synthetic data sets on disk, reproducible from (seed, arguments): YOLO/COCO detection sets and crop sets.

- ``make_detector_set``: native-resolution crops (``imgsz`` square) of synthetic 1280×720 frames, so a detector
  trains fast at a small input and then runs at full resolution on tiles of the frame.
- ``make_classifier_set``: sign crops with some context, as the detector hands them to the classifier, plus a
  ``background`` class, in the folder layout ultralytics' classifier reads (``train/<class>/*.jpg``).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from astute_cli.labels.formats import data_yaml, write_coco, yolo_row
from astute_cli.signs import BACKGROUND_LABEL, parse_label
from astute_cli.synth import scene, streets
from astute_cli.synth.pictograms import renderable, rtsd_labels

GENERATOR_VERSION = "1.2"  # 1.1: town-name signs carry invented names; 1.2: a tall sign's crop holds all of it
TALL_CROP_MAX = 340
"""Largest crop side (px, before the resize) of a tall sign: twice it fits in the 1280×720 background frames."""
BACKGROUND = BACKGROUND_LABEL


@dataclass(frozen=True)
class DetectorSpec:
    """Arguments of a detector set; with the seed they fix every file."""

    n: int
    seed: int = 0
    imgsz: int = 320
    classes: str = "one"  # "one": a single class "sign"; "full": every RTSD label with values
    full_frames: bool = False
    val_fraction: float = 0.1
    background_fraction: float = 0.15
    big_signs: float = 0.0  # fraction of poles with 40–140 px signs (see ``scene.compose``)
    urban: bool = False  # city clutter that is not a sign (see ``scene.urban_clutter``)
    conditions: tuple[str, ...] = ()  # each frame under one of these, drawn evenly (see ``synth.streets``)
    layouts: tuple[str, ...] = ()  # each frame with one of these sign layouts, drawn evenly; () and () keep
    # the frames of earlier sets unchanged


def class_names(classes: str) -> list[str]:
    if classes == "one":
        return ["sign"]
    if classes == "full":
        return sorted(label for label in rtsd_labels() if renderable(label))
    raise ValueError(f"Unknown class set {classes!r} (one of: one, full)")


def detector_item(spec: DetectorSpec, index: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Image, boxes (xyxy px) and labels of item ``index``: the same for the same (spec, index)."""
    rng = np.random.default_rng([spec.seed, index])
    labels = None if spec.classes == "one" else class_names("full")
    if spec.conditions or spec.layouts:
        frame, boxes, names = streets.compose_street(
            rng, str(rng.choice(spec.conditions or ("clear",))), str(rng.choice(spec.layouts or ("poles",))),
            urban=spec.urban, labels=labels)
    else:
        frame, boxes, names = scene.compose(rng, labels=labels, big_signs=spec.big_signs, urban=spec.urban)
    if spec.full_frames:
        return frame, boxes, names
    return _crop(frame, boxes, names, spec.imgsz, rng, empty=rng.random() < spec.background_fraction)


def _crop(frame: np.ndarray, boxes: np.ndarray, names: list[str], size: int, rng: np.random.Generator,
          empty: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
    h, w = frame.shape[:2]
    if empty or len(boxes) == 0:
        x, y = int(rng.integers(0, w - size + 1)), int(rng.integers(0, h - size + 1))
    else:
        bx1, by1, bx2, by2 = boxes[rng.integers(len(boxes))]
        x = int(np.clip(_start_over(rng, bx1, bx2, size), 0, w - size))
        y = int(np.clip(_start_over(rng, by1, by2, size), 0, h - size))
    crop = frame[y:y + size, x:x + size].copy()
    shifted = boxes - np.float32([x, y, x, y])
    clipped = np.clip(shifted, 0, size)
    area = lambda b: np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)  # noqa: E731
    keep = area(clipped) >= 0.5 * np.maximum(area(shifted), 1e-6)
    keep &= area(clipped) > 0
    return crop, clipped[keep], [n for n, k in zip(names, keep) if k]


def _start_over(rng: np.random.Generator, lo: float, hi: float, size: int) -> int:
    """A crop start whose ``size`` window holds [lo, hi]; inside it when the object is longer than the window
    (an 8_22 post marker is three times taller than wide)."""
    a, b = sorted((int(hi) - size, int(lo)))
    return int(rng.integers(a, b + 1))


def make_detector_set(out: str | Path, spec: DetectorSpec, workers: int = 1, coco: bool = False) -> dict:
    """Write a YOLO detection set (``data.yaml``, ``images/``, ``labels/``, ``manifest.json``, ``samples.jpg``)."""
    out = Path(out)
    names = class_names(spec.classes)
    index_of = {n: i for i, n in enumerate(names)}
    started = time.perf_counter()
    counts: Counter = Counter()
    records = []
    n_val = max(1, round(spec.n * spec.val_fraction)) if spec.n > 1 else 0
    for split in ("train", "val"):
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    for index, (image, boxes, labels) in enumerate(_map(detector_item, spec, range(spec.n), workers)):
        split = "val" if index >= spec.n - n_val else "train"
        stem = f"{index:06d}"
        cv2.imwrite(str(out / "images" / split / f"{stem}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        rows = [yolo_row(index_of["sign" if spec.classes == "one" else lab], b, image.shape) for b, lab in
                zip(boxes, labels)]
        (out / "labels" / split / f"{stem}.txt").write_text("".join(rows))
        counts.update(labels)
        records.append((split, stem, image.shape, boxes, labels))
    (out / "data.yaml").write_text(data_yaml(out, names))
    if coco:
        write_coco(out, names, records)
    _samples_mosaic(out, records[:16])
    manifest = _manifest("detector", spec.__dict__, counts, time.perf_counter() - started, spec.n)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def _samples_mosaic(out: Path, records: list) -> None:
    tiles = []
    for split, stem, _, boxes, labels in records:
        image = cv2.imread(str(out / "images" / split / f"{stem}.jpg"))
        for b, lab in zip(boxes.astype(int), labels):
            cv2.rectangle(image, tuple(b[:2]), tuple(b[2:]), (0, 255, 0), 1)
            cv2.putText(image, lab, (int(b[0]), max(int(b[1]) - 2, 8)), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 255, 0), 1)
        tiles.append(cv2.resize(image, (320, round(320 * image.shape[0] / image.shape[1]))))
    if not tiles:
        return
    while len(tiles) % 4:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[i:i + 4], 1) for i in range(0, len(tiles), 4)]
    cv2.imwrite(str(out / "samples.jpg"), np.concatenate(rows, 0))


def _manifest(kind: str, args: dict, counts: Counter, seconds: float, n: int) -> dict:
    return {"kind": kind, "generator_version": GENERATOR_VERSION, "args": args, "images": n,
            "objects": sum(counts.values()), "counts": dict(sorted(counts.items())),
            "seconds": round(seconds, 1)}


def _map(function, spec, indices, workers: int):
    if workers <= 1:
        for i in indices:
            yield function(spec, i)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(function, [spec] * len(indices), indices, chunksize=8)


@dataclass(frozen=True)
class ClassifierSpec:
    """Arguments of a crop-classifier set."""

    per_class: int
    seed: int = 0
    size: int = 48
    val_fraction: float = 0.15
    labels: tuple[str, ...] = ()
    open_values: float = 0.0
    """Share of a valued class's crops (and of the distance plates 8_1_1, 8_2_1) whose face prints another value of
    its kind, in any layout it is printed in (``synth.values.face``, values from ``synth.values.sample_text``,
    held-out ones never): the class then teaches the sign's kind, whatever its number (the reader reads it)."""


def classifier_labels(extra: tuple[str, ...] | list[str] = ()) -> list[str]:
    """RTSD classes (values included) that we can render, ``extra`` classes beyond RTSD's, and ``background``.

    Raises:
        ValueError: an extra class has no pictogram to render it from.
    """
    for label in extra:
        if label == BACKGROUND or not renderable(label):
            raise ValueError(f"Cannot render class {label!r} (no pictogram, or a value the sign cannot carry)")
    return [*sorted({*(label for label in rtsd_labels() if renderable(label)), *extra}), BACKGROUND]


def classifier_item(spec: ClassifierSpec, index: int) -> tuple[str, np.ndarray]:
    """(label, crop) number ``index``: a sign or background patch as the detector would cut it."""
    labels = list(spec.labels) or classifier_labels()
    label = labels[index % len(labels)]
    rng = np.random.default_rng([spec.seed, index])
    width = int(np.clip(scene.sample_width(rng), 12, 90))
    margin = rng.uniform(1.15, 1.35)  # the box plus ~10 % context each side, jittered
    side = round(width * margin)
    patch = _background_patch(rng, side * 3)
    centre = side * 3 // 2
    if label == BACKGROUND:
        _clutter(patch, rng, centre, width)
    else:
        sign = scene.sign_patch(label, width, rng, master=_open_value_face(label, spec.open_values, rng))
        if sign.shape[0] > 1.15 * width:  # a tall sign (a post marker, a service sign): the detector's box is as
            side = min(round(sign.shape[0] * margin), TALL_CROP_MAX)  # tall as the sign, and so is the crop
            patch = _background_patch(rng, side * 2)
            centre = side
        scene.paste(patch, sign, centre - sign.shape[1] // 2 + int(rng.integers(-2, 3)),
                    centre - sign.shape[0] // 2 + int(rng.integers(-2, 3)))
    patch = scene.degrade(patch, rng)
    crop = patch[centre - side // 2:centre - side // 2 + side, centre - side // 2:centre - side // 2 + side]
    return label, cv2.resize(crop, (spec.size, spec.size), interpolation=cv2.INTER_AREA)


def _open_value_face(label: str, share: float, rng: np.random.Generator) -> np.ndarray | None:
    """With chance ``share``, a master picture of ``label``'s kind printing another value (None: draw the label);
    plates with a distance (``8_1_1``, ``8_2_1``: classes without a value) print any distance."""
    from astute_cli.synth import values

    code = parse_label(label)[0]
    if code not in values.KINDS or share <= 0 or rng.random() >= share:
        return None
    one_line = int(rng.integers(0, len(values.ONE_LINE.get(code, ())) + 1))
    return values.face(code, values.sample_text(code, rng), one_line)


def _background_patch(rng: np.random.Generator, side: int) -> np.ndarray:
    frames = scene.background_frames()
    frame = frames[rng.integers(len(frames))]
    cx, cy = scene.sample_centre(rng)
    x = int(np.clip(cx - side / 2, 0, frame.shape[1] - side))
    y = int(np.clip(cy - side / 2, 0, frame.shape[0] - side))
    patch = frame[y:y + side, x:x + side].astype(np.float32) * rng.uniform(0.6, 1.3) + rng.uniform(-20, 20)
    return np.clip(patch, 0, 255).astype(np.uint8)


def _clutter(patch: np.ndarray, rng: np.random.Generator, centre: int, width: int) -> None:
    """Things a detector mistakes for signs: discs, lamps, wheels, sign backs, or plain road clutter."""
    kind = rng.integers(4)
    colour = rng.uniform(0, 255, 3).tolist()
    r = max(3, width // 2)
    if kind == 0:
        cv2.circle(patch, (centre, centre), r, colour, -1, cv2.LINE_AA)
    elif kind == 1:
        cv2.rectangle(patch, (centre - r, centre - r // 2), (centre + r, centre + r // 2), colour, -1)
    elif kind == 2:
        cv2.circle(patch, (centre, centre), r, (150, 150, 150), -1)
        cv2.line(patch, (centre, centre + r), (centre, patch.shape[0]), (120, 120, 120), max(1, r // 6))


def _n_val(spec: ClassifierSpec) -> int:
    return max(1, round(spec.per_class * spec.val_fraction)) if spec.per_class > 1 else 0


def make_classifier_set(out: str | Path, spec: ClassifierSpec, workers: int = 1) -> dict:
    """Write ``train/<class>/*.jpg`` and ``val/<class>/*.jpg`` plus ``manifest.json`` and ``samples.jpg``."""
    out = Path(out)
    labels = list(spec.labels) or classifier_labels()
    total = spec.per_class * len(labels)
    started = time.perf_counter()
    counts: Counter = Counter()
    samples = []
    for index, (label, crop) in enumerate(_map(classifier_item, spec, range(total), workers)):
        split = "val" if (index // len(labels)) < _n_val(spec) else "train"
        folder = out / split / label
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{index:07d}.jpg"), crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
        counts[label] += 1
        if len(samples) < 64:
            samples.append(crop)
    if samples:
        grid = [np.concatenate(samples[i:i + 16], 1) for i in range(0, len(samples) - len(samples) % 16, 16)]
        if grid:
            cv2.imwrite(str(out / "samples.jpg"), np.concatenate(grid, 0))
    args = {**spec.__dict__, "labels": labels}
    manifest = _manifest("classifier", args, counts, time.perf_counter() - started, total)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def link_classifier_sets(out: str | Path, parts: list[str | Path], max_per_class: int | None = None) -> dict:
    """One classifier set from several, by symbolic links: ``out/<split>/<label>/<part>-<file>``.

    Nothing is copied, so sets of 100k crops combine in seconds; a part's ``manifest.json`` and
    ``mined_manifest.json`` are kept in the combined manifest, with the counts per split.
    ``max_per_class`` keeps at most that many crops of each part's class folder (evenly spaced in name order),
    e.g. so that a mined set's many ``background`` crops do not swamp the signs.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{str(out)!r} is not empty: give a new folder")
    counts: Counter = Counter()
    manifests = {}
    for part in map(Path, parts):
        if not (part / "train").is_dir():
            raise ValueError(f"{str(part)!r} is not a classifier set (no train/ folder)")
        for name in ("manifest.json", "mined_manifest.json"):
            if (part / name).is_file():
                manifests[f"{part.name}/{name}"] = json.loads((part / name).read_text())
        for folder in sorted(part.glob("*/*/")):
            split, label = folder.parent.name, folder.name
            if split not in ("train", "val"):
                continue
            images = sorted(folder.glob("*.jpg"))
            if max_per_class is not None and len(images) > max_per_class:
                images = [images[i] for i in np.linspace(0, len(images) - 1, max_per_class).round().astype(int)]
            for image in images:
                link = out / split / label / f"{part.name}-{image.name}"
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(image.resolve())
                counts[split] += 1
    manifest = {"kind": "combined", "parts": manifests, "max_per_class": max_per_class, "counts": dict(counts)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest
