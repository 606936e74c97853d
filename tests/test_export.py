"""Tests of ONNX metadata, INT8 quantization and the export self-check, on tiny models built here."""

from __future__ import annotations

import json
from contextlib import ExitStack as DoesNotRaise
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from astute_cli import export  # noqa: E402
from astute_cli.cli import app  # noqa: E402


def make_classifier_onnx(path: Path, size: int = 32, classes: int = 4, seed: int = 0) -> Path:
    """Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> Softmax: a (1, classes) 'classifier'."""
    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array(rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.normal(0, 0.1, 8).astype(np.float32), "b"),
             numpy_helper.from_array(rng.normal(0, 0.5, (classes, 8)).astype(np.float32), "fc_w"),
             numpy_helper.from_array(np.zeros(classes, np.float32), "fc_b")]
    nodes = [helper.make_node("Conv", ["images", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], name="fc", transB=1),
             helper.make_node("Softmax", ["logits"], ["output0"], name="softmax", axis=1)]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("images", TensorProto.FLOAT,
                                                                            [1, 3, size, size])],
                              [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, classes])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    entry = model.metadata_props.add()
    entry.key, entry.value = "names", "{0: 'a', 1: 'b', 2: 'c', 3: 'd'}"
    onnx.save(model, str(path))
    return path


