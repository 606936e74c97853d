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

from astute_cli import export, quantize  # noqa: E402
from astute_cli.cli import app  # noqa: E402
from astute_cli.eval.selfcheck import LabelledFrame  # noqa: E402
from astute_cli.files import current_umask  # noqa: E402
from astute_cli.quantize import Int8Recipe  # noqa: E402
from tests.onnx_factories import make_detector_onnx as make_scripted_detector  # noqa: E402

TRUTH = [22, 22, 42, 42]  # the labelled sign of the scripted check frames
HIT = [32, 32, 20, 20, 0.9]  # a scripted detector row (cx, cy, w, h, score) on TRUTH
MISS = [10, 10, 8, 8, 0.9]  # a confident box where there is no sign
WEAK = [32, 32, 20, 20, 0.1]  # the sign, below the detector's confidence


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
    """Stem conv -> head conv -> Reshape -> Split(box, cls) -> box*stride, Sigmoid(cls) -> Concat: a YOLO's shape."""
    rng = np.random.default_rng(1)
    inits = [numpy_helper.from_array(rng.normal(0, 0.3, (3, 3, 3, 3)).astype(np.float32), "stem_w"),
             numpy_helper.from_array(rng.normal(0, 0.3, (5, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(np.array([1, 5, -1], np.int64), "shape"),
             numpy_helper.from_array(np.array([4, 1], np.int64), "split"),
             numpy_helper.from_array(np.array(8.0, np.float32), "stride")]
    nodes = [helper.make_node("Conv", ["images", "stem_w"], ["s"], name="/model.0/conv/Conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["s"], ["sr"], name="/model.0/act/Relu"),
             helper.make_node("Conv", ["sr", "w"], ["c"], name="/model.22/cv2.0/conv", pads=[1, 1, 1, 1]),
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


def make_dfl_onnx(path: Path, anchors: int = 6, axis: int = 1, perm: tuple[int, ...] = (0, 2, 1, 3)) -> Path:
    """Ultralytics' box decode (DFL) on its own: (1, 64, A) logits -> Reshape (1, 4, 16, A) -> Transpose ``perm``
    -> Softmax over ``axis`` -> the fixed 1×1 conv with weights 0..15 -> Reshape (1, 4, A)."""
    inits = [numpy_helper.from_array(np.array([1, 4, 16, anchors], np.int64), "/model.22/dfl/Constant"),
             numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(1, 16, 1, 1), "model.22.dfl.conv.weight"),
             numpy_helper.from_array(np.array([1, 4, anchors], np.int64), "/model.22/dfl/Constant_1")]
    nodes = [helper.make_node("Reshape", ["logits", "/model.22/dfl/Constant"], ["r"], name="/model.22/dfl/Reshape"),
             helper.make_node("Transpose", ["r"], ["t"], name="/model.22/dfl/Transpose", perm=list(perm)),
             helper.make_node("Softmax", ["t"], ["p"], name="/model.22/dfl/Softmax", axis=axis),
             helper.make_node("Conv", ["p", "model.22.dfl.conv.weight"], ["c"], name="/model.22/dfl/conv/Conv"),
             helper.make_node("Reshape", ["c", "/model.22/dfl/Constant_1"], ["output0"],
                              name="/model.22/dfl/Reshape_1")]
    graph = helper.make_graph(nodes, "dfl", [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                                                           [1, 64, anchors])],
                              [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4, anchors])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def check_frames(n: int = 2, size: int = 64) -> list[LabelledFrame]:
    """Grey frames, each with one labelled sign at TRUTH."""
    return [LabelledFrame(np.full((size, size, 3), 90, np.uint8), np.float32([TRUTH]), ["sign"]) for _ in range(n)]


def disc_frames(folder: Path) -> list[LabelledFrame]:
    """The calibration discs as labelled crops for a classifier: one box around each disc, label 'a'."""
    images = quantize.calibration_images(folder)
    return [LabelledFrame(image, np.float32([[8, 8, 40, 40]]), ["a"]) for image in images]


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
        pytest.param({"tile": "672x576"}, {"astute_tile": "672x576"}, DoesNotRaise(), id="rectangular-tile"),
        pytest.param({"tile": "640x640"}, {"astute_tile": "640"}, DoesNotRaise(), id="square-written-as-n"),
        pytest.param({"tile": "672x570"}, None, pytest.raises(ValueError, match="multiple of 32"),
                     id="rectangular-not-stride"),
        pytest.param({"tile": "big"}, None, pytest.raises(ValueError, match="N or WxH"), id="tile-not-a-size"),
        pytest.param({"zoom": "1.5"}, {"astute_zoom": "0.15,0.305,0.797,0.6,1.5"}, DoesNotRaise(),
                     id="zoom-factor-records-the-far-band"),
        pytest.param({"zoom": "0"}, {"astute_zoom": "0"}, DoesNotRaise(), id="zoom-off"),
        pytest.param({"zoom": "9"}, None, pytest.raises(ValueError, match="zoom"), id="zoom-too-big"),
        pytest.param({"contexts": "0.05, 0.1,0.2"}, {"astute_contexts": "0.05,0.1,0.2"}, DoesNotRaise(),
                     id="classifier-contexts"),
        pytest.param({"contexts": "0.1,2"}, None, pytest.raises(ValueError, match="Contexts"), id="context-too-big"),
        pytest.param({"contexts": "wide"}, None, pytest.raises(ValueError, match="Contexts"), id="contexts-text"),
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
    assert tiny.stat().st_mode & 0o777 == 0o666 & ~current_umask()  # not mkstemp's 0600


def test_quantize_int8_keeps_metadata_and_answers(tmp_path, tiny, calib):
    recipe = Int8Recipe(fp32=("tail",))  # the default's first:5 would be all but one of this tiny model's nodes
    out = quantize.quantize_int8(tiny, tmp_path / "tiny.int8.onnx", calib_dir=calib, recipe=recipe)
    meta = export.read_metadata(out)
    assert meta["astute_int8"] == recipe.describe() and "names" in meta
    ops = {node.op_type for node in onnx.load(str(out)).graph.node}
    assert "QuantizeLinear" in ops
    result = export.self_check(tiny, out, disc_frames(calib), threads=1)
    assert result.kind == "classify" and result.signs == 12
    assert result.candidate.agreement >= 0.8
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp.onnx")] == []


DECODE = {"/model.22/concat", "/model.22/mul", "/model.22/sigmoid", "/model.22/split", "/model.22/reshape"}


@pytest.mark.parametrize(
    ("groups", "expected", "expectation"),
    [
        pytest.param(("tail",), DECODE, DoesNotRaise(), id="tail"),
        pytest.param(("outputs",), {"/model.22/cv2.0/conv"}, DoesNotRaise(), id="output-convs"),
        pytest.param(("head",), DECODE | {"/model.22/cv2.0/conv"}, DoesNotRaise(), id="head"),
        pytest.param(("first:1",), {"/model.0/conv/Conv", "/model.0/act/Relu"}, DoesNotRaise(), id="first-module"),
        pytest.param(("tail", "first:1"), DECODE | {"/model.0/conv/Conv", "/model.0/act/Relu"}, DoesNotRaise(),
                     id="tail-and-first-module"),
        pytest.param(("first:9",), DECODE | {"/model.0/conv/Conv", "/model.0/act/Relu", "/model.22/cv2.0/conv"},
                     DoesNotRaise(), id="more-modules-than-there-are"),
        pytest.param(("/model.22/cv2",), {"/model.22/cv2.0/conv"}, DoesNotRaise(), id="name-prefix"),
        pytest.param((), set(), DoesNotRaise(), id="none"),
        pytest.param(("neck",), None, pytest.raises(ValueError, match="Unknown FP32 node group"), id="unknown"),
    ],
)
def test_fp32_nodes_by_group(tmp_path, groups, expected, expectation):
    model = onnx.load(str(make_detector_onnx(tmp_path / "det.onnx")))
    with expectation:
        assert set(quantize.fp32_nodes(model, groups)) == expected


@pytest.mark.parametrize(
    ("recipe", "quantized_op"),
    [
        pytest.param(Int8Recipe(), "QuantizeLinear", id="default"),
        pytest.param(Int8Recipe(method="entropy", n_calib=8), "QuantizeLinear", id="entropy"),
        pytest.param(Int8Recipe(method="percentile", per_channel=False), "QuantizeLinear", id="percentile"),
        pytest.param(Int8Recipe(fp32=("head",), reduce_range=True), "QuantizeLinear", id="head-fp32"),
        pytest.param(Int8Recipe(fp32=("tail", "/model.22/cv2")), "QuantizeLinear", id="tail-and-prefix"),
        pytest.param(Int8Recipe(quant_format="qoperator"), "QLinearConv", id="qoperator"),
    ],
)
def test_quantized_detector_keeps_tail_in_fp32(tmp_path, calib, recipe, quantized_op):
    det = make_detector_onnx(tmp_path / "det.onnx")
    out = quantize.quantize_int8(det, tmp_path / "det.int8.onnx", calib_dir=calib, recipe=recipe)
    graph = onnx.load(str(out)).graph
    producer = {o: n for n in graph.node for o in n.output}
    assert producer["output0"].op_type == "Concat"
    assert all(producer[i].op_type != "DequantizeLinear" for i in producer["output0"].input)
    assert quantized_op in {n.op_type for n in graph.node}
    assert export.read_metadata(out)["astute_int8"] == recipe.describe()


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        pytest.param(Int8Recipe(method="kl"), "Unknown INT8 recipe", id="bad-method"),
        pytest.param(Int8Recipe(quant_format="int4"), "Unknown INT8 recipe", id="bad-format"),
        pytest.param(Int8Recipe(fp32=("neck",)), "Unknown FP32 node group", id="bad-group"),
    ],
)
def test_quantize_rejects_bad_recipes(tmp_path, calib, recipe, message):
    with pytest.raises(ValueError, match=message):
        quantize.quantize_int8(make_detector_onnx(tmp_path / "det.onnx"), tmp_path / "out.onnx", calib, recipe)
    assert not (tmp_path / "out.onnx").exists()


@pytest.mark.parametrize(
    ("frame_hw", "model_hw", "tile", "expected"),
    [
        pytest.param((720, 1280), (640, 640), 640, 2, id="dashcam-frame-two-tiles"),
        pytest.param((1080, 1920), (640, 640), 640, 2, id="full-hd-scaled-to-1280-two-tiles"),
        pytest.param((720, 1280), (640, 640), 0, 1, id="no-tile-letterboxed"),
        pytest.param((48, 48), (32, 32), 32, 4, id="tiles-of-a-small-detector"),
        pytest.param((720, 1280), (576, 672), "672x576", 2, id="rectangular-overlapping-tiles"),
        pytest.param((48, 48), (32, 32), 0, 1, id="classifier-crop-resized"),
    ],
)
def test_calibration_tiles_are_what_the_detector_sees(frame_hw, model_hw, tile, expected):
    frame = np.random.default_rng(0).integers(0, 255, (*frame_hw, 3), dtype=np.uint8)
    tiles = quantize.calibration_tiles([frame], model_hw, tile, n=10)
    assert len(tiles) == expected
    assert all(t.shape == (1, 3, *model_hw) and t.dtype == np.float32 and t.max() <= 1 for t in tiles)
    if (frame_hw, tile) == ((720, 1280), 640):  # the left tile is the frame's top-left 640 x 640, unscaled
        np.testing.assert_allclose(tiles[0][0, ::-1].transpose(1, 2, 0) * 255, frame[:640, :640], atol=1e-3)


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
        quantize.quantize_int8(make_input(tmp_path), tmp_path / "out.onnx", calib_dir=calib)
    assert not (tmp_path / "out.onnx").exists()


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        pytest.param("empty", "No readable images", id="empty"),
        pytest.param("missing", "does not exist", id="missing"),
        pytest.param("text-only", "No readable images", id="no-images"),
    ],
)
def test_quantize_rejects_bad_calibration_folders(tmp_path, tiny, folder, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "text-only").mkdir()
    (tmp_path / "text-only" / "broken.png").write_text("not an image")
    with pytest.raises(ValueError, match=message):
        quantize.quantize_int8(tiny, tmp_path / "out.onnx", calib_dir=tmp_path / folder)
    assert not (tmp_path / "out.onnx").exists()


