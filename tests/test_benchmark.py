from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from astute_cli import eval as bench
from astute_cli.cli import app
from astute_cli.eval import BenchmarkResult, evaluate, evaluate_clip, score_alerts, summarize_clips
from astute_cli.labels.clips import ClipLabels, SignTrack
from astute_cli.signs import parse_label
from astute_cli.types import Announcement, Detections

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["3_24_n60", "2_1", "5_19_1", "1_23"]
RECALL_TOLERANCE = 0.05


def make_detections(xyxy=(), confidence=(), class_id=()) -> Detections:
    return Detections(np.asarray(xyxy, np.float32).reshape(-1, 4), confidence, class_id)


class FakeDetector:
    """Returns scripted Detections per call, in order; empty ones once the script runs out."""

    def __init__(self, script: list[Detections], conf: float = 0.5) -> None:
        self.labels = LABELS
        self.conf = conf
        self.script = list(script)
        self.calls = 0

    def detect(self, image: np.ndarray) -> Detections:
        self.calls += 1
        return self.script.pop(0) if self.script else Detections.empty()


class IdentityTracker:
    def update(self, detections: Detections) -> Detections:
        return Detections(detections.xyxy, detections.confidence, detections.class_id, np.arange(len(detections)))


class FirstSightAnnouncer:
    """Announces each track id the first time it is seen."""

    def __init__(self, labels: list[str], fps: float) -> None:
        self.labels, self.fps, self.seen = labels, fps, set()

    def update(self, dets: Detections, frame_index: int) -> list[Announcement]:
        out = []
        for box, cls, track in zip(dets.xyxy, dets.class_id, dets.track_id, strict=True):
            if int(track) not in self.seen:
                self.seen.add(int(track))
                out.append(alert(frame_index, self.labels[int(cls)], box, self.fps))
        return out


def fake_stages(labels, fps):
    return IdentityTracker(), FirstSightAnnouncer(labels, fps)


def alert(frame: int, label: str, box, fps: float = 10.0) -> Announcement:
    sign, value = parse_label(label)
    return Announcement(frame_index=frame, t=frame / fps, track_id=0, class_id=0, label=label, sign=sign,
                        value=value, unit=None, text=label, xyxy=tuple(float(v) for v in box))


@pytest.fixture
def coco_set(tmp_path) -> Path:
    """Two 96x96 images: three signs of widths 20 (3_24), 10 (5_19_1) and 70 (2_1)."""
    (tmp_path / "images").mkdir()
    for name in ("a.png", "b.png"):
        cv2.imwrite(str(tmp_path / "images" / name), np.full((96, 96, 3), 90, np.uint8))
    coco = {"images": [{"id": 1, "file_name": "a.png", "width": 96, "height": 96},
                       {"id": 2, "file_name": "b.png", "width": 96, "height": 96}],
            "categories": [{"id": 1, "name": "3_24"}, {"id": 2, "name": "5_19_1"}, {"id": 3, "name": "2_1"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]},
                            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [40, 40, 10, 10]},
                            {"id": 3, "image_id": 2, "category_id": 3, "bbox": [0, 0, 70, 70]}]}
    (tmp_path / "annotations.json").write_text(json.dumps(coco))
    return tmp_path / "annotations.json"


def frame_script() -> list[Detections]:
    return [
        # right box and class; right box wrong class (2_1 on a 5_19_1); a box on nothing
        make_detections([[10, 10, 30, 30], [40, 40, 50, 50], [70, 0, 75, 5]], [0.9, 0.8, 0.7], [0, 1, 1]),
        # right box and class, but under the detector's threshold 0.5
        make_detections([[0, 0, 70, 70]], [0.3], [1]),
    ]


