"""Tiny ONNX models built in the tests: they output scripted tensors, so no weights are needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _constant_model(path: Path, output: np.ndarray, input_hw: tuple[int, int], metadata: dict[str, str]) -> Path:
    """images (1, 3, H, W) → ``output`` (+ 0 × mean(images), so the output depends on the input)."""
    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, *input_hw])
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["scripted", "nothing"], ["output0"]),
    ]
    inits = [numpy_helper.from_array(output.astype(np.float32), "scripted"),
             numpy_helper.from_array(np.array(0.0, np.float32), "zero")]
    graph = helper.make_graph(nodes, "scripted", [images], [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in metadata.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.save(model, str(path))
    return path


def make_detector_onnx(path: Path, boxes_xywh_scores: list[list[float]], names: list[str],
                       imgsz: tuple[int, int] = (64, 64), **metadata: str) -> Path:
    """A YOLOv8-style detector whose raw head always outputs these rows (cx, cy, w, h, score per class)."""
    rows = np.array(boxes_xywh_scores, np.float32).reshape(-1, 4 + len(names))
    head = rows.T[None]  # (1, 4 + nc, N)
    meta = {"names": repr(dict(enumerate(names))), "imgsz": repr(list(imgsz)), "stride": "32", **metadata}
    return _constant_model(path, head, imgsz, meta)


def make_end2end_onnx(path: Path, rows_xyxy_score_class: list[list[float]], names: list[str],
                      imgsz: tuple[int, int] = (64, 64)) -> Path:
    """A YOLO26-style end-to-end detector: (1, N, 6) rows of x1, y1, x2, y2, score, class."""
    rows = np.array(rows_xyxy_score_class, np.float32).reshape(1, -1, 6)
    return _constant_model(path, rows, imgsz, {"names": repr(dict(enumerate(names))), "imgsz": repr(list(imgsz))})


def make_classifier_onnx(path: Path, probs: list[float], names: list[str], size: int = 32) -> Path:
    """An ultralytics-style classifier that always outputs these probabilities."""
    return _constant_model(path, np.array(probs, np.float32)[None], (size, size),
                           {"names": repr(dict(enumerate(names))), "imgsz": repr([size, size])})
