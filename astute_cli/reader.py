"""Read the value printed on a sign's face: digits, a decimal comma and the printed unit.

The sign's kind comes from the classifier; the reader crops the part of the box where that kind prints its value,
runs a small CRNN (CTC) over the grey crop and turns the text into a number it checks against what the kind allows::

    reader = ValueReader()
    readings = reader.read(frame, dets.xyxy, ["3_24", "3_13"])   # [Reading("90", 90.0, None, 0.98), ...]

Runtime module: onnxruntime, numpy and OpenCV only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from astute_cli import signs
from astute_cli.paths import MODELS_DIR
from astute_cli.types import Reading

DEFAULT_READER = MODELS_DIR / "reader.onnx"

CHARSET = "0123456789,мтк"
"""What the reader can print, index 0 of the model's output being the CTC blank; the bundled model names its own."""

INPUT_HW = (32, 96)
"""Height and width of the reader's grey input; the bundled model names its own."""

VIEWS: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.04, 0.0), (-0.04, 0.0), (0.0, 0.04), (0.0, -0.04))
"""Where the reader looks on each box: shifts as fractions of its width and height. Each view is read and the
views vote; a number they disagree on is less sure. Five views read 16-24 px signs right 2-4 points more often than
one (``benchmarks/values.py``, tuned on seeds 7 and 8, not the benchmark's)."""

Region = tuple[float, float, float, float]
"""Part of a sign's box as fractions of its width and height: x1, y1, x2, y2."""

_ROUND: tuple[Region, ...] = ((0.14, 0.22, 0.86, 0.78),)
_TWO_LINE: tuple[Region, ...] = ((0.14, 0.16, 0.86, 0.58), (0.32, 0.54, 0.68, 0.84))
CROPS: dict[str, tuple[Region, ...]] = {
    # kind: the strips that hold its value, read left to right after each other (a unit printed under the number
    # becomes a second strip after it, so the text reads "3,8м" in order)
    "3_24": _ROUND, "3_25": _ROUND, "4_6": _ROUND, "3_11": _ROUND,
    "3_12": ((0.16, 0.12, 0.84, 0.52),),
    "3_13": _TWO_LINE,
    "3_14": ((0.18, 0.22, 0.82, 0.56), (0.32, 0.52, 0.68, 0.80)),
    "3_15": ((0.34, 0.52, 0.66, 0.76), (0.4, 0.72, 0.6, 0.88)),
    "3_16": ((0.24, 0.12, 0.76, 0.38),),
    "6_2": ((0.08, 0.2, 0.92, 0.8),),
    "8_1": ((0.02, 0.04, 0.98, 0.96),),
    "8_2": ((0.08, 0.04, 0.92, 0.96),),
}
"""Where each kind prints its value, as strips of the detector's box (GOST R 52290's layout)."""

ONE_LINE: dict[str, tuple[Region, ...]] = {
    # heights and widths also stand on the road with the unit on the number's line ("3,8 м"), the older layout
    "3_13": ((0.1, 0.3, 0.9, 0.7),),
    "3_14": ((0.18, 0.3, 0.82, 0.7),),
}
"""A second place some kinds print their value; the reader reads both and keeps the surer reading."""


def layouts(code: str) -> tuple[tuple[Region, ...], ...]:
    """The strip sets a sign of kind ``code`` may print its value in: GOST's first, then ``ONE_LINE``'s."""
    kind = kind_of(code)
    return (CROPS[kind], ONE_LINE[kind]) if kind in ONE_LINE else (CROPS[kind],)




def kind_of(code: str) -> str:
    """The key of ``CROPS`` for a sign code: ``8_1_3`` -> ``8_1``, ``3_24_n60`` -> ``3_24``."""
    parts = code.split("_")
    key = "_".join(parts[:2])
    if key not in CROPS:
        raise ValueError(f"Sign {code!r} carries no value the reader reads")
    return key