@pytest.mark.parametrize(
    ("candidate", "recall", "precision", "agreement"),
    [
        pytest.param([HIT], 1.0, 1.0, 1.0, id="same-boxes"),
        pytest.param([MISS], 0.0, 0.0, 0.0, id="box-moved"),
        pytest.param([WEAK], 0.0, float("nan"), 0.0, id="score-fell-below-conf"),
        pytest.param([HIT, MISS], 1.0, 0.5, 2 / 3, id="extra-false-box"),
    ],
)
def test_self_check_scores_against_labels(tmp_path, candidate, recall, precision, agreement):
    fp32 = make_scripted_detector(tmp_path / "fp32.onnx", [HIT], ["sign"])
    int8 = make_scripted_detector(tmp_path / "int8.onnx", candidate, ["sign"])
    result = export.self_check(fp32, int8, check_frames(3), threads=1)
    assert (result.kind, result.images, result.signs) == ("detect", 3, 3)
    assert (result.reference.recall, result.reference.precision, result.reference.agreement) == (1.0, 1.0, 1.0)
    np.testing.assert_allclose([result.candidate.recall, result.candidate.precision, result.candidate.agreement],
                               [recall, precision, agreement])
    assert result.loss == pytest.approx(1.0 - recall)
    assert result.candidate.latency_ms > 0 and result.to_dict()["candidate"]["path"] == str(int8)


