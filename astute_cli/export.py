"""Export trained models to ONNX, stamp Astute's metadata on them, quantize them to INT8 and check the result.

``export_onnx`` needs the ``train`` extra (ultralytics, imported lazily); everything else needs only
onnx and onnxruntime, so an ONNX model can be quantized on a machine without torch::

    from astute_cli.export import export_onnx, quantize_int8, self_check

    onnx_path = export_onnx("best.pt", "detector.onnx", imgsz=640, metadata={"astute_classifier": "classifier.onnx"})
    int8 = quantize_int8(onnx_path, "detector.int8.onnx", calib_dir="frames/")
    print(self_check(onnx_path, int8, images).table())
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
# Which classifier classes carry a value, and its unit (RTSD names: 3_24_n60 = speed limit 60, 3_13_r4.5 = 4.5 m).
VALUE_UNITS = {"3_24": "km/h", "3_25": "km/h", "4_6": "km/h", "6_2": "km/h", "3_11": "t", "3_12": "t",
               "3_13": "m", "3_14": "m", "3_15": "m", "3_16": "m"}
_VALUE_NAME = re.compile(r"^(?P<code>.+?)_(?P<kind>[nr])(?P<value>\d+(?:[.,]\d+)?)$")


# --- metadata ---


def read_metadata(path: str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file as a dict (ultralytics' names/imgsz/stride and Astute's keys)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def write_metadata(path: str | Path, metadata: dict[str, Any], out: str | Path | None = None) -> Path:
    """Add or replace metadata keys (values that are not strings are written as JSON) and save atomically."""
    import onnx

    out = Path(out or path)
    model = onnx.load(str(path))
    _set_props(model, metadata)
    return _save_atomic(model, out)


def _set_props(model: Any, metadata: dict[str, Any]) -> None:
    props = {p.key: p.value for p in model.metadata_props}
    props |= {k: v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items() if v is not None}
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def _save_atomic(model: Any, out: Path) -> Path:
    import onnx

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(out)
    try:
        onnx.save(model, str(tmp))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _temp_path(out: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".tmp.onnx", dir=out.parent)
    os.close(fd)
    return Path(name)


def value_semantics(names: Iterable[str]) -> dict[str, Any]:
    """The ``astute_values`` JSON: for each class name with a value (``3_24_n60``), its sign code, value and unit.

    ``n`` names hold whole numbers, ``r`` names decimals (``3_13_r4.5`` = 4.5 m), as in RTSD's full-gt classes.
    """
    classes = {}
    for name in names:
        match = _VALUE_NAME.match(name)
        if match is None:
            continue
        code = match["code"]
        classes[name] = {"code": code, "value": float(match["value"].replace(",", ".")),
                         "unit": VALUE_UNITS.get(code, "")}
    return {"pattern": "<code>_n<int> | <code>_r<decimal>", "units": VALUE_UNITS, "classes": classes}


def astute_metadata(classifier: str | None = None, tile: int | None = None, roi: str | None = None,
                    names: Iterable[str] | None = None) -> dict[str, str]:
    """Astute's metadata keys, validated.

    Args:
        classifier: file name of the crop classifier beside this detector (the two-stage design).
        tile: native-resolution tile size in pixels the detector is run on.
        roi: ``"x1,y1,x2,y2"`` fractions of the frame where signs are searched.
        names: class names whose value semantics go into ``astute_values``.

    Raises:
        ValueError: a malformed ROI or tile.
    """
    meta: dict[str, str] = {}
    if classifier:
        meta["astute_classifier"] = Path(classifier).name
    if tile is not None:
        if tile <= 0 or tile % 32:
            raise ValueError(f"Tile must be a positive multiple of 32 pixels, got {tile}")
        meta["astute_tile"] = str(tile)
    if roi:
        parts = [float(v) for v in roi.split(",")] if re.fullmatch(r"[\d.,\s]+", roi) else []
        if len(parts) != 4 or not (0 <= parts[0] < parts[2] <= 1 and 0 <= parts[1] < parts[3] <= 1):
            raise ValueError(f"ROI must be 'x1,y1,x2,y2' fractions with x1<x2, y1<y2 in [0, 1], got {roi!r}")
        meta["astute_roi"] = ",".join(f"{v:g}" for v in parts)
    if names is not None:
        meta["astute_values"] = json.dumps(value_semantics(names))
    return meta


# --- export ---


def export_onnx(pt_path: str | Path, out: str | Path, imgsz: int = 640, opset: int = 17,
                metadata: dict[str, Any] | None = None, simplify: bool = True) -> Path:
    """Export ultralytics weights to ONNX (static input, NCHW float 0..1 RGB) and add Astute's metadata.

    Args:
        pt_path: ``best.pt`` of a detector or classifier.
        out: the ONNX file to write; nothing is left there when the export fails.
        imgsz: input size; a detector is fully convolutional, so 640 serves 640x640 native tiles
            even when it was trained on 320 crops.
        opset: ONNX opset.
        metadata: extra ``metadata_props`` (see :func:`astute_metadata`); class names' value semantics
            are added for classifiers automatically.
        simplify: run onnxslim.

    Raises:
        ValueError: ``pt_path`` is missing or not a ``.pt`` file.
        RuntimeError: the train extra is missing or ultralytics fails.
    """
    pt_path, out = Path(pt_path), Path(out)
    if pt_path.suffix != ".pt" or not pt_path.is_file():
        raise ValueError(f"Not a PyTorch weights file (.pt): {str(pt_path)!r}")
    from astute_cli.train import import_ultralytics

    ultralytics = import_ultralytics()
    with tempfile.TemporaryDirectory(prefix="astute-export-") as work:
        local = Path(work) / pt_path.name
        shutil.copy2(pt_path, local)  # ultralytics writes beside the weights: keep that out of the user's folders
        try:
            yolo = ultralytics.YOLO(str(local))
            exported = Path(yolo.export(format="onnx", imgsz=imgsz, opset=opset, simplify=simplify, dynamic=False,
                                        device="cpu"))
        except Exception as error:  # ultralytics raises bare Exceptions of many kinds
            raise RuntimeError(f"ONNX export of {pt_path} failed: {error}") from error
        import onnx

        model = onnx.load(str(exported))
        meta = dict(metadata or {})
        if yolo.task == "classify" and "astute_values" not in meta:
            meta["astute_values"] = json.dumps(value_semantics(yolo.names.values()))
        _set_props(model, meta | {"astute_source": pt_path.name})
        return _save_atomic(model, out)


# --- INT8 ---


def input_shape(onnx_path: str | Path, imgsz: int = 640) -> tuple[str, int, int]:
    """Name, height and width of a model's single image input (``imgsz`` where the size is dynamic)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    first = session.get_inputs()[0]
    shape = first.shape
    height = shape[2] if len(shape) == 4 and isinstance(shape[2], int) else imgsz
    width = shape[3] if len(shape) == 4 and isinstance(shape[3], int) else imgsz
    return first.name, height, width


