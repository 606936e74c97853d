"""Export trained models to ONNX, stamp Astute's metadata on them, quantize them to INT8 and check the result.

``export_onnx`` needs the ``train`` extra (ultralytics, imported lazily); everything else needs only
onnx and onnxruntime, so an ONNX model can be quantized on a machine without torch::

    from astute_cli.export import export_onnx, labelled_frames, quantize_int8, self_check

    onnx_path = export_onnx("best.pt", "detector.onnx", imgsz=640, metadata={"astute_classifier": "classifier.onnx"})
    int8 = quantize_int8(onnx_path, "detector.int8.onnx", calib_dir="frames/")
    print(self_check(onnx_path, int8, labelled_frames(100)).table())  # recall/precision vs exact labels
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from astute_cli import signs
from astute_cli.detector import (
    SIGN_ROI,
    letterbox,
    parse_contexts,
    parse_size,
    parse_zoom,
    tiles_for,
)
from astute_cli.eval.selfcheck import CHECK_SEED, CheckResult, labelled_frames, self_check
from astute_cli.files import atomic_path, iter_images

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
    """Write through a temporary file beside ``out``, then rename: readers never see half a model."""
    import onnx

    out.parent.mkdir(parents=True, exist_ok=True)
    with _temp_model(out) as tmp:
        onnx.save(model, str(tmp))
    return out


def _temp_model(out: Path):
    # a model is an ordinary file (mkstemp alone would make it 0600)
    return atomic_path(out, prefix=f".{out.stem}.", suffix=".tmp.onnx", ordinary_mode=True)


def value_semantics(names: Iterable[str]) -> dict[str, Any]:
    """The ``astute_values`` JSON: for each class name with a value (``3_24_n60``), its sign code, value and unit.

    ``n`` names hold whole numbers, ``r`` names decimals (``3_13_r4.5`` = 4.5 m), as in RTSD's full-gt classes.
    Units come from the sign catalogue; ``units`` lists the unit of each code among the classes.
    """
    classes = {}
    for name in names:
        code, value = signs.parse_label(name)
        if value is not None:
            classes[name] = {"code": code, "value": value, "unit": signs.value_unit(code) or ""}
    units = {entry["code"]: entry["unit"] for entry in classes.values() if entry["unit"]}
    return {"pattern": "<code>_n<int> | <code>_r<decimal>", "units": units, "classes": classes}


def astute_metadata(classifier: str | None = None, tile: int | str | None = None, roi: str | None = None,
                    names: Iterable[str] | None = None, zoom: str | None = None,
                    contexts: str | None = None) -> dict[str, str]:
    """Astute's metadata keys, validated.

    Args:
        classifier: file name of the crop classifier beside this detector (the two-stage design).
        tile: native-resolution tile size in pixels the detector is run on: N, or "WxH" (the model's input).
        roi: ``"x1,y1,x2,y2"`` fractions of the frame where signs are searched.
        names: class names whose value semantics go into ``astute_values``.
        zoom: the far-band pass (``astute_zoom``): ``"factor"`` or ``"x1,y1,x2,y2,factor"``; ``"0"`` records none.
        contexts: the crop classifier's margins (``astute_contexts``), e.g. ``"0.05,0.1,0.2"``: its probabilities
            are averaged over a crop of each.

    Raises:
        ValueError: a malformed ROI, tile, zoom or contexts.
    """
    meta: dict[str, str] = {}
    if classifier:
        meta["astute_classifier"] = Path(classifier).name
    if tile is not None:
        tw, th = parse_size(tile)
        if min(tw, th) <= 0 or tw % 32 or th % 32:
            raise ValueError(f"Tile must be N or WxH pixels, each a positive multiple of 32, got {tile}")
        meta["astute_tile"] = str(tw) if tw == th else f"{tw}x{th}"
    if roi:
        parts = [float(v) for v in roi.split(",")] if re.fullmatch(r"[\d.,\s]+", roi) else []
        if len(parts) != 4 or not (0 <= parts[0] < parts[2] <= 1 and 0 <= parts[1] < parts[3] <= 1):
            raise ValueError(f"ROI must be 'x1,y1,x2,y2' fractions with x1<x2, y1<y2 in [0, 1], got {roi!r}")
        meta["astute_roi"] = ",".join(f"{v:g}" for v in parts)
    if zoom is not None:
        parsed = parse_zoom(zoom)
        meta["astute_zoom"] = ",".join(f"{v:g}" for v in (*parsed[0], parsed[1])) if parsed else "0"
    if contexts is not None:
        meta["astute_contexts"] = ",".join(f"{v:g}" for v in parse_contexts(contexts))
    if names is not None:
        meta["astute_values"] = json.dumps(value_semantics(names))
    return meta


# --- export ---


def export_onnx(pt_path: str | Path, out: str | Path, imgsz: int | str | tuple[int, int] = 640, opset: int = 17,
                metadata: dict[str, Any] | None = None, simplify: bool = True) -> Path:
    """Export ultralytics weights to ONNX (static input, NCHW float 0..1 RGB) and add Astute's metadata.

    Args:
        pt_path: ``best.pt`` of a detector or classifier.
        out: the ONNX file to write; nothing is left there when the export fails.
        imgsz: input size, N or "WxH" (width × height); a detector is fully convolutional, so 640 serves
            640x640 native tiles even when it was trained on 320 crops, and "672x576" serves the two overlapping
            tiles of a 720p frame's sign band.
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
    width, height = parse_size(imgsz)
    from astute_cli.train import import_ultralytics

    ultralytics = import_ultralytics()
    with tempfile.TemporaryDirectory(prefix="astute-export-") as work:
        local = Path(work) / pt_path.name
        shutil.copy2(pt_path, local)  # ultralytics writes beside the weights: keep that out of the user's folders
        try:
            yolo = ultralytics.YOLO(str(local))
            exported = Path(yolo.export(format="onnx", imgsz=[height, width], opset=opset, simplify=simplify,
                                        dynamic=False, device="cpu"))
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
    return _walk_tail(model)[0]


def output_convs(model: Any) -> list[str]:
    """Names of the last convolutions, whose outputs feed :func:`tail_nodes` (a YOLO head's box and class
    logits): quantizing them puts every score of a tile on one 8-bit logit scale."""
    return _walk_tail(model)[1]


def _walk_tail(model: Any) -> tuple[list[str], list[str]]:
    producer = {out: node for node in model.graph.node for out in node.output}
    heavy = {"Conv", "ConvTranspose", "Gemm", "MatMul"}
    tail, last, stack, seen = [], [], [o.name for o in model.graph.output], set()
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.op_type in heavy and "dfl" not in node.name.lower():
            last.append(node.name)
            continue
        tail.append(node.name)
        stack.extend(node.input)
    return [name for name in tail if name], [name for name in last if name]


class _ImageReader:
    """onnxruntime CalibrationDataReader over preprocessed inputs, readable in slices (bounded memory)."""

    def __init__(self, input_name: str, batches: list[np.ndarray]) -> None:
        self._name, self._batches = input_name, batches
        self.set_range(0, len(batches))

    def __len__(self) -> int:
        return len(self._batches)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._items = iter(self._batches[start_index:end_index])

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self._items, None)
        return None if batch is None else {self._name: batch}