@pytest.fixture
def scripted_int8(monkeypatch):
    """export_and_check with scripted check frames and a 'quantizer' that writes a scripted detector."""

    def install(rows: list[list[float]]) -> None:
        def fake_quantize(onnx_in, onnx_out, calib_dir=None, recipe=None, nodes_to_exclude=None):
            return make_scripted_detector(Path(onnx_out), rows, ["sign"])

        monkeypatch.setattr(export, "quantize_int8", fake_quantize)
        monkeypatch.setattr(export, "labelled_frames", lambda n, seed: check_frames(4))

    return install


@pytest.mark.parametrize(
    ("candidate", "tolerance", "force", "written"),
    [
        pytest.param([HIT], 0.01, False, True, id="same-recall-kept"),
        pytest.param([HIT, MISS], 0.01, False, True, id="worse-precision-same-recall-kept"),
        pytest.param([MISS], 0.01, False, False, id="lost-recall-refused"),
        pytest.param([WEAK], 0.5, False, False, id="lost-recall-over-loose-tolerance-refused"),
        pytest.param([MISS], 1.0, False, True, id="tolerance-covers-loss"),
        pytest.param([MISS], 0.01, True, True, id="forced"),
    ],
)
def test_export_and_check_refuses_lost_recall(tmp_path, scripted_int8, candidate, tolerance, force, written):
    scripted_int8(candidate)
    fp32 = make_scripted_detector(tmp_path / "fp32.onnx", [HIT], ["sign"])
    out = tmp_path / "q.onnx"
    if written:
        path, result = export.export_and_check(fp32, out, int8=True, tolerance=tolerance, force=force)
        assert path == out and out.exists() and result is not None and result.reference.recall == 1.0
        assert result.candidate.path == str(out) and result.metric == "recall"
    else:
        with pytest.raises(ValueError, match=r"points of recall against FP32 .* not written"):
            export.export_and_check(fp32, out, int8=True, tolerance=tolerance, force=force)
        assert not out.exists()