def parse_value(text: str, code: str) -> tuple[float | None, str | None]:
    """The number and printed unit in ``text`` read on a sign of kind ``code``; value None when implausible.

    ``parse_value("3,8м", "3_13") == (3.8, "m")``, ``parse_value("1,5км", "8_1_1") == (1.5, "km")``,
    ``parse_value("900", "3_24") == (None, None)`` (no speed limit is 900).
    """
    value, unit = signs.parse_printed(text)
    if value is None:
        return None, None
    kind_of(code)  # a kind the reader does not read is the caller's error
    code = signs.parse_label(code)[0]
    rule = signs.VALUE_RANGES[signs.lookup(code).value_kind]
    if unit not in (rule.printed, None) and not (unit == "km" and rule.printed == "m" and signs.is_of_group_8(code)):
        return None, None  # a tonne on a height sign: a misread
    if not signs.plausible_value(code, value * 1000 if unit == "km" else value):
        return None, None
    return value, unit


def crop(image: np.ndarray, xyxy: np.ndarray, code: str, input_hw: tuple[int, int] = INPUT_HW,
         strips: tuple[Region, ...] | None = None) -> np.ndarray:
    """The reader's input for one box: the kind's value strips, grey, side by side, resized to ``input_hw``.

    Args:
        image: (H, W, 3) BGR uint8 frame.
        xyxy: (4,) the sign's box in pixels.
        code: the sign's GOST code (its kind picks the strips).
        input_hw: the model's input height and width.
        strips: one of ``layouts(code)`` (default: the first, GOST's).

    Returns:
        (h, w) uint8 grey crop.
    """
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    # work on the box's neighbourhood only: a whole 720p frame would cost more than the model
    left, top = max(0, int(np.floor(min(x1, x2))) - 4), max(0, int(np.floor(min(y1, y2))) - 4)
    right = min(image.shape[1], int(np.ceil(max(x1, x2))) + 4)
    bottom = min(image.shape[0], int(np.ceil(max(y1, y2))) + 4)
    if right <= left or bottom <= top:
        left, top, right, bottom = 0, 0, image.shape[1], image.shape[0]
    roi = image[top:bottom, left:right]
    grey = roi if roi.ndim == 2 else cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY)
    x1, y1, x2, y2 = x1 - left, y1 - top, x2 - left, y2 - top
    bw, bh = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    h, w = input_hw
    pieces = []
    for fx1, fy1, fx2, fy2 in strips or layouts(code)[0]:
        sw, sh = (fx2 - fx1) * bw, (fy2 - fy1) * bh
        out_w = max(4, round(h * sw / sh))
        pieces.append(_warp(grey, (x1 + fx1 * bw, y1 + fy1 * bh, sw, sh), (h, out_w)))
    joined = np.hstack(pieces) if len(pieces) > 1 else pieces[0]
    return cv2.resize(joined, (w, h), interpolation=cv2.INTER_AREA if joined.shape[1] > w else cv2.INTER_LINEAR)