def _stride(n: int, most: int = 8) -> int:
    """The largest slice of calibration inputs (dividing ``n``, at most ``most``) held in memory at once."""
    return max(d for d in range(1, min(most, max(n, 1)) + 1) if n % d == 0)


CALIB_SEED = 10_000
"""Seed of the synthetic calibration frames (training sets are made with small seeds)."""


@dataclass(frozen=True)
class Int8Recipe:
    """How :func:`quantize_int8` quantizes a model.

    Attributes:
        fp32: node groups kept in FP32: ``tail`` (the box decode, :func:`tail_nodes`), ``outputs`` (the
            convolutions feeding it, :func:`output_convs`), ``head`` (the whole module holding the tail,
            ultralytics' Detect ``model.22``), ``first:N`` (the first N top-level modules, ``model.0`` to
            ``model.N-1``: the high-resolution layers), or a node-name prefix (``/model.22/cv3.0/``).
        method: activation calibration: ``minmax``, ``entropy`` or ``percentile``.
        per_channel: per-channel weight scales.
        reduce_range: 7-bit weights (for CPUs without VNNI that can overflow with 8 bits).
        quant_format: ``qdq`` (QuantizeLinear/DequantizeLinear pairs) or ``qoperator`` (QLinearConv, ...).
        n_calib: calibration inputs (detector tiles).
    """

    fp32: tuple[str, ...] = ("tail",)
    method: str = "minmax"
    per_channel: bool = True
    reduce_range: bool = False
    quant_format: str = "qdq"
    n_calib: int = 64

    def ort_options(self) -> dict[str, Any]:
        """Keyword arguments of ``onnxruntime.quantization.quantize_static``."""
        from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType

        methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                   "percentile": CalibrationMethod.Percentile}
        formats = {"qdq": QuantFormat.QDQ, "qoperator": QuantFormat.QOperator}
        if self.method not in methods or self.quant_format not in formats:
            raise ValueError(f"Unknown INT8 recipe: method {self.method!r}, format {self.quant_format!r}")
        return {"quant_format": formats[self.quant_format], "calibrate_method": methods[self.method],
                "per_channel": self.per_channel, "reduce_range": self.reduce_range,
                "activation_type": QuantType.QUInt8, "weight_type": QuantType.QInt8}

    def describe(self) -> str:
        """One line for the model's ``astute_int8`` metadata."""
        return (f"{self.quant_format} {'per-channel' if self.per_channel else 'per-tensor'} {self.method}"
                f"{' reduce-range' if self.reduce_range else ''}, fp32: {'+'.join(self.fp32) or 'none'}, "
                f"{self.n_calib} calibration tiles")