def test_refused_int8_leaves_the_previous_file(tmp_path, scripted_int8):
    scripted_int8([MISS])
    fp32 = make_scripted_detector(tmp_path / "fp32.onnx", [HIT], ["sign"])
    previous = make_scripted_detector(tmp_path / "q.onnx", [HIT], ["sign"]).read_bytes()
    with pytest.raises(ValueError, match="not written"):
        export.export_and_check(fp32, tmp_path / "q.onnx", int8=True)
    assert (tmp_path / "q.onnx").read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fp32.onnx", "q.onnx"]


def test_cli_export_int8_from_onnx(tmp_path, tiny, calib, monkeypatch):
    monkeypatch.setattr(export, "labelled_frames", lambda n, seed: disc_frames(calib))
    out = tmp_path / "cli.int8.onnx"
    result = CliRunner().invoke(app, ["export", str(tiny), "--int8", "--calib", str(calib), "-o", str(out),
                                      "--tile", "640"])
    assert result.exit_code == 0, result.output
    assert "self-check" in result.output and "wrote" in result.output
    assert export.read_metadata(out)["astute_tile"] == "640"


def test_cli_export_refuses_lost_recall_in_one_line(tmp_path, scripted_int8):
    scripted_int8([MISS])
    fp32 = make_scripted_detector(tmp_path / "fp32.onnx", [HIT], ["sign"])
    result = CliRunner().invoke(app, ["export", str(fp32), "--int8", "-o", str(tmp_path / "q.onnx")])
    assert result.exit_code == 1
    assert "lost 100.0 points of recall" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "q.onnx").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["notes.txt"], "Not a model file", id="wrong-format"),
        pytest.param(["junk.onnx", "--int8", "--calib", "calib"], "Not a valid ONNX", id="not-a-model"),
        pytest.param(["missing.onnx", "--int8"], "Not a model file", id="missing"),
        pytest.param(["tiny.onnx", "--int8", "--calib", "empty"], "No readable images", id="empty-calib"),
        pytest.param(["tiny.onnx", "--roi", "1,2"], "ROI", id="bad-roi"),
        pytest.param(["tiny.onnx", "--tile", "672x570"], "multiple of 32", id="bad-tile"),
        pytest.param(["w.pt", "--imgsz", "6x"], "N or WxH", id="bad-imgsz"),
    ],
)
def test_cli_export_bad_input_is_one_line(tmp_path, tiny, calib, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "w.pt").write_bytes(b"not read: the size is checked first")
    (tmp_path / "junk.onnx").write_bytes(b"\x08\x01garbage")
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(app, ["export", *args])
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.int8.onnx")) and not list(tmp_path.glob("*.tmp.onnx"))


