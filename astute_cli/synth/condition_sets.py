"""Seeded synthetic TEST sets, one per condition, in COCO (``images/`` beside ``annotations.json``) as
``astute benchmark --data`` reads them. Never train on them: their seeds (from 1,000,000 up) are kept apart from
the training sets' (small seeds).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from astute_cli.signs import parse_label
from astute_cli.synth import streets

TEST_SEED = 1_000_000
OBSTACLE_MARKERS = ("8_22_1", "8_22_2", "8_22_3")
"""The red-and-white post markers of obstacles (GOST 8.22.1–8.22.3): no RTSD class, seen on every curve."""


@dataclass(frozen=True)
class ConditionSet:
    """One test set: ``n`` full frames under one condition and layout at one frame size."""

    n: int = 60
    seed: int = TEST_SEED
    condition: str = "clear"
    layout: str = "poles"
    frame_wh: tuple[int, int] = (1280, 720)
    urban: bool = True
    labels: tuple[str, ...] = ()
    """Draw only these signs (empty: the street's usual mix)."""


CONDITION_SETS: dict[str, ConditionSet] = {
    "daylight": ConditionSet(seed=TEST_SEED),
    "dusk": ConditionSet(seed=TEST_SEED + 1, condition="dusk"),
    "night": ConditionSet(seed=TEST_SEED + 2, condition="night"),
    "winter": ConditionSet(seed=TEST_SEED + 3, condition="winter"),
    "rain": ConditionSet(seed=TEST_SEED + 4, condition="rain"),
    "fog": ConditionSet(seed=TEST_SEED + 5, condition="fog"),
    "glare": ConditionSet(seed=TEST_SEED + 6, condition="glare"),
    "touching": ConditionSet(seed=TEST_SEED + 7, layout="touching"),
    "big": ConditionSet(seed=TEST_SEED + 8, layout="big"),
    "4k": ConditionSet(n=40, seed=TEST_SEED + 9, frame_wh=(3840, 2160)),
    "5x4": ConditionSet(n=40, seed=TEST_SEED + 10, frame_wh=(2448, 2048)),
    "markers": ConditionSet(n=30, seed=TEST_SEED + 11, labels=OBSTACLE_MARKERS),
    "markers-night": ConditionSet(n=30, seed=TEST_SEED + 12, condition="night", labels=OBSTACLE_MARKERS),
}
"""The measured sets: daylight and one set per condition, layout and camera size, each with its own seed.
Every frame also goes through a random camera model (:func:`camera.sample_camera`), daylight included, so a gap
to daylight is the condition's alone."""


def condition_item(spec: ConditionSet, index: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Frame, boxes and labels of item ``index``: the same for the same (spec, index)."""
    rng = np.random.default_rng([spec.seed, index])
    return streets.compose_street(rng, spec.condition, spec.layout, tuple(spec.frame_wh), urban=spec.urban,
                                  labels=list(spec.labels) or None)


def make_condition_set(out: str | Path, spec: ConditionSet) -> dict:
    """Write ``images/NNNNNN.jpg``, ``annotations.json`` (COCO, categories = RTSD sign codes),
    ``manifest.json`` and ``samples.jpg`` (the first frames with their boxes)."""
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    images, annotations, codes, counts = [], [], {}, Counter()
    samples = []
    for index in range(spec.n):
        frame, boxes, labels = condition_item(spec, index)
        name = f"{index:06d}.jpg"
        cv2.imwrite(str(out / "images" / name), frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
        images.append({"id": index + 1, "file_name": name, "width": frame.shape[1], "height": frame.shape[0]})
        for box, label in zip(boxes, labels):
            code = parse_label(label)[0]
            codes.setdefault(code, len(codes) + 1)
            x1, y1, x2, y2 = (float(v) for v in box)
            annotations.append({"id": len(annotations) + 1, "image_id": index + 1, "category_id": codes[code],
                                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
            counts[code] += 1
        if len(samples) < 4:
            samples.append(draw_boxes(frame, boxes, labels))
    categories = [{"id": i, "name": c} for c, i in codes.items()]
    (out / "annotations.json").write_text(json.dumps({"images": images, "annotations": annotations,
                                                      "categories": categories}))
    if samples:
        cv2.imwrite(str(out / "samples.jpg"), contact_sheet(samples))
    manifest = {"kind": "test", "spec": asdict(spec), "images": spec.n, "objects": len(annotations),
                "counts": dict(sorted(counts.items())), "seconds": round(time.perf_counter() - started, 1)}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def draw_boxes(frame: np.ndarray, boxes: np.ndarray, labels: list[str]) -> np.ndarray:
    image = frame.copy()
    thick = max(1, round(frame.shape[1] / 1280))
    for b, lab in zip(np.asarray(boxes).astype(int), labels):
        cv2.rectangle(image, tuple(b[:2]), tuple(b[2:]), (0, 255, 0), thick)
        cv2.putText(image, lab, (int(b[0]), max(int(b[1]) - 3, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick,
                    (0, 255, 0), thick)
    return image


def contact_sheet(frames: list[np.ndarray], tile_w: int = 480, per_row: int = 2) -> np.ndarray:
    """Frames side by side, each ``tile_w`` px wide (heights follow the first frame's aspect)."""
    tile_h = round(tile_w * frames[0].shape[0] / frames[0].shape[1])
    tiles = [cv2.resize(f, (tile_w, tile_h), interpolation=cv2.INTER_AREA) for f in frames]
    while len(tiles) % per_row:
        tiles.append(np.zeros_like(tiles[0]))
    return np.concatenate([np.concatenate(tiles[i:i + per_row], 1) for i in range(0, len(tiles), per_row)], 0)