def test_frame_metrics_exact(coco_set):
    metrics = bench.evaluate_frames(FakeDetector(frame_script()), coco_set)
    assert (metrics.images, metrics.gt_boxes, metrics.predictions) == (2, 3, 3)
    assert metrics.recall_any == pytest.approx(2 / 3)
    assert metrics.recall_class == pytest.approx(1 / 3)
    assert metrics.precision_any == pytest.approx(2 / 3)
    assert metrics.precision_class == pytest.approx(1 / 3)
    assert metrics.by_width["<20"] == pytest.approx({"gt": 1, "recall_any": 1.0, "recall_class": 0.0,
                                                    "predictions": 2, "precision_any": 0.5, "map50_any": 1.0,
                                                    "map50_class": 0.0})
    assert metrics.by_width["20-32"]["recall_class"] == 1.0
    assert metrics.by_width[">64"]["recall_any"] == 0.0  # only found under the threshold
    assert 0.0 < metrics.map50 <= 1.0
    assert metrics.map50_class <= metrics.map50
    assert metrics.map50_95 <= metrics.map50


def test_perfect_detector_has_map_one(coco_set):
    script = [make_detections([[10, 10, 30, 30], [40, 40, 50, 50]], [0.9, 0.9], [0, 2]),
              make_detections([[0, 0, 70, 70]], [0.9], [1])]
    metrics = bench.evaluate_frames(FakeDetector(script), coco_set)
    assert metrics.recall_class == metrics.precision_class == 1.0
    assert metrics.map50 == pytest.approx(1.0)
    assert metrics.map50_class == pytest.approx(1.0)


def scripted_clip() -> ClipLabels:
    """10 s at 10 fps: a speed limit (frames 0-29), its plate, a crossing (frames 40-59)."""
    grow = np.array([[100, 100, 100 + w, 100 + w] for w in np.linspace(10, 40, 20)])
    return ClipLabels(video="clip.mp4", fps=10.0, width=320, height=240, n_frames=100, signs=[
        SignTrack(1, "3_24_n60", np.arange(30), np.tile([100, 100, 120, 120], (30, 1)), passed_frame=30,
                  readable_frame=0),
        SignTrack(2, "8_2_1", np.arange(30), np.tile([100, 121, 120, 130], (30, 1)), passed_frame=30),
        SignTrack(3, "5_19_1", np.arange(40, 60), grow, passed_frame=60, readable_frame=45),
    ])


def test_clip_metrics_exact():
    alerts = [alert(10, "3_24_n60", [100, 100, 120, 120]),
              alert(15, "3_24_n60", [101, 101, 121, 121]),  # same sign again: duplicate
              alert(50, "1_23", [100, 100, 130, 130]),  # no such sign: false
              alert(52, "5_19_1", [0, 0, 5, 5])]  # box off, but the crossing is visible then: by time
    metrics = summarize_clips([score_alerts(scripted_clip(), alerts, name="clip")])
    assert metrics.signs == 2  # the plate is not counted
    assert metrics.sign_recall == 1.0
    assert metrics.value_accuracy == 1.0
    assert metrics.false_alerts == 1
    assert metrics.false_alerts_per_min == pytest.approx(6.0)
    assert metrics.duplicate_alerts == 1
    assert metrics.lead_time_s_median == pytest.approx((2.0 + 0.8) / 2)
    assert metrics.earliest_lead_s_median == pytest.approx((3.0 + 1.5) / 2)
    assert metrics.per_clip["clip"]["sign_recall"] == 1.0


@pytest.mark.parametrize(("alerts", "recall", "value_accuracy"), [
    pytest.param([], 0.0, None, id="silent"),
    pytest.param([alert(5, "3_24_n40", [100, 100, 120, 120])], 0.5, 0.0, id="wrong-value"),
    pytest.param([alert(80, "3_24_n60", [100, 100, 120, 120])], 0.0, None, id="too-late"),
])
def test_clip_recall_and_values(alerts, recall, value_accuracy):
    metrics = summarize_clips([score_alerts(scripted_clip(), alerts)])
    assert metrics.sign_recall == recall
    assert metrics.value_accuracy == value_accuracy


def test_two_alerts_on_two_same_signs_both_count():
    labels = scripted_clip()
    labels.signs.append(SignTrack(4, "3_24_n60", np.arange(20, 35), np.tile([200, 100, 220, 120], (15, 1)),
                                  passed_frame=35))
    score = score_alerts(labels, [alert(22, "3_24_n60", [100, 100, 120, 120]),
                                  alert(23, "3_24_n60", [200, 100, 220, 120])])
    assert score.false_alerts == 0 and score.duplicates == 0
    assert sum(s.recalled for s in score.signs) == 2