def _softmax_axes(model) -> list[int]:
    softmaxes = [node for node in model.graph.node if node.op_type == "Softmax"]
    return [next((a.i for a in node.attribute if a.name == "axis"), -1) for node in softmaxes]


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"logits": x})[0]


@pytest.mark.parametrize(
    ("make", "rewritten"),
    [
        pytest.param(lambda path: make_dfl_onnx(path), True, id="ultralytics-dfl"),
        pytest.param(lambda path: make_dfl_onnx(path, anchors=1), True, id="one-anchor"),
        pytest.param(lambda path: make_dfl_onnx(path, axis=-1, perm=(0, 1, 3, 2)), False, id="other-softmax"),
        pytest.param(lambda path: make_dfl_onnx(path, perm=(0, 1, 2, 3)), False, id="other-transpose"),
        pytest.param(make_classifier_onnx, False, id="classifier"),
    ],
)
def test_last_axis_dfl_rewrites_only_the_box_decode(tmp_path, make, rewritten):
    model = onnx.load(str(make(tmp_path / "in.onnx")))
    before = len(model.graph.node)
    assert export.last_axis_dfl(model) is rewritten
    assert export.last_axis_dfl(model) is False  # a second pass finds nothing left to do
    onnx.checker.check_model(model, full_check=True)
    assert len(model.graph.node) == before
    if rewritten:
        assert _softmax_axes(model) == [-1]
        assert {"/model.22/dfl/Transpose_last_axis", "/model.22/dfl/Softmax_last_axis",
                "/model.22/dfl/MatMul_expectation"} <= set(quantize.tail_nodes(model))  # they stay FP32 in INT8


@pytest.mark.parametrize("anchors", [1, 6, 37])
def test_last_axis_dfl_gives_the_same_boxes(tmp_path, anchors):
    source = make_dfl_onnx(tmp_path / "dfl.onnx", anchors=anchors)
    model = onnx.load(str(source))
    assert export.last_axis_dfl(model)
    onnx.save(model, str(tmp_path / "fast.onnx"))
    x = np.random.default_rng(anchors).normal(0, 3, (1, 64, anchors)).astype(np.float32)
    expected = _run(source, x)
    np.testing.assert_allclose(_run(tmp_path / "fast.onnx", x), expected, rtol=1e-5, atol=1e-5)
    bins = np.exp(x.reshape(4, 16, anchors) - x.reshape(4, 16, anchors).max(1, keepdims=True))
    np.testing.assert_allclose(expected[0], (bins * np.arange(16)[:, None]).sum(1) / bins.sum(1), rtol=1e-5)


def test_export_of_an_onnx_model_rewrites_its_box_decode(tmp_path):
    source = make_dfl_onnx(tmp_path / "dfl.onnx")
    written, check = export.export_and_check(source, tmp_path / "out" / "fast.onnx")
    assert check is None and written == tmp_path / "out" / "fast.onnx"
    assert _softmax_axes(onnx.load(str(written))) == [-1]
    assert _softmax_axes(onnx.load(str(source))) == [1]  # the input is left as it was
    again, _ = export.export_and_check(written, tmp_path / "again.onnx")
    assert again == written and not (tmp_path / "again.onnx").exists()  # nothing to do, nothing written


@pytest.mark.integration
@pytest.mark.parametrize("name", ["detector.onnx", "detector.int8.onnx"])
def test_bundled_detectors_take_the_dfl_softmax_over_the_last_axis(name):
    from astute_cli.paths import MODELS_DIR

    path = MODELS_DIR / name
    if not path.is_file():
        pytest.skip(f"no bundled {name}")
    assert _softmax_axes(onnx.load(str(path))) == [-1]


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
    assert quantize.input_shape(out)[1:] == (64, 64)
    assert _softmax_axes(onnx.load(str(out))) == [-1]  # the box decode was rewritten (last_axis_dfl)