def tail_nodes(model: Any) -> list[str]:
    """Names of the nodes that must stay FP32: the decode tail between the last convolutions and the outputs.

    Walks back from the graph outputs through every node that is not a convolution or matrix product
    (ultralytics' box decode: concat, split, softmax, dist2bbox arithmetic, sigmoid, final concat),
    and through the DFL's fixed 1x1 convolution. Quantizing that tail puts box pixels (0..640) and class
    scores (0..1) on one INT8 scale, which measured mAP50=0 on yolov8n.
    """
    producer = {out: node for node in model.graph.node for out in node.output}
    heavy = {"Conv", "ConvTranspose", "Gemm", "MatMul"}
    tail, stack, seen = [], [o.name for o in model.graph.output], set()
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.op_type in heavy and "dfl" not in node.name.lower():
            continue
        tail.append(node.name)
        stack.extend(node.input)
    return [name for name in tail if name]


class _ImageReader:
    """onnxruntime CalibrationDataReader over preprocessed images."""

    def __init__(self, input_name: str, batches: list[np.ndarray]) -> None:
        self._items = iter([{input_name: b} for b in batches])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._items, None)


def quantize_int8(onnx_in: str | Path, onnx_out: str | Path, calib_dir: str | Path | None = None,
                  exclude_tail: bool = True, n_calib: int = 64, per_channel: bool = True,
                  nodes_to_exclude: list[str] | None = None, seed: int = 0) -> Path:
    """Static INT8 quantization (QDQ, per-channel weights, MinMax calibration), metadata kept.

    Args:
        onnx_in: the FP32 model.
        onnx_out: where the INT8 model goes; nothing is left there on failure.
        calib_dir: folder of calibration images [default: synthetic frames from ``astute_cli.synth``].
        exclude_tail: keep :func:`tail_nodes` in FP32 (needed for detectors).
        n_calib: calibration images used; more is slower and steadier.
        per_channel: per-channel weight scales (better accuracy, same speed).
        nodes_to_exclude: more node names to keep in FP32.
        seed: picks the crops of large calibration frames.

    Raises:
        ValueError: not an ONNX model, or no calibration images.
    """
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    onnx_in, onnx_out = Path(onnx_in), Path(onnx_out)
    model = load_onnx(onnx_in)
    name, height, width = input_shape(onnx_in)
    images = calibration_images(calib_dir, n_calib, seed=seed)
    batches = [preprocess(image, (height, width), seed=seed + i) for i, image in enumerate(images)]
    exclude = list(nodes_to_exclude or []) + (tail_nodes(model) if exclude_tail else [])
    onnx_out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_path(onnx_out)
    try:
        quantize_static(str(onnx_in), str(tmp), _ImageReader(name, batches), quant_format=QuantFormat.QDQ,
                        per_channel=per_channel, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        nodes_to_exclude=exclude, calibrate_method=CalibrationMethod.MinMax)
        quantized = onnx.load(str(tmp))
        _set_props(quantized, {p.key: p.value for p in model.metadata_props} | {"astute_int8": "1"})
        return _save_atomic(quantized, onnx_out)
    finally:
        tmp.unlink(missing_ok=True)