def make_detector_onnx(path: Path, size: int = 32) -> Path:
    """Conv -> Reshape -> Split(box, cls) -> box*stride, Sigmoid(cls) -> Concat: the shape of a YOLO head."""
    rng = np.random.default_rng(1)
    inits = [numpy_helper.from_array(rng.normal(0, 0.3, (5, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(np.array([1, 5, -1], np.int64), "shape"),
             numpy_helper.from_array(np.array([4, 1], np.int64), "split"),
             numpy_helper.from_array(np.array(8.0, np.float32), "stride")]
    nodes = [helper.make_node("Conv", ["images", "w"], ["c"], name="/model.22/cv2.0/conv", pads=[1, 1, 1, 1]),
             helper.make_node("Reshape", ["c", "shape"], ["flat"], name="/model.22/reshape"),
             helper.make_node("Split", ["flat", "split"], ["box", "cls"], name="/model.22/split", axis=1),
             helper.make_node("Mul", ["box", "stride"], ["box_px"], name="/model.22/mul"),
             helper.make_node("Sigmoid", ["cls"], ["score"], name="/model.22/sigmoid"),
             helper.make_node("Concat", ["box_px", "score"], ["output0"], name="/model.22/concat", axis=1)]
    graph = helper.make_graph(nodes, "tinydet", [helper.make_tensor_value_info("images", TensorProto.FLOAT,
                                                                               [1, 3, size, size])],
                              [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 5, size * size])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def make_images(folder: Path, n: int = 12, size: int = 48, seed: int = 0) -> Path:
    """Coloured discs on noise, written as PNGs."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(image, (size // 2, size // 2), size // 3, color, -1)
        cv2.imwrite(str(folder / f"{i:03d}.png"), image)
    return folder


@pytest.fixture
def tiny(tmp_path) -> Path:
    return make_classifier_onnx(tmp_path / "tiny.onnx")


@pytest.fixture
def calib(tmp_path) -> Path:
    return make_images(tmp_path / "calib")


@pytest.mark.parametrize(
    ("kwargs", "expected", "expectation"),
    [
        pytest.param({"classifier": "models/classifier.onnx", "tile": 640}, {"astute_classifier": "classifier.onnx",
                     "astute_tile": "640"}, DoesNotRaise(), id="classifier-and-tile"),
        pytest.param({"roi": "0.25,0,1,0.75"}, {"astute_roi": "0.25,0,1,0.75"}, DoesNotRaise(), id="roi"),
        pytest.param({"roi": "0.5,0,0.2,1"}, None, pytest.raises(ValueError, match="ROI"), id="roi-reversed"),
        pytest.param({"roi": "left"}, None, pytest.raises(ValueError, match="ROI"), id="roi-text"),
        pytest.param({"tile": 100}, None, pytest.raises(ValueError, match="multiple of 32"), id="tile-not-stride"),
    ],
)
def test_astute_metadata(kwargs, expected, expectation):
    with expectation:
        assert export.astute_metadata(**kwargs) == expected


def test_value_semantics_reads_rtsd_value_names():
    values = export.value_semantics(["3_24_n60", "3_13_r4.5", "5_19_1", "background"])
    assert values["classes"] == {"3_24_n60": {"code": "3_24", "value": 60.0, "unit": "km/h"},
                                 "3_13_r4.5": {"code": "3_13", "value": 4.5, "unit": "m"}}


def test_write_metadata_keeps_existing_keys(tiny):
    export.write_metadata(tiny, {"astute_tile": "640", "astute_values": {"classes": {}}})
    meta = export.read_metadata(tiny)
    assert meta["names"].startswith("{0:")
    assert meta["astute_tile"] == "640"
    assert json.loads(meta["astute_values"]) == {"classes": {}}


def test_quantize_int8_keeps_metadata_and_answers(tmp_path, tiny, calib):
    out = export.quantize_int8(tiny, tmp_path / "tiny.int8.onnx", calib_dir=calib)
    meta = export.read_metadata(out)
    assert meta["astute_int8"] == "1" and "names" in meta
    ops = {node.op_type for node in onnx.load(str(out)).graph.node}
    assert "QuantizeLinear" in ops
    result = export.self_check(tiny, out, export.calibration_images(calib))
    assert result.kind == "classify"
    assert result.candidate.agreement >= 0.8
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp.onnx")] == []


def test_tail_nodes_are_the_decode_after_the_last_conv(tmp_path):
    model = onnx.load(str(make_detector_onnx(tmp_path / "det.onnx")))
    tail = export.tail_nodes(model)
    assert set(tail) == {"/model.22/concat", "/model.22/mul", "/model.22/sigmoid", "/model.22/split",
                         "/model.22/reshape"}


def test_quantized_detector_keeps_tail_in_fp32(tmp_path, calib):
    det = make_detector_onnx(tmp_path / "det.onnx")
    out = export.quantize_int8(det, tmp_path / "det.int8.onnx", calib_dir=calib)
    graph = onnx.load(str(out)).graph
    producer = {o: n for n in graph.node for o in n.output}
    assert producer["output0"].op_type == "Concat"
    assert all(producer[i].op_type != "DequantizeLinear" for i in producer["output0"].input)


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        pytest.param(lambda d: d / "missing.onnx", "No such model file", id="missing"),
        pytest.param(lambda d: (d / "junk.onnx").write_bytes(b"not a model") and d / "junk.onnx", "Not a valid ONNX",
                     id="not-onnx"),
    ],
)
def test_quantize_rejects_bad_models(tmp_path, calib, make_input, message):
    with pytest.raises(ValueError, match=message):
        export.quantize_int8(make_input(tmp_path), tmp_path / "out.onnx", calib_dir=calib)
    assert not (tmp_path / "out.onnx").exists()


def test_quantize_rejects_empty_calibration_folder(tmp_path, tiny):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No readable images"):
        export.quantize_int8(tiny, tmp_path / "out.onnx", calib_dir=tmp_path / "empty")
    assert not (tmp_path / "out.onnx").exists()


def test_export_and_check_refuses_a_model_over_tolerance(tmp_path, tiny, calib):
    out = tmp_path / "q.onnx"
    with pytest.raises(ValueError, match="not written"):
        export.export_and_check(tiny, out, int8=True, calib_dir=calib, tolerance=-1.0)
    assert not out.exists()
    written, result = export.export_and_check(tiny, out, int8=True, calib_dir=calib, tolerance=-1.0, force=True)
    assert written == out and out.exists() and result is not None


def test_decode_and_match():
    output = np.zeros((1, 5, 3), np.float32)
    output[0, :, 0] = [50, 50, 20, 20, 0.9]
    output[0, :, 1] = [51, 50, 20, 20, 0.8]  # duplicate, removed by NMS
    output[0, :, 2] = [10, 10, 4, 4, 0.1]  # below confidence
    boxes = export.decode(output, conf=0.25)
    np.testing.assert_allclose(boxes, [[40, 40, 60, 60, 0.9, 0]], atol=1e-5)
    assert export.match_count(boxes, boxes) == 1
    assert export.match_count(boxes, boxes + np.float32([100, 0, 100, 0, 0, 0])) == 0


def test_cli_export_int8_from_onnx(tmp_path, tiny, calib):
    out = tmp_path / "cli.int8.onnx"
    result = CliRunner().invoke(app, ["export", str(tiny), "--int8", "--calib", str(calib), "-o", str(out),
                                      "--tile", "640"])
    assert result.exit_code == 0, result.output
    assert export.read_metadata(out)["astute_tile"] == "640"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["notes.txt"], "Not a model file", id="wrong-format"),
        pytest.param(["tiny.onnx", "--int8", "--calib", "empty"], "No readable images", id="empty-calib"),
        pytest.param(["tiny.onnx", "--roi", "1,2"], "ROI", id="bad-roi"),
    ],
)
def test_cli_export_bad_input_is_one_line(tmp_path, tiny, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["export", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert not list(tmp_path.glob("*.int8.onnx")) and not list(tmp_path.glob("*.tmp.onnx"))


@pytest.mark.integration
@pytest.mark.slow
def test_export_onnx_from_ultralytics_weights(tmp_path):
    pytest.importorskip("ultralytics")
    from astute_cli.train import import_ultralytics

    ultralytics = import_ultralytics()
    pt = tmp_path / "scratch.pt"
    ultralytics.YOLO("yolov8n.yaml").save(str(pt))
    out = export.export_onnx(pt, tmp_path / "det.onnx", imgsz=64, metadata={"astute_tile": "640"})
    meta = export.read_metadata(out)
    assert meta["astute_tile"] == "640" and meta["astute_source"] == "scratch.pt"
    assert export.input_shape(out)[1:] == (64, 64)