DEFAULT_RECIPE = Int8Recipe(fp32=("tail", "first:5"), method="entropy")
"""The recipe of ``astute export --int8``: QDQ, per-channel INT8 weights, entropy-calibrated activations on 64
synthetic 640 tiles, with the box decode and the five high-resolution modules ``model.0``-``model.4`` (stride
2 to 8, 19 % of YOLOv8n's multiply-adds at 640) kept in FP32.

Chosen on YOLOv8n det-v1 with labelled synthetic frames (seed ``CHECK_SEED``; 1 thread, tile latencies
of FP32 and INT8 in one run): every recipe tried kept recall within 0.5 points of FP32, so the pick went by the
borderline signs INT8 flips first (FP32 score 0.25-0.6), which harder footage has more of. On 900 frames (4,374
signs, 320 borderline) the previous recipe (MinMax, decode tail only: 2.28x) lost 18 borderline signs; keeping
``model.0``-``model.4`` in FP32 with entropy calibration lost 4, as few as any recipe, and is the fastest of
those, at 1.92x (86 -> 44 ms per tile); adding the P3 class branch (``/model.22/cv3.0/``) also lost 4, at 1.68x.
On 300 frames, the whole Detect head (37 %) in FP32 gave only 1.49x. See benchmarks/README.md, "FP32 vs INT8"."""


def fp32_nodes(model: Any, groups: Iterable[str]) -> list[str]:
    """Names of the nodes in the FP32 ``groups`` of :class:`Int8Recipe` (unknown groups raise ValueError)."""
    names: list[str] = []
    for group in groups:
        if group == "tail":
            names += tail_nodes(model)
        elif group == "outputs":
            names += output_convs(model)
        elif group == "head":
            modules = {_module(name) for name in tail_nodes(model)}
            names += [n.name for n in model.graph.node if _module(n.name) in modules]
        elif match := re.fullmatch(r"first:(\d+)", group):
            first = set(list(dict.fromkeys(_module(n.name) for n in model.graph.node))[:int(match[1])])
            names += [n.name for n in model.graph.node if _module(n.name) in first]
        elif group.startswith("/"):
            names += [n.name for n in model.graph.node if n.name.startswith(group)]
        else:
            raise ValueError(f"Unknown FP32 node group {group!r} (tail, outputs, head, first:N, /node/prefix)")
    return list(dict.fromkeys(name for name in names if name))


def _module(node_name: str) -> str:
    """``/model.22/cv2.0/conv/Conv`` -> ``/model.22/``: the top module of an exported node (else the name)."""
    parts = node_name.split("/")
    return f"/{parts[1]}/" if node_name.startswith("/") and len(parts) > 2 else node_name