def load_onnx(path: str | Path) -> Any:
    """The ONNX model at ``path``; ``ValueError`` when it is missing or not ONNX."""
    import onnx

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"No such model file: {str(path)!r}")
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as error:  # onnx raises DecodeError, ValidationError, ...
        raise ValueError(f"Not a valid ONNX model: {str(path)!r} ({type(error).__name__})") from error
    return model


def calibration_images(calib_dir: str | Path | None, n: int = 64, seed: int = 0) -> list[np.ndarray]:
    """Up to ``n`` BGR images: from ``calib_dir`` (sorted, evenly spaced) or synthetic frames.

    Raises:
        ValueError: the folder is missing or holds no readable image.
    """
    if calib_dir is None:
        return synthetic_frames(n, seed)
    folder = Path(calib_dir)
    if not folder.is_dir():
        raise ValueError(f"Calibration folder does not exist: {str(folder)!r}")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(paths) > n:
        paths = [paths[i] for i in np.linspace(0, len(paths) - 1, n).astype(int)]
    images = [image for image in (cv2.imread(str(p)) for p in paths) if image is not None]
    if not images:
        raise ValueError(f"No readable images in the calibration folder {str(folder)!r}")
    return images


def synthetic_frames(n: int = 64, seed: int = 0) -> list[np.ndarray]:
    """``n`` synthetic 1280x720 dashcam frames with signs, from ``astute_cli.synth`` (seed apart from training's)."""
    try:
        from astute_cli.synth.dataset import DetectorSpec, detector_item
    except ImportError as error:
        raise ValueError("No synthetic frame generator available: pass a calibration folder (--calib DIR)") \
            from error
    spec = DetectorSpec(n=n, seed=10_000 + seed, full_frames=True)
    return [detector_item(spec, index)[0] for index in range(n)]


