"""Scoring the speed-limit timeline (Euro NCAP style) and the labelled limit clips."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from astute_cli.eval import evaluate
from astute_cli.eval.limits import oracle_alerts, per_frame, score_clip, score_timeline, summarize
from astute_cli.labels.clips import ClipLabels, SignTrack, load_clip_labels
from astute_cli.limits import SpeedLimit
from astute_cli.signs import parse_label
from astute_cli.synth.limit_clips import (
    LIMIT_CLIPS,
    SAME,
    LimitClip,
    LimitPole,
    limit_timeline,
    random_limit_clip,
    render_limit_clip,
)
from astute_cli.types import Detections

ROOT = Path(__file__).resolve().parents[1]
FPS = 10.0
TRUTH = [{"frame": 0, "limit": None, "sign": None}, {"frame": 50, "limit": 60, "sign": "5_23_1"},
         {"frame": 150, "limit": 40, "sign": "3_24"}]


@pytest.mark.parametrize(
    ("shown", "right", "caught"),
    [
        pytest.param([{"frame": 50, "limit": 60}, {"frame": 150, "limit": 40}], 200, 2, id="exact"),
        pytest.param([{"frame": 25, "limit": 60}, {"frame": 130, "limit": 40}], 200, 2, id="early-in-window"),
        pytest.param([{"frame": 60, "limit": 60}, {"frame": 160, "limit": 40}], 200, 2, id="1s-late-in-window"),
        pytest.param([{"frame": 61, "limit": 60}, {"frame": 150, "limit": 40}], 200, 1, id="just-too-late"),
        pytest.param([{"frame": 19, "limit": 60}, {"frame": 150, "limit": 40}], 199, 1, id="just-too-early"),
        pytest.param([{"frame": 50, "limit": 60}], 161, 1, id="missed-change"),
        pytest.param([{"frame": 50, "limit": 60}, {"frame": 150, "limit": 50}], 150, 1, id="wrong-value"),
        pytest.param([], 61, 0, id="nothing-shown"),
    ],
)
def test_score_timeline(shown, right, caught):
    score = score_timeline(TRUTH, shown, 200, FPS)
    assert (score.frames_right, score.changes, score.caught) == (right, 2, caught)


def test_per_frame_and_summary():
    assert per_frame([{"frame": 2, "limit": 60}, {"frame": 4, "limit": None}], 6) == [None, None, 60, 60, None, None]
    a = score_timeline(TRUTH, [{"frame": 50, "limit": 60}, {"frame": 150, "limit": 40}], 200, FPS, "a")
    b = score_timeline(TRUTH, [], 200, FPS, "b")
    pooled = summarize([a, None, b])
    assert pooled["clips"] == 2 and pooled["changes_caught"] == 0.5
    assert pooled["time_right"] == pytest.approx((200 + 61) / 400)
    assert summarize([None]) is None


def _labels() -> ClipLabels:
    def track(i, label, x1, y1, x2, y2, passed):
        frames = list(range(passed - 20, passed))
        return SignTrack(i, label, frames, [[x1 + f * 0.5, y1, x2 + f * 0.5, y2] for f in frames], passed)

    signs = [track(1, "5_23_1", 100, 100, 140, 130, 40), track(2, "3_24_n40", 100, 100, 130, 130, 90),
             track(3, "8_4_1", 100, 132, 130, 142, 90), track(4, "3_24_n50", 100, 100, 130, 130, 140)]
    return ClipLabels("clip.mp4", FPS, 640, 360, 160, signs,
                      speed_limits=[{"frame": 0, "limit": None, "sign": None},
                                    {"frame": 40, "limit": 60, "sign": "5_23_1"},
                                    {"frame": 140, "limit": 50, "sign": "3_24"}])


def test_oracle_binds_plates_and_scores_the_rules():
    labels = _labels()
    alerts = oracle_alerts(labels)
    assert [(a.sign, a.value, a.plates, a.frame_index) for a in alerts] == [
        ("5_23_1", None, (), 39), ("3_24", 40.0, ("8_4_1",), 89), ("3_24", 50.0, (), 139)]
    score = score_clip(labels, alerts)
    assert (score.time_right, score.caught, score.changes) == (1.0, 2, 2)
    truck = score_clip(labels, alerts, vehicle="truck")  # the truck plate applies: 40 between
    assert truck.time_right < 1.0 and truck.caught == 2


def test_clip_labels_keep_their_speed_limits(tmp_path):
    labels = _labels()
    labels.save(tmp_path / "clip.labels.json")
    again = load_clip_labels(tmp_path / "clip.labels.json")
    assert again.speed_limits == labels.speed_limits
    assert load_clip_labels(ROOT / "annotations" / "drive_60kmh_25fps_720p.labels.json").speed_limits is None


def test_limit_timeline_from_hand_labels():
    clip = LimitClip("c", 50, 12.0, (LimitPole(38, ("5_23_1",), 60), LimitPole(70, ("1_23", "8_1_1"), SAME),
                                      LimitPole(100, ("3_24_n40",), 40)))
    labels = _labels()
    labels.signs = [SignTrack(i + 1, lab, [], [], passed) for i, (lab, passed) in
                    enumerate([("5_23_1", 40), ("1_23", 70), ("8_1_1", 70), ("3_24_n40", 100)])]
    assert limit_timeline(clip, labels, [0, 1, 3]) == [
        {"frame": 0, "t": 0.0, "limit": None, "sign": None},
        {"frame": 40, "t": 4.0, "limit": 60, "sign": "5_23_1", "sign_id": 1},
        {"frame": 100, "t": 10.0, "limit": 40, "sign": "3_24", "sign_id": 4}]
    labels.signs[3] = SignTrack(4, "3_24_n40", [], [], 160)
    with pytest.raises(ValueError, match="not passed"):
        limit_timeline(clip, labels, [0, 1, 3])


@pytest.mark.parametrize("clip", [pytest.param(c, id=c.name) for c in LIMIT_CLIPS])
def test_committed_limit_clips_follow_the_rules(clip):
    """The hand-written timeline of each committed clip and the rules agree when every sign is seen."""
    labels = load_clip_labels(ROOT / "limit-clips" / f"{clip.name}.labels.json")
    score = score_clip(labels, oracle_alerts(labels))
    assert score.caught == score.changes == sum(p.limit != SAME for p in clip.poles)
    assert score.time_right == 1.0


@pytest.mark.parametrize("seed", [pytest.param(seed, id=f"seed-{seed}") for seed in range(40)])
def test_random_limit_drives_follow_the_rules(seed):
    """The limits a random drive writes by hand and the rules (``limits.SpeedLimit``, a car) agree pole by pole;
    the poles come 2.2–3.5 s apart and the clip lasts until the last one is passed."""
    clip = random_limit_clip(seed)
    rules = SpeedLimit("car")
    for pole in clip.poles:
        code, value = parse_label(pole.labels[0])
        before = rules.limit
        rules.apply(code, value, pole.labels[1:])
        assert rules.limit == (before if pole.limit == SAME else pole.limit), (clip.name, pole)
    gaps = np.diff([pole.z_m for pole in clip.poles]) / (clip.speed_kmh / 3.6)
    assert gaps.min() >= 2.2 - 0.05 and gaps.max() <= 3.5 + 0.05
    assert clip.duration_s * clip.speed_kmh / 3.6 > clip.poles[-1].z_m


def test_random_limit_drives_render_with_their_timeline(tmp_path, shared_data):
    clip = replace(random_limit_clip(7, road="town"), duration_s=4.0, speed_kmh=120.0)
    clip = replace(clip, poles=clip.poles[:2])
    labels = load_clip_labels(render_limit_clip(clip, tmp_path))
    assert [change["limit"] for change in labels.speed_limits] == [None, *[p.limit for p in clip.poles]]


class _SeesNothing:
    def __init__(self) -> None:
        self.labels = ["3_24_n40", "background"]

    def detect(self, image):
        return Detections.empty()


def test_benchmark_reports_the_limit_fields():
    path = ROOT / "limit-clips" / "limits_residential_40kmh_720p.labels.json"
    clips = evaluate("fake.onnx", [path], detector=_SeesNothing()).clips
    assert clips.speed_limit_changes_caught == 0.0
    assert 0.0 < clips.speed_limit_time_right < 0.5  # right only while the labelled limit is still unknown
    assert clips.speed_limit["rules"]["time_right"] == 1.0
