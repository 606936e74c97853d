"""Sign detection with ONNX Runtime: a YOLO export run at native resolution on tiles of the sign region,
optionally followed by a crop classifier for the sign's class and value (the two-stage design).

Small signs on a small CPU: RTSD's median sign is 29 px wide on a 1280×720 frame, so shrinking the frame
to a 640 input loses most of them. Instead the frame (scaled to at most ``work_width``) is cut into model-sized
tiles covering only the band where signs appear, and each tile runs at its native scale.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from astute_cli.boxes import nms
from astute_cli.daylight import looks_unlike_daylight
from astute_cli.haze import lift_haze
from astute_cli.paths import MODELS_DIR
from astute_cli.signs import BACKGROUND_LABELS, is_mounted_plate, is_obstacle_marker, is_place_name_sign
from astute_cli.tiling import SIGN_ROI, ZOOM_EDGE_PX, _join_seams, parse_size, parse_zoom, tiles_for, zoom_strips
from astute_cli.types import Detections
from astute_cli.values import KindMap, Reader, choose_kind, is_valued, number_for, reader_reads

DEFAULT_MODEL = MODELS_DIR / "detector.onnx"  # the FP32 reference: what benchmarks, export and training start from
FAST_MODEL = MODELS_DIR / "detector.int8.onnx"  # its INT8 twin (same metadata and classifier): what annotate runs
READER_MODEL = MODELS_DIR / "reader.onnx"
"""The bundled value reader, used by two-stage models when it exists (see :func:`load_detector`)."""


def letterbox(image: np.ndarray, new_hw: tuple[int, int], color: int = 114
              ) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Resize keeping the aspect ratio and pad to ``new_hw``; returns (image, scale, (pad_x, pad_y))."""
    h, w = image.shape[:2]
    scale = min(new_hw[0] / h, new_hw[1] / w)
    nh, nw = round(h * scale), round(w * scale)
    resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR) if (nh, nw) != (h, w) else image
    pad_y, pad_x = (new_hw[0] - nh) // 2, (new_hw[1] - nw) // 2
    out = np.full((new_hw[0], new_hw[1], 3), color, np.uint8)
    out[pad_y:pad_y + nh, pad_x:pad_x + nw] = resized
    return out, scale, (pad_x, pad_y)


def decode_yolo(output: np.ndarray, conf: float, iou: float) -> Detections:
    """Boxes in model-input pixels from an ultralytics export.

    Handles the YOLOv8/11 head (1, 4 + nc, N) with centre-size boxes (NMS applied here, per class) and the
    end-to-end layout of YOLO26 / NMS exports (1, N, 6) = x1, y1, x2, y2, score, class.
    """
    out = np.asarray(output)[0]
    if out.ndim == 2 and out.shape[1] == 6 and out.shape[0] != 6:
        out = out[out[:, 4] >= conf]
        return Detections(out[:, :4], out[:, 4], out[:, 5].astype(np.int64))
    scores_all = out[4:].T
    class_id = scores_all.argmax(axis=1)
    scores = scores_all[np.arange(len(class_id)), class_id]
    mask = scores >= conf
    cx, cy, w, h = out[:4, mask]
    xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    scores, class_id = scores[mask], class_id[mask]
    offsets = class_id[:, None] * 4096.0  # separate classes so NMS never merges two different signs
    keep = nms(xyxy + offsets, scores, iou) if len(scores) else np.zeros(0, np.int64)
    return Detections(xyxy[keep], scores[keep], class_id[keep])


def parse_contexts(value: str) -> tuple[float, ...]:
    """The crop classifier's margins from ``"0.05,0.1,0.15"`` (fractions of the box, each in [0, 1]).

    Raises:
        ValueError: anything else.
    """
    try:
        margins = tuple(float(v) for v in str(value).split(","))
    except ValueError:
        margins = ()
    if not margins or not all(0 <= m <= 1 for m in margins):
        raise ValueError(f"Contexts must be margins in [0, 1] like '0.05,0.1,0.2', got {value!r}")
    return margins


def _session(path: Path, threads: int | None):
    import onnxruntime as ort

    if not path.is_file():
        raise ValueError(f"Cannot load model {str(path)!r}: no such file")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    # idle inference threads sleep instead of spinning: decoding, drawing and ffmpeg need the cores meanwhile
    # (benchmarks/README.md, "Real time": 0.91x -> 0.94x real time on 2 cores)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types for every kind of bad file
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise ValueError(f"Cannot load model {str(path)!r}: {reason}") from None


def check_is_detector(path: Path, session, meta: dict[str, str]) -> None:
    """ValueError naming the problem when a model is not a box detector (a crop classifier, most often)."""
    shape = session.get_outputs()[0].shape
    if meta.get("task") == "classify" or len(shape) == 2:
        raise ValueError(f"{str(path)!r} is a crop classifier (output {list(shape)}), not a sign detector: give "
                         f"the detector; it names its classifier in its metadata")
    if len(shape) != 3:
        raise ValueError(f"{str(path)!r} is not a sign detector: its output {list(shape)} is not YOLO's (1, 4 + "
                         f"classes, boxes) or (1, boxes, 6)")


def _metadata(session) -> dict[str, str]:
    return dict(session.get_modelmeta().custom_metadata_map)