def preprocess(image: np.ndarray, size_hw: tuple[int, int], seed: int = 0) -> np.ndarray:
    """(1, 3, H, W) float32 RGB 0..1 input.

    Frames much larger than the input (a dashcam frame for a 640 detector) give a native-resolution crop
    from the upper middle, where signs are, as the detector sees them at run time; others are resized.
    """
    height, width = size_hw
    h, w = image.shape[:2]
    if h >= 1.5 * height or w >= 1.5 * width:
        rng = np.random.default_rng(seed)
        canvas = np.full((max(h, height), max(w, width), 3), 114, np.uint8)
        canvas[:h, :w] = image
        y0 = int(rng.integers(0, max(1, min(h // 3, canvas.shape[0] - height) + 1)))
        x0 = int(rng.integers(0, canvas.shape[1] - width + 1))
        image = canvas[y0:y0 + height, x0:x0 + width]
    else:
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])


# --- self-check ---


@dataclass
class ModelReport:
    """Size, speed and quality of one model on the check images."""

    path: str
    size_mb: float
    latency_ms: float
    agreement: float  # detector: F1 of its boxes against the reference's; classifier: top-1 agreement
    score_r: float = 1.0  # Pearson correlation of its class scores with the reference's, over all outputs


@dataclass
class CheckResult:
    """FP32 and exported model side by side."""

    reference: ModelReport
    candidate: ModelReport
    kind: str
    images: int

    @property
    def loss(self) -> float:
        """How much agreement the candidate lost against the reference (0 = identical answers)."""
        return self.reference.agreement - self.candidate.agreement

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "images": self.images, "loss": self.loss,
                "reference": asdict(self.reference), "candidate": asdict(self.candidate)}

    def table(self) -> Any:
        from rich.table import Table

        what = {"detect": "box F1 vs FP32", "classify": "top-1 agreement"}.get(self.kind, "output agreement")
        table = Table(title=f"self-check on {self.images} images ({self.kind})")
        for column in ("model", "size, MB", "latency, ms", what, "score r"):
            table.add_column(column)
        for report in (self.reference, self.candidate):
            table.add_row(Path(report.path).name, f"{report.size_mb:.2f}", f"{report.latency_ms:.1f}",
                          f"{report.agreement:.3f}", f"{report.score_r:.3f}")
        return table


def self_check(reference: str | Path, candidate: str | Path, images: list[np.ndarray], conf: float = 0.25,
               iou: float = 0.5, threads: int | None = None) -> CheckResult:
    """Run both models on the same images and compare the candidate's answers with the reference's.

    The reference agrees with itself (1.0); the candidate's agreement is the F1 of its boxes matched to
    the reference's at ``iou`` (detectors, output (1, 4+C, N)), its top-1 agreement (classifiers, (1, C)),
    or the share of images whose outputs have cosine similarity above 0.99 (anything else).
    """
    run_ref, run_cand = _session(reference, threads), _session(candidate, threads)
    name, height, width = input_shape(reference)
    inputs = [preprocess(image, (height, width), seed=i) for i, image in enumerate(images)]
    ref_out, ref_ms = _run_all(run_ref, name, inputs)
    cand_out, cand_ms = _run_all(run_cand, name, inputs)
    kind = _output_kind(ref_out[0])
    scores = [_agreement(kind, a, b, conf, iou) for a, b in zip(ref_out, cand_out, strict=True)]
    agreement = float(np.mean(scores)) if scores else 1.0
    score_r = _score_correlation(kind, ref_out, cand_out)
    return CheckResult(_report(reference, ref_ms, 1.0), _report(candidate, cand_ms, agreement, score_r), kind,
                       len(inputs))


def _score_correlation(kind: str, ref: list[np.ndarray], cand: list[np.ndarray]) -> float:
    # Box F1 is 1.0 when neither model finds anything; the score correlation still shows drift.
    pick = (lambda o: o[:, 4:]) if kind == "detect" else (lambda o: o)
    a = np.concatenate([pick(o).reshape(-1) for o in ref]).astype(np.float64)
    b = np.concatenate([pick(o).reshape(-1) for o in cand]).astype(np.float64)
    if a.std() < 1e-12 or b.std() < 1e-12:
        return float(np.allclose(a, b))
    return float(np.corrcoef(a, b)[0, 1])


def _session(path: str | Path, threads: int | None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _run_all(session: Any, name: str, inputs: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
    session.run(None, {name: inputs[0]})  # warm-up
    outputs, started = [], time.perf_counter()
    for x in inputs:
        outputs.append(session.run(None, {name: x})[0])
    return outputs, 1000 * (time.perf_counter() - started) / max(len(inputs), 1)


def _report(path: str | Path, latency_ms: float, agreement: float, score_r: float = 1.0) -> ModelReport:
    return ModelReport(str(path), Path(path).stat().st_size / 2**20, latency_ms, agreement, score_r)


def _output_kind(output: np.ndarray) -> str:
    if output.ndim == 3 and output.shape[0] == 1 and 5 <= output.shape[1] < output.shape[2]:
        return "detect"
    if output.ndim == 2:
        return "classify"
    return "tensor"


def _agreement(kind: str, ref: np.ndarray, cand: np.ndarray, conf: float, iou: float) -> float:
    if kind == "classify":
        return float(np.mean(ref.argmax(-1) == cand.argmax(-1)))
    if kind == "detect":
        return _box_f1(decode(ref, conf), decode(cand, conf), iou)
    a, b = ref.reshape(-1).astype(np.float64), cand.reshape(-1).astype(np.float64)
    cosine = a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12)
    return float(cosine > 0.99)


def decode(output: np.ndarray, conf: float = 0.25, iou: float = 0.5) -> np.ndarray:
    """(K, 6) x1 y1 x2 y2 score class of an ultralytics (1, 4+C, N) detector output, after NMS."""
    pred = output[0].T
    scores = pred[:, 4:].max(1)
    keep = scores >= conf
    if not keep.any():
        return np.zeros((0, 6), np.float32)
    pred, scores = pred[keep], scores[keep]
    cx, cy, w, h = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    index = cv2.dnn.NMSBoxes(np.stack([boxes[:, 0], boxes[:, 1], w, h], 1).tolist(), scores.tolist(), conf, iou)
    index = np.asarray(index, int).reshape(-1)
    classes = pred[index, 4:].argmax(1)
    return np.column_stack([boxes[index], scores[index], classes]).astype(np.float32)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of xyxy boxes."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def match_count(truth: np.ndarray, found: np.ndarray, iou: float = 0.5) -> int:
    """Greedy one-to-one matches between ``truth`` and ``found`` xyxy boxes at IoU >= ``iou``."""
    if not len(truth) or not len(found):
        return 0
    overlaps = box_iou(truth[:, :4], found[:, :4])
    matched = 0
    while overlaps.size and overlaps.max() >= iou:
        i, j = np.unravel_index(overlaps.argmax(), overlaps.shape)
        overlaps[i, :], overlaps[:, j] = -1, -1
        matched += 1
    return matched


def _box_f1(ref: np.ndarray, cand: np.ndarray, iou: float) -> float:
    if not len(ref) and not len(cand):
        return 1.0
    return 2 * match_count(ref, cand, iou) / (len(ref) + len(cand))


def export_and_check(model: str | Path, out: str | Path | None = None, imgsz: int = 640, int8: bool = False,
                     calib_dir: str | Path | None = None, opset: int = 17, tolerance: float = 0.05,
                     force: bool = False, metadata: dict[str, Any] | None = None,
                     n_check: int = 32) -> tuple[Path, CheckResult | None]:
    """What ``astute export`` does: .pt -> ONNX (-> INT8), metadata stamped, self-checked.

    Args:
        model: a ``.pt`` (needs the train extra) or a ``.onnx`` (for ``int8`` or re-stamping metadata).
        out: target [default: beside ``model``: ``<stem>.onnx`` or ``<stem>.int8.onnx``].
        tolerance: largest agreement an INT8 model may lose against its FP32 model; bigger accepts worse models.
        force: keep an INT8 model that loses more than ``tolerance``.

    Raises:
        ValueError: bad input, or an INT8 model that lost too much (and no file is left).
    """
    model = Path(model)
    if model.suffix not in (".pt", ".onnx") or not model.is_file():
        raise ValueError(f"Not a model file (.pt or .onnx): {str(model)!r}")
    default = model.with_suffix(".int8.onnx" if int8 else ".onnx")
    out = Path(out) if out else default
    if out.resolve() == model.resolve() and (int8 or model.suffix == ".pt"):
        raise ValueError(f"Output would overwrite the input model: {str(out)!r}")
    with tempfile.TemporaryDirectory(prefix="astute-export-") as work:
        fp32 = model
        if model.suffix == ".pt":
            fp32 = export_onnx(model, out if not int8 else Path(work) / "fp32.onnx", imgsz, opset, metadata)
        elif metadata:
            load_onnx(model)
            fp32 = write_metadata(model, metadata, out if not int8 else Path(work) / "fp32.onnx")
        else:
            load_onnx(model)
        if not int8:
            return fp32, None
        images = calibration_images(calib_dir, n_check * 3)
        calib_set, check_set = images[0::3] + images[1::3], images[2::3] or images
        calib_folder = Path(work) / "calib"
        calib_folder.mkdir()
        for i, image in enumerate(calib_set):
            cv2.imwrite(str(calib_folder / f"{i:04d}.png"), image)
        quantize_int8(fp32, out, calib_folder, n_calib=len(calib_set))
        result = self_check(fp32, out, check_set)
        if result.loss > tolerance and not force:
            out.unlink(missing_ok=True)
            raise ValueError(f"INT8 model lost {result.loss:.3f} agreement against FP32 (tolerance {tolerance}); "
                             "not written (--force keeps it)")
        return out, result


def iter_images(folder: str | Path) -> Iterator[Path]:
    """Image files under ``folder``, sorted."""
    yield from sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