def clip_on_disk(tmp_path, video_factory) -> Path:
    video_factory("clip.mp4", n_frames=12, size_wh=(96, 64), fps=10.0)
    labels = ClipLabels(video="clip.mp4", fps=10.0, width=96, height=64, n_frames=12, signs=[
        SignTrack(1, "2_1", np.arange(10), np.tile([10, 10, 30, 30], (10, 1)), passed_frame=10, readable_frame=0)])
    return labels.save(tmp_path / "clip.labels.json")


def sign_every_frame() -> list[Detections]:
    return [make_detections([[10, 10, 30, 30]], [0.9], [1]) for _ in range(12)]


@pytest.mark.parametrize(("eval_fps", "calls", "alert_frame"), [
    pytest.param(None, 12, 0, id="every-frame"),
    pytest.param(5.0, 6, 0, id="every-2nd"),
])
def test_evaluate_clip_runs_the_stages(tmp_path, video_factory, eval_fps, calls, alert_frame):
    from astute_cli.labels.clips import load_clip_labels

    detector = FakeDetector(sign_every_frame())
    labels = load_clip_labels(clip_on_disk(tmp_path, video_factory))
    score = evaluate_clip(detector, labels, fake_stages, eval_fps=eval_fps)
    assert detector.calls == calls
    assert score.signs[0].recalled and score.signs[0].alert_frame == alert_frame
    assert score.signs[0].lead_time_s == pytest.approx(1.0)


def test_result_json_has_only_given_sections(tmp_path, video_factory, coco_set):
    clip = clip_on_disk(tmp_path, video_factory)
    only_clips = evaluate("fake.onnx", [clip], detector=FakeDetector(sign_every_frame()), stages=fake_stages)
    data = only_clips.to_dict()
    assert "frames" not in data
    assert {"sign_recall", "value_accuracy", "false_alerts_per_min", "duplicate_alerts",
            "lead_time_s_median"} <= set(data["clips"])
    assert {"fps_pipeline", "fps_detector", "threads"} <= set(data["speed"])
    both = evaluate("fake.onnx", [coco_set, clip], detector=FakeDetector(frame_script()), stages=fake_stages)
    assert {"recall_any", "recall_class", "precision_any", "map50"} <= set(both.to_dict()["frames"])
    path = both.save(tmp_path / "r.json")
    assert BenchmarkResult.load(path).to_dict() == both.to_dict()
    assert both.table().row_count > 5
    assert bench.save_chart([both, only_clips], tmp_path / "chart.png").stat().st_size > 0