def quantize_int8(onnx_in: str | Path, onnx_out: str | Path, calib_dir: str | Path | None = None,
                  recipe: Int8Recipe | None = None, nodes_to_exclude: list[str] | None = None) -> Path:
    """Static INT8 quantization by ``recipe`` (default :data:`DEFAULT_RECIPE`), metadata kept.

    Args:
        onnx_in: the FP32 model.
        onnx_out: where the INT8 model goes; nothing is left there on failure.
        calib_dir: folder of calibration images [default: synthetic frames from ``astute_cli.synth``];
            frames larger than the input are cut into the tiles the detector runs on.
        recipe: what stays FP32, calibration method, weight scales, format, calibration tiles.
        nodes_to_exclude: more node names to keep in FP32.

    Raises:
        ValueError: not an ONNX model, or no calibration images.
    """
    import onnx
    from onnxruntime.quantization import quantize_static

    recipe = recipe or DEFAULT_RECIPE
    onnx_in, onnx_out = Path(onnx_in), Path(onnx_out)
    model = load_onnx(onnx_in)
    name, height, width = input_shape(onnx_in)
    frames = calibration_images(calib_dir, recipe.n_calib)
    batches = calibration_tiles(frames, (height, width), _metadata_tile(model), recipe.n_calib)
    exclude = list(nodes_to_exclude or []) + fp32_nodes(model, recipe.fp32)
    onnx_out.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=f".{onnx_out.stem}.", suffix=".tmp.onnx", dir=onnx_out.parent)
    os.close(fd)
    tmp = Path(scratch)
    try:
        with _quiet():
            quantize_static(str(onnx_in), str(tmp), _ImageReader(name, batches), nodes_to_exclude=exclude,
                            extra_options={"CalibStridedMinMax": _stride(len(batches))}, **recipe.ort_options())
        quantized = onnx.load(str(tmp))
        _set_props(quantized, {p.key: p.value for p in model.metadata_props} | {"astute_int8": recipe.describe()})
        return _save_atomic(quantized, onnx_out)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence onnxruntime.quantization's progress prints and its advice to pre-process the model."""
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logging.disable(logging.NOTSET)


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


def calibration_images(calib_dir: str | Path | None, n: int = 64) -> list[np.ndarray]:
    """Up to ``n`` BGR images: from ``calib_dir`` (sorted, evenly spaced) or synthetic frames.

    Raises:
        ValueError: the folder is missing or holds no readable image.
    """
    if calib_dir is None:
        return [frame.image for frame in labelled_frames(n, CALIB_SEED)]
    folder = Path(calib_dir)
    if not folder.is_dir():
        raise ValueError(f"Calibration folder does not exist: {str(folder)!r}")
    paths = list(iter_images(folder))
    if len(paths) > n:
        paths = [paths[i] for i in np.linspace(0, len(paths) - 1, n).astype(int)]
    images = [image for image in (cv2.imread(str(p)) for p in paths) if image is not None]
    if not images:
        raise ValueError(f"No readable images in the calibration folder {str(folder)!r}")
    return images


def calibration_tiles(images: list[np.ndarray], size_hw: tuple[int, int], tile: int | str | tuple[int, int], n: int,
                      work_width: int = 1280) -> list[np.ndarray]:
    """Up to ``n`` (1, 3, H, W) float32 RGB 0..1 inputs, as the model sees them at run time.

    With a ``tile`` (a detector's ``astute_tile``), frames much larger than the input (a dashcam frame for a
    640 detector) are scaled to at most ``work_width`` and cut into the native-resolution tiles of the sign
    band, as :class:`~astute_cli.detector.OnnxDetector` runs them; other images are letterboxed into the input.
    """
    height, width = size_hw
    tile_wh = parse_size(tile)
    out = []
    for image in images:
        h, w = image.shape[:2]
        crops = [image]
        if tile_wh[0] and (h >= 1.5 * height or w >= 1.5 * width):
            if w > work_width:
                image = cv2.resize(image, None, fx=work_width / w, fy=work_width / w, interpolation=cv2.INTER_AREA)
            crops = [image[y1:y2, x1:x2] for x1, y1, x2, y2 in tiles_for(image.shape[1::-1], tile_wh, SIGN_ROI)]
        out.extend(_to_input(c if c.shape[:2] == size_hw else letterbox(c, size_hw)[0]) for c in crops)
    return out[:n]


def _to_input(image: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])


def _metadata_tile(model: Any) -> tuple[int, int]:
    """The model's ``astute_tile`` as (width, height) ((0, 0): none, the whole image is letterboxed)."""
    tile = {p.key: p.value for p in model.metadata_props}.get("astute_tile", "0")
    try:
        return parse_size(tile)
    except ValueError:
        return (0, 0)