def _warp(grey: np.ndarray, xywh: tuple[float, float, float, float], out_hw: tuple[int, int]) -> np.ndarray:
    """Resample a sub-pixel rectangle of ``grey`` to ``out_hw`` (edges replicate, so boxes may leave the frame)."""
    x, y, sw, sh = xywh
    oh, ow = out_hw
    sx, sy = ow / sw, oh / sh
    matrix = np.array([[sx, 0, -x * sx + 0.5 * sx - 0.5], [0, sy, -y * sy + 0.5 * sy - 0.5]], np.float32)
    if sx < 1 or sy < 1:  # shrinking: smooth first so thin strokes do not alias away
        grey = cv2.GaussianBlur(grey, (0, 0), sigmaX=max(0.01, 0.5 / min(sx, 1)), sigmaY=max(0.01, 0.5 / min(sy, 1)))
    return cv2.warpAffine(grey, matrix, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def normalise(crops: np.ndarray) -> np.ndarray:
    """(N, h, w) uint8 -> (N, 1, h, w) float32 with each crop's contrast stretched to about -1..1."""
    x = crops.astype(np.float32)
    lo = np.percentile(x, 2, axis=(1, 2), keepdims=True)
    hi = np.percentile(x, 98, axis=(1, 2), keepdims=True)
    return ((x - lo) / np.maximum(hi - lo, 16.0) * 2 - 1)[:, None]


def ctc_decode(probs: np.ndarray, charset: str) -> list[tuple[str, float]]:
    """Greedy CTC decoding of (N, T, C) probabilities (class 0 = blank) into (text, confidence) per row.

    The confidence is the product over time steps of the best class's probability: the chance of that path.
    """
    best = probs.argmax(axis=2)
    confidence = np.exp(np.log(np.maximum(probs.max(axis=2), 1e-12)).sum(axis=1))
    texts = []
    for row in best:
        keep = row[np.r_[True, row[1:] != row[:-1]]]
        texts.append("".join(charset[i - 1] for i in keep if i > 0))
    return list(zip(texts, confidence.tolist(), strict=True))


class ValueReader:
    """Reads the value on valued signs with the bundled ONNX recogniser.

    Args:
        path: ONNX model; its metadata names the charset and input size.
        threads: CPU threads for inference (None: onnxruntime's default); more is faster on big batches.
        views: shifts of the box to read it at (``VIEWS``); one ``((0, 0),)`` reads the box as it is.
    """

    def __init__(self, path: str | Path = DEFAULT_READER, threads: int | None = None,
                 views: Sequence[tuple[float, float]] = VIEWS) -> None:
        if not views:
            raise ValueError("The reader needs at least one view of each box")
        self.views = tuple((float(dx), float(dy)) for dx, dy in views)
        import onnxruntime as ort

        self.path = path = Path(path)
        if not path.is_file():
            raise ValueError(f"Value reader model not found: {str(path)!r}")
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.charset: str = json.loads(meta.get("charset", json.dumps(CHARSET)))
        self.input_hw: tuple[int, int] = tuple(json.loads(meta.get("input_hw", json.dumps(INPUT_HW))))  # type: ignore[assignment]
        self.input_name = self.session.get_inputs()[0].name

    def read(self, image: np.ndarray, xyxy: np.ndarray, codes: Sequence[str]) -> list[Reading]:
        """Read the value on each box.

        Args:
            image: (H, W, 3) BGR uint8 frame.
            xyxy: (N, 4) boxes of valued signs in pixels.
            codes: N base GOST codes, the kind of each box (``3_24``, ``3_13``, ``8_1_1``...).

        Returns:
            N readings, in the order of the boxes; value None where nothing plausible was read. Each box is read
            at every view and in every layout of its kind; the number with the most confidence summed over the
            views wins, and its confidence is that sum over the number of views (views that read something else
            make it less sure).
        """
        xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
        if len(xyxy) != len(codes):
            raise ValueError(f"{len(xyxy)} boxes but {len(codes)} sign codes")
        if not len(xyxy):
            return []
        owner, crops = [], []
        for i, (box, code) in enumerate(zip(xyxy, codes, strict=True)):
            w, h = box[2] - box[0], box[3] - box[1]
            for v, (dx, dy) in enumerate(self.views):
                moved = box + np.array([dx * w, dy * h, dx * w, dy * h], np.float32)
                for strips in layouts(code):
                    owner.append((i, v))
                    crops.append(crop(image, moved, code, self.input_hw, strips))
        probs = self.session.run(None, {self.input_name: normalise(np.stack(crops))})[0]
        seen: dict[tuple[int, int], Reading] = {}  # (box, view): the surer of its layouts' readings
        for key, (text, confidence) in zip(owner, ctc_decode(probs, self.charset), strict=True):
            value, unit = parse_value(text, codes[key[0]])
            reading = Reading(text=text, value=value, unit=unit, confidence=float(confidence))
            if key not in seen or _surer(reading, seen[key]):
                seen[key] = reading
        return [_vote([seen[i, v] for v in range(len(self.views))]) for i in range(len(codes))]


def _vote(views: list[Reading]) -> Reading:
    """One box's reading from its views': the number whose views sum the most confidence, as sure as that sum over
    all the views (views that read another number or none make it less sure); with no number, the surest view."""
    tally: dict[tuple[float, str | None], list[Reading]] = {}
    for reading in views:
        if reading.value is not None:
            tally.setdefault((reading.value, reading.unit), []).append(reading)
    if not tally:
        return max(views, key=lambda r: r.confidence)
    agreed = max(tally.values(), key=lambda same: sum(r.confidence for r in same))
    surest = max(agreed, key=lambda r: r.confidence)
    return Reading(text=surest.text, value=surest.value, unit=surest.unit,
                   confidence=sum(r.confidence for r in agreed) / len(views))


def _surer(a: Reading, b: Reading) -> bool:
    """Whether reading ``a`` of a sign beats ``b`` (another layout's): a plausible value first, then confidence."""
    return (a.value is not None, a.confidence) > (b.value is not None, b.confidence)