def test_cli_benchmark(tmp_path, video_factory, coco_set, monkeypatch):
    clip = clip_on_disk(tmp_path, video_factory)
    monkeypatch.setattr(bench, "evaluate", partial(bench.evaluate, detector=FakeDetector(sign_every_frame()),
                                                   stages=fake_stages))
    out = tmp_path / "out.json"
    result = CliRunner().invoke(app, ["benchmark", "--data", str(clip), "--json", str(out),
                                      "--chart", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["clips"]["sign_recall"] == 1.0
    assert (tmp_path / "c.png").exists()


@pytest.mark.parametrize("args", [
    pytest.param(["benchmark"], id="no-data"),
    pytest.param(["benchmark", "--data", "/nonexistent/x.json"], id="missing-data"),
])
def test_cli_benchmark_errors(args, monkeypatch):
    monkeypatch.setattr(bench, "evaluate", partial(bench.evaluate, detector=FakeDetector([]), stages=fake_stages))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1


@pytest.mark.integration
def test_bundled_model_recall_not_below_baseline():
    """Per clip, the bundled model's sign recall stays within RECALL_TOLERANCE of benchmarks/baseline.json."""
    baseline_path = ROOT / "benchmarks" / "baseline.json"
    try:
        from astute_cli.detector import load_detector

        detector = load_detector(None)
    except (ImportError, FileNotFoundError, ValueError, RuntimeError) as error:
        pytest.skip(f"bundled model not available: {error}")
    if not baseline_path.exists():
        pytest.skip("no benchmarks/baseline.json recorded yet")
    baseline = BenchmarkResult.load(baseline_path)
    if baseline.clips is None:
        pytest.skip("baseline has no clip section")
    clips = [ROOT / "annotations" / f"{clip}.labels.json" for clip in baseline.clips.per_clip]
    result = evaluate(None, clips, detector=detector)  # the baseline's clips (later clips are not in it)
    for clip, row in baseline.clips.per_clip.items():
        if row["sign_recall"] is None:
            continue
        assert result.clips.per_clip[clip]["sign_recall"] >= row["sign_recall"] - RECALL_TOLERANCE, clip
    assert result.clips.false_alerts_per_min <= baseline.clips.false_alerts_per_min + 1.0


def test_cache_replays_detections(tmp_path, video_factory):
    from astute_cli.labels.clips import load_clip_labels

    labels = load_clip_labels(clip_on_disk(tmp_path, video_factory))
    first = evaluate_clip(FakeDetector(sign_every_frame()), labels, fake_stages, cache_dir=tmp_path / "cache")
    silent = FakeDetector([])
    again = evaluate_clip(silent, labels, fake_stages, cache_dir=tmp_path / "cache")
    assert silent.calls == 0
    assert again.signs[0].alert_frame == first.signs[0].alert_frame == 0


def test_cache_key_tells_two_stage_models_apart(tmp_path):
    from astute_cli.detector import load_detector
    from astute_cli.reader import DEFAULT_READER
    from tests.onnx_factories import make_classifier_onnx, make_detector_onnx

    keys = {}
    for name, probs in [("a", [0.9, 0.1]), ("b", [0.2, 0.8])]:
        folder = tmp_path / name
        folder.mkdir()
        make_classifier_onnx(folder / "c.onnx", probs, ["5_19_1", "3_24_n60"])
        model = make_detector_onnx(folder / "d.onnx", [[32, 32, 8, 8, 0.5]], ["sign"], astute_classifier="c.onnx")
        keys[name] = bench.model_key(load_detector(model, tile=0))
    detector = load_detector(tmp_path / "a" / "d.onnx", tile=0)
    detector.min_confidence = 0.5
    keys["a, other threshold"] = bench.model_key(detector)
    keys["a, zoomed"] = bench.model_key(load_detector(tmp_path / "a" / "d.onnx", tile=64, zoom="2"))
    one_view = load_detector(tmp_path / "a" / "d.onnx", tile=0, reader=DEFAULT_READER)
    one_view.reader.views = ((0.0, 0.0),)
    keys["a, a reader of one view"] = bench.model_key(one_view)
    assert len(set(keys.values())) == 5, keys
    assert keys["a"] == bench.model_key(load_detector(tmp_path / "a" / "d.onnx", tile=0))


def _load_script(name: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class OneStage:
    """A one-stage (all classes) detector: a true 3_24_n60 at 0.8 and a false 2_1 at 0.3, above its ``conf``."""

    labels = LABELS

    def __init__(self) -> None:
        self.conf = 0.5

    def detect(self, image: np.ndarray) -> Detections:
        found = make_detections([[100, 100, 130, 130], [500, 300, 530, 330]], [0.8, 0.3], [0, 1])
        return found[found.confidence >= self.conf]


@pytest.mark.parametrize(
    ("threshold", "precision", "recall"),
    [(0.0, 0.5, 1.0), (0.3, 0.5, 1.0), (0.325, 1.0, 1.0), (0.8, 1.0, 1.0), (0.825, 0.0, 0.0)],
)
def test_threshold_sweep_scores_a_one_stage_model(monkeypatch, threshold, precision, recall):
    choose = _load_script("choose_threshold")
    frame = np.zeros((720, 1280, 3), np.uint8)
    monkeypatch.setattr(choose.scene, "compose",
                        lambda rng, urban=False: (frame, np.array([[100, 100, 130, 130]], np.float32), ["3_24_n60"]))
    detector = OneStage()
    rows = {row["threshold"]: row for row in choose.sweep(detector, 2, det_conf=0.05)}
    assert detector.conf == 0.05  # the sweep sees every box down to --det-conf
    row = rows[threshold]
    assert (row["precision_any"], row["recall_any"], row["recall_class"]) == (precision, recall, recall)
    assert row["signs"] == 2
