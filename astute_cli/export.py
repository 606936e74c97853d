"""Export trained models to ONNX, stamp Astute's metadata on them, quantize them to INT8 and check the result.

``export_onnx`` needs the ``train`` extra (ultralytics, imported lazily); everything else needs only
onnx and onnxruntime, so an ONNX model can be quantized on a machine without torch::

    from astute_cli.export import export_onnx, labelled_frames, self_check
    from astute_cli.quantize import quantize_int8

    onnx_path = export_onnx("best.pt", "detector.onnx", imgsz=640, metadata={"astute_classifier": "classifier.onnx"})
    int8 = quantize_int8(onnx_path, "detector.int8.onnx", calib_dir="frames/")
    print(self_check(onnx_path, int8, labelled_frames(100)).table())  # recall/precision vs exact labels
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from astute_cli import signs
from astute_cli.detector import env_threads, parse_contexts
from astute_cli.eval.selfcheck import CHECK_SEED, CheckResult, labelled_frames, self_check
from astute_cli.files import atomic_path
from astute_cli.quantize import load_onnx, quantize_int8
from astute_cli.tiling import parse_size, parse_zoom

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
                    contexts: str | None = None, expert: str | None = None, keeper: str | None = None,
                    keeper_gate: float | None = None) -> dict[str, str]:
    """Astute's metadata keys, validated.

    Args:
        classifier: file name of the crop classifier beside this detector (the two-stage design).
        tile: native-resolution tile size in pixels the detector is run on: N, or "WxH" (the model's input).
        roi: ``"x1,y1,x2,y2"`` fractions of the frame where signs are searched.
        names: class names whose value semantics go into ``astute_values``.
        zoom: the far-band pass (``astute_zoom``): ``"factor"`` or ``"x1,y1,x2,y2,factor"``; ``"0"`` records none.
        contexts: the crop classifier's margins (``astute_contexts``), e.g. ``"0.05,0.1,0.2"``: its probabilities
            are averaged over a crop of each.
        expert: file name of the expert classifier beside this detector (``astute_expert``: it takes the frames
            unlike daylight and names plates, see :class:`astute_cli.detector.TwoStageDetector`); ``"none"``: none.
        keeper: file name of the keeper classifier beside this detector (``astute_keeper``: a second look at the
            boxes the crop classifier drops); ``"none"``: none.
        keeper_gate: the keeper's probability of a sign from which it keeps a box (``astute_keeper_gate``).

    Raises:
        ValueError: a malformed ROI, tile, zoom, contexts or keeper gate.
    """
    meta: dict[str, str] = {}
    if classifier:
        meta["astute_classifier"] = Path(classifier).name
    if expert:
        meta["astute_expert"] = "" if expert == "none" else Path(expert).name
    if keeper:
        meta["astute_keeper"] = "" if keeper == "none" else Path(keeper).name
    if keeper_gate is not None:
        if not 0 < keeper_gate <= 1:
            raise ValueError(f"Keeper gate must be a probability in (0, 1], got {keeper_gate:g}")
        meta["astute_keeper_gate"] = f"{keeper_gate:g}"
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


# --- graph ---


def last_axis_dfl(model: Any) -> bool:
    """Make a YOLO detector's box decode (DFL) take its softmax over the last axis; True when the graph changed.

    Ultralytics exports the DFL as Reshape (1, 4, 16, A) -> Transpose (1, 16, 4, A) -> Softmax over axis 1 -> a
    fixed 1×1 convolution with the weights 0..15. ONNX Runtime computes a softmax over any axis but the last one
    on a single thread through a transpose, which measured 11 of 70 ms of one INT8 640 tile run with 1 thread and
    made the model scale badly to 2 (53 ms). The same numbers come from Transpose (1, 4, A, 16) -> Softmax over
    the last axis -> MatMul with the weights as a column; with 2 threads the INT8 tile then runs in 31 ms
    (benchmarks/README.md, "Real time"). The new nodes keep ``dfl`` in their names, so :func:`~astute_cli.quantize
    .tail_nodes` still keeps them in FP32. A graph without that pattern (or already rewritten) is left as it is.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    weights = {init.name: init for init in graph.initializer}
    for softmax in graph.node:
        if softmax.op_type != "Softmax" or "dfl" not in softmax.name.lower():
            continue
        axis = next((a.i for a in softmax.attribute if a.name == "axis"), -1)
        transpose = producer.get(softmax.input[0])
        after = consumers.get(softmax.output[0], [])
        if axis != 1 or transpose is None or transpose.op_type != "Transpose" or len(after) != 1 \
                or after[0].op_type != "Conv" or after[0].input[1] not in weights:
            continue
        perm = next((list(a.ints) for a in transpose.attribute if a.name == "perm"), [])
        conv = after[0]
        bins = numpy_helper.to_array(weights[conv.input[1]])
        if perm != [0, 2, 1, 3] or bins.shape[:2] != (1, bins.size) or len(consumers[transpose.output[0]]) != 1:
            continue
        prefix = softmax.name.rsplit("/", 1)[0]
        column = f"{prefix}/bins_column"
        graph.initializer.append(numpy_helper.from_array(bins.reshape(-1, 1).astype(np.float32), column))
        rewritten = [
            helper.make_node("Transpose", [transpose.input[0]], [f"{prefix}/last_axis"], perm=[0, 1, 3, 2],
                             name=f"{prefix}/Transpose_last_axis"),
            helper.make_node("Softmax", [f"{prefix}/last_axis"], [f"{prefix}/probabilities"], axis=-1,
                             name=f"{prefix}/Softmax_last_axis"),
            helper.make_node("MatMul", [f"{prefix}/probabilities", column], [conv.output[0]],
                             name=f"{prefix}/MatMul_expectation"),
        ]
        at = list(graph.node).index(transpose)
        for node in (transpose, softmax, conv):
            graph.node.remove(node)
        for offset, node in enumerate(rewritten):
            graph.node.insert(at + offset, node)
        if not consumers.get(conv.input[1], [])[1:]:
            graph.initializer.remove(weights[conv.input[1]])
        stale = {transpose.output[0], softmax.output[0], conv.output[0]}
        for info in [v for v in graph.value_info if v.name in stale]:
            graph.value_info.remove(info)  # the conv's output is now (1, 4, A, 1): let ONNX Runtime infer it
        return True
    return False


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
        last_axis_dfl(model)
        meta = dict(metadata or {})
        if yolo.task == "classify" and "astute_values" not in meta:
            meta["astute_values"] = json.dumps(value_semantics(yolo.names.values()))
        _set_props(model, meta | {"astute_source": pt_path.name})
        return _save_atomic(model, out)


def export_and_check(model: str | Path, out: str | Path | None = None, imgsz: int | str = 640, int8: bool = False,
                     calib_dir: str | Path | None = None, opset: int = 17, tolerance: float = 0.01,
                     force: bool = False, metadata: dict[str, Any] | None = None, n_check: int = 200,
                     threads: int | None = None, classifier_from: str | Path | None = None,
                     expert_from: str | Path | None = None, keeper_from: str | Path | None = None
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
            copied beside ``out``, so that the exported model works wherever it is written.
        expert_from: the same for the expert classifier (``astute_expert``).
        keeper_from: the same for the keeper classifier (``astute_keeper``).

    Raises:
        ValueError: bad input, or an INT8 model that lost too much (``out`` is then left as it was).
    """
    model = Path(model)
    if model.suffix not in (".pt", ".onnx") or not model.is_file():
        raise ValueError(f"Not a model file (.pt or .onnx): {str(model)!r}")
    out = Path(out) if out else model.with_suffix(".int8.onnx" if int8 else ".onnx")
    if out.resolve() == model.resolve() and (int8 or model.suffix == ".pt"):
        raise ValueError(f"Output would overwrite the input model: {str(out)!r}")
    companions = companions_to_copy(model, out, metadata, {"astute_classifier": classifier_from,
                                                           "astute_expert": expert_from,
                                                           "astute_keeper": keeper_from})  # checked before any work
    with tempfile.TemporaryDirectory(prefix="astute-export-") as work:
        fp32 = _fp32_model(model, out if not int8 else Path(work) / "fp32.onnx", imgsz, opset, metadata)
        if not int8:
            for source, target in companions:
                _move_atomic(source, target)
            return fp32, None
        candidate = quantize_int8(fp32, Path(work) / out.name, calib_dir)
        result = self_check(fp32, candidate, labelled_frames(n_check, CHECK_SEED), threads=threads or env_threads())
        if result.loss > tolerance + 1e-9 and not force:
            raise ValueError(f"INT8 model lost {100 * result.loss:.1f} points of {result.metric} against FP32 on "
                             f"{result.images} labelled frames (tolerance {100 * tolerance:g}); "
                             "not written (--force keeps it)")
        result.candidate.path = str(_move_atomic(candidate, out))
        for source, target in companions:
            _move_atomic(source, target)
        return out, result


def classifier_source(model: Path, name: str, classifier_from: str | Path | None = None) -> Path:
    """Where the crop classifier (or expert, or keeper) ``name`` that a model names is: ``classifier_from`` when
    that is a file, else beside ``model`` (the metadata names it relative to the model)."""
    if classifier_from is not None and Path(classifier_from).is_file():
        return Path(classifier_from)
    return model.parent / name


COMPANIONS = {"astute_classifier": "crop classifier", "astute_expert": "expert classifier",
              "astute_keeper": "keeper classifier"}
"""The metadata keys that name a file a detector needs beside it, and what each file is."""


def companions_to_copy(model: Path, out: Path, metadata: dict[str, Any] | None,
                       sources: dict[str, str | Path | None] | None = None) -> list[tuple[Path, Path]]:
    """(source, target) for each file the exported model will name (:data:`COMPANIONS`: its crop classifier,
    expert and keeper) that must be copied beside ``out``; none for a file it names that is there already.
    ``sources``: where a named file is, by metadata key, when not beside ``model``. ValueError when one cannot be
    found, or when a different file of its name is beside ``out``."""
    from astute_cli.checks import same_file

    named = {}
    if model.suffix == ".onnx":
        try:
            named = {k: v for k, v in read_metadata(model).items() if k in COMPANIONS}
        except Exception:  # not an ONNX file: load_onnx says so in its own words
            return []
    named |= {k: v for k, v in (metadata or {}).items() if k in COMPANIONS}
    copies = []
    for key, name in named.items():
        if not name:
            continue
        what = COMPANIONS[key]
        source = classifier_source(model, name, (sources or {}).get(key))
        target = out.parent / name
        if same_file(source, target):
            continue
        if not source.is_file():
            option = "--" + key.removeprefix("astute_")
            raise ValueError(f"The model names the {what} {name!r}, not found at {str(source)!r}: give {option} PATH")
        if target.exists():
            if target.is_file() and target.read_bytes() == source.read_bytes():
                continue
            raise ValueError(f"{str(target)!r} is a different file than the {what} {str(source)!r} that the "
                             f"model names: export to another folder, or move that file")
        copies.append((source, target))
    return copies


def _move_atomic(src: Path, out: Path) -> Path:
    """Put ``src`` at ``out`` (any file system) so that ``out`` is either the old file or the whole new one."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with _temp_model(out) as tmp:
        shutil.copyfile(src, tmp)
    return out


def _fp32_model(model: Path, out: Path, imgsz: int | str, opset: int, metadata: dict[str, Any] | None) -> Path:
    """The FP32 ONNX model: exported from ``.pt``; or ``model`` restamped with ``metadata`` and its box decode
    rewritten (:func:`last_axis_dfl`) where either changes it; or ``model`` itself."""
    if model.suffix == ".pt":
        return export_onnx(model, out, imgsz, opset, metadata)
    graph = load_onnx(model)
    if not last_axis_dfl(graph) and not metadata:
        return model
    _set_props(graph, metadata or {})
    return _save_atomic(graph, out)