def _names(meta: dict[str, str], n_outputs: int | None = None) -> list[str]:
    raw = meta.get("names")
    if raw:
        names = ast.literal_eval(raw)
        if isinstance(names, dict):
            return [str(names[k]) for k in sorted(names)]
        return [str(n) for n in names]
    return [str(i) for i in range(n_outputs or 1)]


def _input_hw(session, meta: dict[str, str]) -> tuple[int, int]:
    shape = session.get_inputs()[0].shape
    if isinstance(shape[2], int) and isinstance(shape[3], int):
        return int(shape[2]), int(shape[3])
    imgsz = ast.literal_eval(meta.get("imgsz", "[640, 640]"))
    return (int(imgsz[0]), int(imgsz[1])) if isinstance(imgsz, (list, tuple)) else (int(imgsz), int(imgsz))


def _to_blob(images: list[np.ndarray]) -> np.ndarray:
    """BGR uint8 images → (N, 3, H, W) float32 RGB in [0, 1]."""
    batch = np.stack(images)[..., ::-1].transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch, dtype=np.float32) / 255.0


class OnnxDetector:
    """A YOLO detector exported to ONNX, run on native-resolution tiles of the sign region.

    Args:
        path: the ONNX file.
        conf: minimum score; lower finds more signs and more false ones.
        iou: NMS overlap above which the weaker box is dropped; higher keeps more overlapping boxes.
        threads: ONNX Runtime intra-op threads (None: all cores).
        tile: tile size in px at native scale, N or "WxH" (None: the model's metadata ``astute_tile``, else 0);
            0 runs the whole frame letterboxed into the model input (the classic way, loses small signs).
        roi: frame fractions x1, y1, x2, y2 searched for signs (None: metadata ``astute_roi``, else ``SIGN_ROI``).
        work_width: wider frames are scaled down to this width first (bigger keeps smaller signs, costs more).
        zoom: an extra pass over the far band, upscaled, for the smallest signs: ``"factor"`` or
            ``"x1,y1,x2,y2,factor"`` (None: metadata ``astute_zoom``, else none; ``"0"``: none). Tiled models only.
        plates_need_sign: a one-stage model's (all classes) group 8 plates are kept only under a sign box, as in
            :class:`TwoStageDetector` (see :func:`plates_under_signs`); a one-class detector has no plates.
        haze: search a frame that looks hazy stretched back to the full range (:func:`astute_cli.haze.lift_haze`);
            False searches every frame as it is.
    """

    def __init__(self, path: str | Path = DEFAULT_MODEL, conf: float = 0.25, iou: float = 0.5,
                 threads: int | None = None, tile: int | None = None,
                 roi: tuple[float, float, float, float] | None = None, work_width: int = 1280,
                 zoom: str | None = None, plates_need_sign: bool = True, haze: bool = True) -> None:
        self.path = Path(path)
        self.session = _session(self.path, threads)
        self.metadata = _metadata(self.session)
        check_is_detector(self.path, self.session, self.metadata)
        self.input_hw = _input_hw(self.session, self.metadata)
        self.labels = _names(self.metadata)
        self.conf, self.iou, self.work_width = conf, iou, work_width
        self.tile = parse_size(self.metadata.get("astute_tile", 0) if tile is None else tile)
        meta_roi = self.metadata.get("astute_roi")
        self.roi = roi or (tuple(float(v) for v in meta_roi.split(",")) if meta_roi else SIGN_ROI)
        self.zoom = parse_zoom(self.metadata.get("astute_zoom") if zoom is None else zoom)
        self.plates_need_sign = plates_need_sign
        self.haze = haze
        self._plate = np.array([is_mounted_plate(label) for label in self.labels], bool)
        self._input_name = self.session.get_inputs()[0].name

    def seen(self, image: np.ndarray) -> np.ndarray:
        """The frame as the models look at it: a hazy one lifted (see ``haze``), any other as it is."""
        return lift_haze(image) if self.haze else image

    def _work_scale(self, width: int) -> float:
        """How much a frame this wide is scaled down before detection (1: not at all)."""
        return min(1.0, self.work_width / width)

    def _work_wh(self, frame_wh: tuple[int, int]) -> tuple[tuple[int, int], float]:
        """The size a frame of ``frame_wh`` is detected at, and its scale (:meth:`_work_scale`)."""
        scale = self._work_scale(frame_wh[0])
        return (round(frame_wh[0] * scale), round(frame_wh[1] * scale)), scale

    def _work_image(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """The frame scaled down as it is detected (itself when not scaled), and the scale."""
        scale = self._work_scale(image.shape[1])
        work = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
        return work, scale

    def runs_per_frame(self, frame_wh: tuple[int, int]) -> int:
        """Model runs a frame of this size costs: its tiles, plus the zoom pass's tiles (1: the whole frame)."""
        if not self.tile[0]:
            return 1
        wh, _ = self._work_wh(frame_wh)
        zoomed = len(zoom_strips(wh, self.zoom[0], self.zoom[1], self.tile)[1]) if self.zoom else 0
        return len(tiles_for(wh, self.tile, self.roi)) + zoomed

    def far_pass_finds(self, xyxy: np.ndarray, frame_wh: tuple[int, int], edge_px: float = ZOOM_EDGE_PX
                       ) -> np.ndarray:
        """(N,) bool: whether ``detect(far_only=True)`` can find each box of a frame this size: the boxes wholly
        inside one strip of the zoom pass (``_zoomed`` leaves a box touching its strip's edge to the native tiles);
        all, for a model that searches the whole frame there."""
        xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
        if not self.tile[0] or not self.zoom:
            return np.ones(len(xyxy), bool)
        wh, scale = self._work_wh(frame_wh)
        band, factor = self.zoom
        (bx1, by1, _, by2), tiles = zoom_strips(wh, band, factor, self.tile)
        zoomed = (xyxy * scale - np.float32([bx1, by1, bx1, by1])) * factor
        rows = (zoomed[:, 1] > edge_px) & (zoomed[:, 3] < round((by2 - by1) * factor) - edge_px)
        in_strip = [(zoomed[:, 0] > x1 + edge_px) & (zoomed[:, 2] < x2 - edge_px) for strips in tiles
                    for x1, x2 in strips]
        return rows & np.any(in_strip, axis=0)

    def detect(self, image: np.ndarray, far_only: bool = False) -> Detections:
        """Signs in a BGR frame, boxes in the frame's own pixels. ``far_only``: the zoom pass over the far band
        alone, where new signs appear (a tiled model with a zoom pass; any other searches the whole frame)."""
        work, scale = self._work_image(self.seen(image))
        found = self._tiled(work, far_only and bool(self.zoom)) if self.tile[0] else self._whole(work)
        if scale < 1 and len(found):
            found.xyxy /= scale
        if self.plates_need_sign and self._plate.any() and len(found):
            found = found[plates_under_signs(found.xyxy, self._plate[found.class_id])]
        return found

    def detect_around(self, image: np.ndarray, xyxy: np.ndarray, context: float = 1.0, min_side: int = 96
                      ) -> Detections:
        """Signs near given boxes of a BGR frame (boxes in the frame's pixels): a square region around each, at
        native scale, ``context`` of the box's longer side added on every side (at least ``min_side`` px, at most
        half a tile), four regions to a model run. A sign cut by its region's edge inside the frame is left out.
        What a search between whole-frame scans runs where the far band's search cannot find a sign just seen."""
        xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
        image = self.seen(image)
        if not len(xyxy) or not self.tile[0]:
            return Detections.empty() if not len(xyxy) else self._whole(image)
        work, scale = self._work_image(image)
        (th, tw), (h, w) = self.input_hw, work.shape[:2]
        cell = min(th, tw) // 2
        regions = []
        for x1, y1, x2, y2 in xyxy * scale:
            side = int(min(max((max(x2 - x1, y2 - y1)) * (1 + 2 * context), min_side), cell, w, h))
            rx = int(np.clip(round((x1 + x2 - side) / 2), 0, w - side))
            ry = int(np.clip(round((y1 + y2 - side) / 2), 0, h - side))
            regions.append((rx, ry, side))
        parts = []
        for first in range(0, len(regions), 4):
            canvas = np.full((th, tw, 3), 114, np.uint8)
            spots = []
            for k, (rx, ry, side) in enumerate(regions[first:first + 4]):
                cx, cy = (k % 2) * cell, (k // 2) * cell
                canvas[cy:cy + side, cx:cx + side] = work[ry:ry + side, rx:rx + side]
                spots.append((cx, cy, rx, ry, side))
            found = self._run(canvas)
            for cx, cy, rx, ry, side in spots:
                local = found.xyxy - np.float32([cx, cy, cx, cy])
                centre = (local[:, :2] + local[:, 2:]) / 2
                mine = (centre >= 0).all(axis=1) & (centre < side).all(axis=1)
                cut = ((local[:, 0] <= 1) & (rx > 0)) | ((local[:, 1] <= 1) & (ry > 0)) \
                    | ((local[:, 2] >= side - 1) & (rx + side < w)) | ((local[:, 3] >= side - 1) & (ry + side < h))
                part = found[mine & ~cut]
                part.xyxy = np.clip(local[mine & ~cut], 0, side) + np.float32([rx, ry, rx, ry])
                parts.append(part)
        merged = Detections.merge(parts)
        if len(merged):
            merged = merged[nms(merged.xyxy + merged.class_id[:, None] * 8192.0, merged.confidence, self.iou)]
            merged.xyxy /= scale
        return merged

    def _whole(self, image: np.ndarray) -> Detections:
        padded, scale, (px, py) = letterbox(image, self.input_hw)
        found = self._run(padded)
        found.xyxy = (found.xyxy - np.float32([px, py, px, py])) / scale
        return _clip(found, image.shape)

    def _tiled(self, image: np.ndarray, zoom_only: bool = False) -> Detections:
        parts = []
        tiles = [] if zoom_only else tiles_for((image.shape[1], image.shape[0]), self.tile, self.roi)
        seams = sorted({float(x) for t in tiles for x in (t[0], t[2]) if 0 < x < image.shape[1]})
        for x1, y1, x2, y2 in tiles:
            crop = image[y1:y2, x1:x2]
            padded, scale, (px, py) = letterbox(crop, self.input_hw) if crop.shape[:2] != self.input_hw else (
                crop, 1.0, (0, 0))
            found = self._run(padded)
            found.xyxy = (found.xyxy - np.float32([px, py, px, py])) / scale + np.float32([x1, y1, x1, y1])
            parts.append(_clip(found, image.shape))
        if self.zoom:
            parts.append(self._zoomed(image))
        merged = Detections.merge(parts)
        if not len(merged):
            return merged
        keep = nms(merged.xyxy + merged.class_id[:, None] * 8192.0, merged.confidence, self.iou)
        return _join_seams(merged[keep], seams)

    def _zoomed(self, image: np.ndarray, edge_px: float = ZOOM_EDGE_PX) -> Detections:
        """Signs in the far band upscaled by the zoom factor, strips packed into whole tiles. A box touching
        its strip's edge is a cut sign and is left to the native tiles (or the neighbouring strip)."""
        band, factor = self.zoom
        (bx1, by1, bx2, by2), tiles = zoom_strips((image.shape[1], image.shape[0]), band, factor, self.tile)
        zw, zh = tiles[-1][-1][1], round((by2 - by1) * factor)
        scaled = cv2.resize(image[by1:by2, bx1:bx2], (zw, zh), interpolation=cv2.INTER_LINEAR)
        scale = np.float32([zw / (bx2 - bx1), zh / (by2 - by1)] * 2)
        th, tw = self.input_hw
        parts = []
        for strips in tiles:
            canvas = np.full((th, tw, 3), 114, np.uint8)
            for row, (x1, x2) in enumerate(strips):
                canvas[row * zh:(row + 1) * zh, :x2 - x1] = scaled[:, x1:x2]
            found = self._run(canvas)
            if not len(found):
                continue
            row = np.clip(((found.xyxy[:, 1] + found.xyxy[:, 3]) / 2 // zh).astype(int), 0, len(strips) - 1)
            x0 = np.float32([strips[r][0] for r in row])
            width = np.float32([strips[r][1] - strips[r][0] for r in row])
            local = found.xyxy - np.stack([np.zeros_like(x0), row * zh, np.zeros_like(x0), row * zh], 1)
            inside = (local[:, 0] > edge_px) & (local[:, 1] > edge_px) & (local[:, 2] < width - edge_px) & (
                local[:, 3] < zh - edge_px)
            local[:, [0, 2]] += x0[:, None]
            found.xyxy = (local / scale + np.float32([bx1, by1, bx1, by1])).astype(np.float32)
            parts.append(found[inside])
        return _clip(Detections.merge(parts), image.shape)

    def _run(self, image: np.ndarray) -> Detections:
        output = self.session.run(None, {self._input_name: _to_blob([image])})[0]
        return decode_yolo(output, self.conf, self.iou)


def _clip(found: Detections, shape: tuple[int, ...]) -> Detections:
    if not len(found):
        return found
    h, w = shape[:2]
    found.xyxy = np.clip(found.xyxy, 0, [w, h, w, h]).astype(np.float32)
    return found[(found.width > 1) & (found.height > 1)]


def square_crops(image: np.ndarray, xyxy: np.ndarray, size_hw: tuple[int, int], context: float = 0.1
                 ) -> list[np.ndarray]:
    """Square crops centred on each box, ``context`` of its longer side added on every side (edges replicated
    past the frame; a box wholly outside the frame gives a grey crop), resized to ``size_hw``: what the crop
    classifier sees, in training and at run time."""
    out = []
    h, w = image.shape[:2]
    for x1, y1, x2, y2 in np.asarray(xyxy, np.float32).reshape(-1, 4):
        side = max(x2 - x1, y2 - y1) * (1 + 2 * context)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        a, b = round(cx - side / 2), round(cy - side / 2)
        s = max(2, round(side))
        inside = image[min(max(b, 0), h):min(max(b + s, 0), h), min(max(a, 0), w):min(max(a + s, 0), w)]
        if not inside.size:  # a box wholly outside the frame: nothing to see, grey as the detector's padding
            out.append(np.full((*size_hw, *image.shape[2:]), 114, image.dtype))
            continue
        crop = cv2.copyMakeBorder(inside, max(-b, 0), max(b + s - h, 0), max(-a, 0), max(a + s - w, 0),
                                  cv2.BORDER_REPLICATE)
        out.append(cv2.resize(crop, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_AREA))
    return out


class CropClassifier:
    """An ultralytics classification export: sign crop → class (RTSD label with value) and probability.

    Args:
        path: the ONNX file (input (N, 3, S, S) RGB in [0, 1], output (N, classes) probabilities).
        context: extra margin around each box, as a fraction of its size (the classifier was trained so); several
            margins average the classifier's probabilities over crops of each (a box a few pixels off on a small
            sign is then read from more than one framing).
        threads: ONNX Runtime intra-op threads.
    """

    def __init__(self, path: str | Path, context: float | tuple[float, ...] = 0.1, threads: int | None = None
                 ) -> None:
        self.path = Path(path)
        self.session = _session(self.path, threads)
        self.metadata = _metadata(self.session)
        self.size = _input_hw(self.session, self.metadata)
        self.labels = _names(self.metadata, self.session.get_outputs()[0].shape[-1])
        self.contexts = tuple(float(c) for c in context) if isinstance(context, (tuple, list)) else (float(context),)
        batch = self.session.get_inputs()[0].shape[0]
        self._batch = batch if isinstance(batch, int) else 32
        self._input_name = self.session.get_inputs()[0].name

    def crops(self, image: np.ndarray, xyxy: np.ndarray, context: float | None = None) -> list[np.ndarray]:
        """Square crops with context (default: the first of ``contexts``) around each box, at the classifier's
        input size."""
        return square_crops(image, xyxy, self.size, self.contexts[0] if context is None else context)

    def classify(self, image: np.ndarray, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(class index (N,), probability (N,)) for each box of a BGR frame, probabilities averaged over the
        crops of every context."""
        probs = self.probabilities(image, xyxy)
        return probs.argmax(axis=1), probs.max(axis=1).astype(np.float32)

    def probabilities(self, image: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        """(N, classes) probabilities for each box of a BGR frame, averaged over the crops of every context."""
        xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
        if not len(xyxy):
            return np.zeros((0, len(self.labels)), np.float32)
        return sum(self._probabilities(self.crops(image, xyxy, c)) for c in self.contexts) / len(self.contexts)

    def _probabilities(self, crops: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([self.session.run(None, {self._input_name: _to_blob(crops[i:i + self._batch])})[0]
                               for i in range(0, len(crops), self._batch)])


EXPERT_READ_MIN_PX = 24.0
"""On a frame the expert takes (dark or murky), signs narrower than this are not read yet: there the value reader
took a faint 7 for a 1 at 20-22 px, sure of it, and a 70 was said as 10 before the correction
(``benchmarks/README.md``, "On dark and murky frames, signs are read from 24 px"). 24 px is the width from which the
reader is held to its target (issue 15), and from which plates are read (``Announcer.plate_value_min_width_px``)."""


MARKER_MIN_ASPECT = 2.0
"""On a frame the expert does not take, a box the first classifier drops that is at least this many times as tall as
wide goes to the expert, and is kept when the expert calls it an obstacle marker (8.22.x, 3.4 times as tall as
wide; the first classifier has no row for them)."""


class TwoStageDetector:
    """Boxes from a sign detector, the sign's kind from a crop classifier, its number from a value reader.

    ``confidence`` is the detector's score times the classifier's probability of the kind; crops the classifier
    calls background are dropped, which removes many of the detector's false alarms on real clutter. The
    classifier's value classes (``3_24_n60``…) are summed into kinds (``3_24``: see :mod:`astute_cli.values`),
    so ``labels`` are kinds and the number is in ``Detections.value``: read by ``reader`` on the boxes of valued
    kinds (whose printed unit may change the kind, never to a speed limit from a "т" or "м"), or, without a
    reader, the classifier's most probable value class of the kind.

    An ``expert``, a second classifier trained wider (on streets under conditions, and on plates printing any
    distance), takes every box of a frame that ``expert_frames`` flags (default: one that does not look like clear
    daylight, :func:`astute_cli.daylight.looks_unlike_daylight`); on other frames it names the kind of every plate
    the first classifier finds, and of two kinds of box the first classifier dropped: one under a sign (kept if it is
    a plate to the expert) and one standing tall and narrow (kept if it is an obstacle marker to the expert). Its
    labels the first classifier lacks are added to the label space.

    An optional ``keeper``, a classifier trained on crops mined under conditions and from near, cut and touching
    signs, takes a second look at the boxes the first classifier calls background on the frames the expert does not
    take: a box it calls a sign with probability ``keeper_gate`` or more is kept, under the first classifier's
    likeliest kind that is not background (the first classifier names kinds better on real frames). No bundled
    model names one: cls-v11 as a keeper finds more signs under conditions but keeps real clutter
    (benchmarks/experiments/keeper-v1).
    """

    def __init__(self, detector: OnnxDetector, classifier: CropClassifier, min_confidence: float = 0.0,
                 plates_need_sign: bool = True, reader: Reader | None = None, expert: CropClassifier | None = None,
                 expert_frames: Callable[[np.ndarray], bool] = looks_unlike_daylight,
                 keeper: CropClassifier | None = None, keeper_gate: float = 0.5,
                 expert_read_min_px: float = EXPERT_READ_MIN_PX, marker_min_aspect: float = MARKER_MIN_ASPECT) -> None:
        self.detector, self.classifier, self.reader, self.expert = detector, classifier, reader, expert
        self.expert_read_min_px, self.marker_min_aspect = expert_read_min_px, marker_min_aspect
        self.expert_frames = expert_frames
        self.keeper, self.keeper_gate = keeper, keeper_gate
        self.scan_expert: bool | None = None
        """Whether the last :meth:`detect` handed its frame to the expert (None before the first)."""
        names = list(classifier.labels)
        if expert is not None:  # one label space for both: the expert's labels the first classifier lacks appended
            names += [label for label in expert.labels if label not in set(classifier.labels)]
        self._projections = {"classifier": _projection(classifier.labels, names),
                             "expert": None if expert is None else _projection(expert.labels, names)}
        self.kind_map = KindMap(names)
        self.labels = self.kind_map.kinds
        self.min_confidence = min_confidence
        self.plates_need_sign = plates_need_sign
        self._background = np.array([label in BACKGROUND_LABELS for label in self.labels])
        self._plate = np.array([is_mounted_plate(label) for label in self.labels])
        self._place_name = np.array([is_place_name_sign(label) for label in self.labels])
        self._marker = np.array([is_obstacle_marker(label) for label in self.labels])
        self._valued = np.array([label not in BACKGROUND_LABELS and is_valued(label) for label in self.labels])

    def detect(self, image: np.ndarray, far_only: bool = False) -> Detections:
        self.scan_expert = expert = self.expert_for(image)  # asked of the frame as it is, before it is lifted
        seen = self.detector.seen(image)  # lifted once here; the lifted frame is not hazy, so not lifted again
        return self.describe_kept(seen, self.detector.detect(seen, far_only), expert)[0]

    def far_pass_finds(self, xyxy: np.ndarray, frame_wh: tuple[int, int]) -> np.ndarray:
        """(N,) bool: whether ``detect(far_only=True)`` can find each box (:meth:`OnnxDetector.far_pass_finds`)."""
        return self.detector.far_pass_finds(xyxy, frame_wh)

    def detect_around(self, image: np.ndarray, xyxy: np.ndarray) -> Detections:
        """Signs near given boxes (:meth:`OnnxDetector.detect_around`), described as :meth:`detect` does; the
        expert takes them if it took the last scan's frame."""
        seen = self.detector.seen(image)
        return self.describe_kept(seen, self.detector.detect_around(seen, xyxy))[0]

    def expert_for(self, image: np.ndarray) -> bool:
        """Whether every box of this frame goes to the expert classifier (there is one and the frame does not look
        like clear daylight: ``expert_frames``)."""
        return self.expert is not None and self.expert_frames(image)

    def describe(self, image: np.ndarray, boxes: Detections) -> Detections:
        """Kind and value of given sign boxes (their ``confidence`` the detector's score); the boxes the
        classifier calls background, lone plates and weak boxes are dropped."""
        return self.describe_kept(image, boxes)[0]

    def describe_kept(self, image: np.ndarray, boxes: Detections, expert: bool | None = None
                      ) -> tuple[Detections, np.ndarray]:
        """:meth:`describe`, and which of the boxes it kept ((N,) bool), so that their track ids can follow.
        ``expert``: whether the expert classifier takes every box (None: as the last :meth:`detect` decided, so that
        the frames between two scans cost no second look at the light; before any scan, :meth:`expert_for` this
        frame)."""
        if not len(boxes):
            return Detections.empty(), np.zeros(0, bool)
        if expert is None:
            expert = self.scan_expert if self.scan_expert is not None else self.expert_for(image)
        whole_frame = expert and self.expert is not None
        image = self.detector.seen(image)
        label_probs = self._probabilities("expert" if whole_frame else "classifier", image, boxes.xyxy)
        kind_probs = self.kind_map.collapse(label_probs)
        class_id = kind_probs.argmax(axis=1)
        confidence = boxes.confidence * kind_probs.max(axis=1)
        keep = ~self._background[class_id]
        self._plates_not_towns(boxes.xyxy, class_id, kind_probs, keep)
        if self.keeper is not None and not whole_frame:
            self._second_look(image, boxes, class_id, kind_probs, keep, confidence)
        if self.expert is not None and not whole_frame:
            self._second_look_by_expert(image, boxes, class_id, label_probs, keep, confidence)
            kind_probs = self.kind_map.collapse(label_probs)
        if self.plates_need_sign:
            keep[keep] = plates_under_signs(boxes.xyxy[keep], self._plate[class_id[keep]])
        keep &= confidence >= self.min_confidence
        class_id, kind_probs, label_probs = class_id[keep], kind_probs[keep], label_probs[keep]
        value, value_conf = self._read(image, boxes.xyxy[keep], class_id, kind_probs, label_probs,
                                       min_width=self.expert_read_min_px if whole_frame else 0.0)
        return Detections(boxes.xyxy[keep], confidence[keep], class_id, value=value, value_confidence=value_conf), keep

    def _probabilities(self, which: str, image: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        """(N, labels) probabilities of the ``"classifier"`` or the ``"expert"``, in the detector's label space."""
        return getattr(self, which).probabilities(image, xyxy) @ self._projections[which]

    def _second_look(self, image: np.ndarray, boxes: Detections, class_id: np.ndarray, kind_probs: np.ndarray,
                     keep: np.ndarray, confidence: np.ndarray) -> None:
        """The keeper looks again at the boxes the first classifier dropped (``class_id``, ``keep`` and
        ``confidence`` in place): one it calls a sign takes the first classifier's likeliest kind that is not
        background, its confidence the detector's score times the keeper's probability of a sign."""
        rows = np.flatnonzero(~keep)
        if not len(rows):
            return
        probs = self.keeper.probabilities(image, boxes.xyxy[rows])
        sign = 1.0 - probs[:, [label in BACKGROUND_LABELS for label in self.keeper.labels]].sum(axis=1)
        named = np.where(self._background, -1.0, kind_probs[rows]).argmax(axis=1)
        for k in np.flatnonzero(sign >= self.keeper_gate):
            class_id[rows[k]], keep[rows[k]] = named[k], True
            confidence[rows[k]] = boxes.confidence[rows[k]] * sign[k]

    def _second_look_by_expert(self, image: np.ndarray, boxes: Detections, class_id: np.ndarray,
                               label_probs: np.ndarray, keep: np.ndarray, confidence: np.ndarray) -> None:
        """The expert names the plates and looks again at two kinds of box the first classifier dropped
        (``class_id``, ``label_probs``, ``keep`` and ``confidence`` in place). The first classifier tells a plate
        from a sign, the expert, trained on plates printing any distance, which plate it is; a box hanging under a
        kept sign is kept when the expert calls it a plate (a plate printing a distance the first classifier never
        saw is background to it, half the time); a box ``marker_min_aspect`` times as tall as wide is kept when the
        expert calls it an obstacle marker (the first classifier has no row for them)."""
        plate = keep & self._plate[class_id]
        sign = keep & ~plate
        under = ~keep & plates_under_signs(boxes.xyxy, ~sign)  # hanging under a kept sign (GOST's mounting)
        width, height = boxes.xyxy[:, 2] - boxes.xyxy[:, 0], boxes.xyxy[:, 3] - boxes.xyxy[:, 1]
        tall = ~keep & ~under & (height >= self.marker_min_aspect * width) & self._marker.any()
        rows = np.flatnonzero(plate | under | tall)
        if not len(rows):
            return
        probs = self._probabilities("expert", image, boxes.xyxy[rows])
        kinds = self.kind_map.collapse(probs)
        plates = np.flatnonzero(self._plate)
        named = plates[kinds[:, plates].argmax(axis=1)] if len(plates) else np.full(len(rows), -1)
        for k, row in enumerate(rows):
            likeliest = int(kinds[k].argmax())
            if plate[row]:
                class_id[row], label_probs[row] = named[k], probs[k]
            elif (under[row] and self._plate[likeliest]) or (tall[row] and self._marker[likeliest]):
                class_id[row], label_probs[row], keep[row] = likeliest, probs[k], True
                confidence[row] = boxes.confidence[row] * kinds[k, likeliest]

    def _plates_not_towns(self, xyxy: np.ndarray, class_id: np.ndarray, kind_probs: np.ndarray,
                          keep: np.ndarray) -> None:
        """A settlement sign's kind on a box hanging under another sign, as plates hang, is a white plate with black
        text (8.5.x times, 8.13, 8.2.x…): it takes the likeliest plate kind instead (``class_id`` in place). A town
        sign is never mounted under another sign, and saying one there would set the town's limit."""
        named = keep & self._place_name[class_id]
        if not named.any() or not self._plate.any():
            return
        rows = np.flatnonzero(keep)
        mounted = plates_under_signs(xyxy[rows], named[rows] | self._plate[class_id[rows]])  # plate-like: under a sign
        for row in rows[named[rows] & mounted]:
            class_id[row] = int(np.flatnonzero(self._plate)[kind_probs[row, self._plate].argmax()])

    def _read(self, image: np.ndarray, xyxy: np.ndarray, class_id: np.ndarray, kind_probs: np.ndarray,
              label_probs: np.ndarray, min_width: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Values (catalogue units, NaN for none) and their confidences; ``class_id`` is updated in place where
        the reading's unit rules the classifier's kind out. Signs the reader reads that are narrower than
        ``min_width`` px are not read (NaN): their number waits until they are nearer."""
        value, confidence = np.full(len(class_id), np.nan, np.float32), np.zeros(len(class_id), np.float32)
        rows = np.flatnonzero(self._valued[class_id])
        if not len(rows):
            return value, confidence
        if self.reader is None:
            value[rows], confidence[rows] = self.kind_map.label_values(label_probs[rows], class_id[rows])
            return value, confidence
        read = np.array([reader_reads(self.labels[k]) for k in class_id[rows]], bool)
        if not read.all():  # kinds the reader does not read keep the classifier's value class
            value[rows[~read]], confidence[rows[~read]] = self.kind_map.label_values(label_probs[rows[~read]],
                                                                                     class_id[rows[~read]])
            rows = rows[read]
        rows = rows[xyxy[rows, 2] - xyxy[rows, 0] >= min_width]
        readings = self.reader.read(image, xyxy[rows], [self.labels[k] for k in class_id[rows]]) if len(rows) else []
        moved = []
        for row, reading in zip(rows, readings, strict=True):
            kind = choose_kind(kind_probs[row], self.labels, reading)
            if kind != class_id[row] and reader_reads(self.labels[kind]):
                moved.append(row)  # read again where the new kind prints its value
            class_id[row] = kind
            number = number_for(self.labels[kind], reading)
            if number is not None:
                value[row], confidence[row] = number, reading.confidence
        if moved:
            again = self.reader.read(image, xyxy[moved], [self.labels[k] for k in class_id[moved]])
            for row, reading in zip(moved, again, strict=True):
                number = number_for(self.labels[class_id[row]], reading)
                if number is not None:
                    value[row], confidence[row] = number, reading.confidence
        return value, confidence


def _projection(labels: list[str], names: list[str]) -> np.ndarray:
    """(labels, names) 0/1: each of a classifier's labels onto the same name in the detector's label space."""
    out = np.zeros((len(labels), len(names)), np.float32)
    out[np.arange(len(labels)), [names.index(label) for label in labels]] = 1.0
    return out


def plates_under_signs(xyxy: np.ndarray, is_plate: np.ndarray, max_gap: float = 1.0, max_offset: float = 0.75
                       ) -> np.ndarray:
    """Keep mask: every box that is not a plate, and each plate hanging under a sign (or under a plate that
    does), as GOST mounts them: the plate's top at most ``max_gap`` sign heights below the sign's bottom, its
    centre at most ``max_offset`` of the wider box's width to the side. A lone plate-shaped box with no sign
    above it is road clutter (a shop sign, a number plate, a billboard) far more often than a plate whose
    sign was missed."""
    keep = ~np.asarray(is_plate, bool)
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    changed = True
    while changed:  # a plate under a kept plate is kept too (signs with two plates)
        changed = False
        for i in np.flatnonzero(~keep):
            parents = xyxy[keep]
            if not len(parents):
                break
            height = parents[:, 3] - parents[:, 1]
            gap = xyxy[i, 1] - parents[:, 3]
            offset = np.abs((xyxy[i, 0] + xyxy[i, 2]) - (parents[:, 0] + parents[:, 2])) / 2
            wider = np.maximum(xyxy[i, 2] - xyxy[i, 0], parents[:, 2] - parents[:, 0])
            if np.any((gap >= -0.5 * height) & (gap <= max_gap * height) & (parents[:, 1] < xyxy[i, 1])
                      & (offset <= max_offset * wider)):
                keep[i] = changed = True
    return keep


def load_detector(path: str | Path | None = None, conf: float | None = None, threads: int | None = None,
                  reader: str | Path | bool | None = None, expert: str | Path | bool | None = None,
                  keeper: str | Path | bool | None = None, **kwargs) -> OnnxDetector | TwoStageDetector:
    """The detector of an ONNX file (default: the bundled model); two-stage when its metadata names a
    classifier (``astute_classifier``, a file beside it; ``astute_contexts``: its crop margins, default 0.1).
    ``conf`` defaults to the model's ``astute_conf``. A two-stage detector reads values with ``reader`` (a
    reader ONNX file; None: the file the metadata's ``astute_reader`` names beside the model (``none``: no
    reader), else the bundled ``READER_MODEL`` when it exists; False: no reader, values from the classifier's
    value classes), and asks an ``expert`` classifier for plates and for frames unlike daylight (a classifier
    ONNX file; None or True: the file the metadata's ``astute_expert`` names beside the model, if any; False:
    none), and a ``keeper`` for a second look at the boxes the classifier drops (the same, ``astute_keeper``; it
    keeps a box from ``astute_keeper_gate``, default 0.5)."""
    path = Path(path) if path is not None else DEFAULT_MODEL
    threads = threads or env_threads()
    detector = OnnxDetector(path, threads=threads, **kwargs)
    if conf is None:
        conf = float(detector.metadata.get("astute_conf", 0.25))
    detector.conf = conf
    name = detector.metadata.get("astute_classifier")
    if not name:
        return detector
    contexts = parse_contexts(detector.metadata.get("astute_contexts", "0.1"))
    expert, keeper = (_companion(path, detector.metadata, key, given)
                      for key, given in (("astute_expert", expert), ("astute_keeper", keeper)))
    return TwoStageDetector(detector, CropClassifier(path.parent / name, contexts, threads=threads),
                            float(detector.metadata.get("astute_min_confidence", 0.0)),
                            reader=load_reader(reader_path(path, detector.metadata, reader), threads),
                            expert=CropClassifier(expert, contexts, threads=threads) if expert else None,
                            keeper=CropClassifier(keeper, contexts, threads=threads) if keeper else None,
                            keeper_gate=_keeper_gate(path, detector.metadata))


def _keeper_gate(model: Path, metadata: dict[str, str]) -> float:
    text = metadata.get("astute_keeper_gate", "0.5")
    try:
        gate = float(text)
    except ValueError:
        gate = float("nan")
    if not 0 < gate <= 1:
        raise ValueError(f"Model {str(model)!r} has a bad astute_keeper_gate {text!r}: a probability in (0, 1]")
    return gate


def _companion(model: Path, metadata: dict[str, str], key: str, given: str | Path | bool | None) -> Path | None:
    """The second classifier a loader was ``given`` (a file; False: none), or by default (None or True) the file
    the metadata's ``key`` names beside the model, if any."""
    if given is None or given is True:
        return model.parent / metadata[key] if metadata.get(key) else None
    return Path(given) if given else None


def reader_path(model: Path, metadata: dict[str, str], reader: str | Path | bool | None) -> Path | None:
    """Which value reader a model uses (see :func:`load_detector`), or None for none."""
    if reader is False:
        return None
    if reader is not None and reader is not True:
        return Path(reader)
    named = metadata.get("astute_reader")
    if named == "none":  # the model's classes carry the values; no reader
        return None
    if named:
        return model.parent / named
    return READER_MODEL if READER_MODEL.is_file() or reader is True else None


def load_reader(path: Path | None, threads: int | None = None) -> Reader | None:
    """The value reader of an ONNX file (imported only when there is one), or None.

    Raises:
        ValueError: the file is missing or cannot be loaded.
    """
    if path is None:
        return None
    if not Path(path).is_file():
        raise ValueError(f"Cannot load value reader {str(path)!r}: no such file")
    try:
        from astute_cli.reader import ValueReader
    except ImportError as error:
        raise ValueError(f"Cannot load value reader {str(path)!r}: {error}") from None
    return ValueReader(path, threads)


def env_threads() -> int | None:
    """The CPU threads ``ASTUTE_THREADS`` asks for (None when unset: ONNX Runtime's own choice)."""
    value = os.environ.get("ASTUTE_THREADS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"ASTUTE_THREADS must be a whole number of CPU threads, 1 or more; it is {value!r}")
    return int(value)