def export_and_check(model: str | Path, out: str | Path | None = None, imgsz: int | str = 640, int8: bool = False,
                     calib_dir: str | Path | None = None, opset: int = 17, tolerance: float = 0.01,
                     force: bool = False, metadata: dict[str, Any] | None = None, n_check: int = 200,
                     threads: int | None = None, classifier_from: str | Path | None = None
                     ) -> tuple[Path, CheckResult | None]:
    """What ``astute export`` does: .pt -> ONNX (-> INT8), metadata stamped, self-checked.

    Args:
        model: a ``.pt`` (needs the train extra) or a ``.onnx`` (for ``int8`` or re-stamping metadata).
        out: target [default: beside ``model``: ``<stem>.onnx`` or ``<stem>.int8.onnx``].
        tolerance: largest recall (classifier: top-1 accuracy) the INT8 model may lose against FP32 on the
            labelled check frames, as a fraction (0.01 = 1 point); bigger accepts worse models.
        force: keep an INT8 model that loses more than ``tolerance``.
        n_check: labelled synthetic frames of the self-check (seed :data:`CHECK_SEED`).
        threads: onnxruntime threads of the self-check [default: ``ASTUTE_THREADS``, else all cores].
        classifier_from: where the crop classifier named in the metadata is [default: beside ``model``]; it is
            copied beside ``out`` so that the exported model works wherever it is written.

    Raises:
        ValueError: bad input, or an INT8 model that lost too much (``out`` is then left as it was).
    """
    model = Path(model)
    if model.suffix not in (".pt", ".onnx") or not model.is_file():
        raise ValueError(f"Not a model file (.pt or .onnx): {str(model)!r}")
    out = Path(out) if out else model.with_suffix(".int8.onnx" if int8 else ".onnx")
    if out.resolve() == model.resolve() and (int8 or model.suffix == ".pt"):
        raise ValueError(f"Output would overwrite the input model: {str(out)!r}")
    bundle = classifier_to_copy(model, out, metadata, classifier_from)  # checked before any work
    with tempfile.TemporaryDirectory(prefix="astute-export-") as work:
        fp32 = _fp32_model(model, out if not int8 else Path(work) / "fp32.onnx", imgsz, opset, metadata)
        if not int8:
            if bundle is not None:
                _move_atomic(*bundle)
            return fp32, None
        candidate = quantize_int8(fp32, Path(work) / out.name, calib_dir)
        result = self_check(fp32, candidate, labelled_frames(n_check, CHECK_SEED), threads=threads or _env_threads())
        if result.loss > tolerance + 1e-9 and not force:
            raise ValueError(f"INT8 model lost {100 * result.loss:.1f} points of {result.metric} against FP32 on "
                             f"{result.images} labelled frames (tolerance {100 * tolerance:g}); "
                             "not written (--force keeps it)")
        result.candidate.path = str(_move_atomic(candidate, out))
        if bundle is not None:
            _move_atomic(*bundle)
        return out, result


def classifier_source(model: Path, name: str, classifier_from: str | Path | None = None) -> Path:
    """Where the crop classifier ``name`` that a model names is: ``classifier_from`` when that is a file, else beside
    ``model`` (the metadata names it relative to the model)."""
    if classifier_from is not None and Path(classifier_from).is_file():
        return Path(classifier_from)
    return model.parent / name


def classifier_to_copy(model: Path, out: Path, metadata: dict[str, Any] | None,
                       classifier_from: str | Path | None = None) -> tuple[Path, Path] | None:
    """(source, target) when the crop classifier the exported model will name must be copied beside ``out``;
    None when it names none or it is there already. ValueError when it cannot be found, or when a different
    file of its name is beside ``out``."""
    from astute_cli.checks import same_file

    name = (metadata or {}).get("astute_classifier")
    if name is None and model.suffix == ".onnx":
        try:
            name = read_metadata(model).get("astute_classifier")
        except Exception:  # not an ONNX file: load_onnx says so in its own words
            return None
    if not name:
        return None
    source, target = classifier_source(model, name, classifier_from), out.parent / name
    if same_file(source, target):
        return None
    if not source.is_file():
        raise ValueError(f"The model names the crop classifier {name!r}, not found at {str(source)!r}: give "
                         f"--classifier PATH")
    if target.exists():
        if target.is_file() and target.read_bytes() == source.read_bytes():
            return None
        raise ValueError(f"{str(target)!r} is a different file than the classifier {str(source)!r} that the model "
                         f"names: export to another folder, or move that file")
    return source, target


def _move_atomic(src: Path, out: Path) -> Path:
    """Put ``src`` at ``out`` (any file system) so that ``out`` is either the old file or the whole new one."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with _temp_model(out) as tmp:
        shutil.copyfile(src, tmp)
    return out


def _fp32_model(model: Path, out: Path, imgsz: int | str, opset: int, metadata: dict[str, Any] | None) -> Path:
    """The FP32 ONNX model: exported from ``.pt``, restamped with ``metadata``, or ``model`` itself."""
    if model.suffix == ".pt":
        return export_onnx(model, out, imgsz, opset, metadata)
    load_onnx(model)
    return write_metadata(model, metadata, out) if metadata else model


def _env_threads() -> int | None:
    from astute_cli.detector import _default_threads

    return _default_threads()
