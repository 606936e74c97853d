"""The clip benchmark counts an alert of the wrong kind on a valued sign, and its wrong first value."""

from __future__ import annotations

import numpy as np
import pytest

from astute_cli.eval.clips import score_alerts, summarize_clips
from astute_cli.labels.clips import ClipLabels, SignTrack
from astute_cli.signs import parse_label
from astute_cli.types import Announcement, Detections

BOX = [100, 100, 120, 120]


def clip() -> ClipLabels:
    return ClipLabels(video="clip.mp4", fps=10.0, width=320, height=240, n_frames=60, signs=[
        SignTrack(1, "3_11_n15", np.arange(30), np.tile(BOX, (30, 1)), passed_frame=30, readable_frame=0),
        SignTrack(2, "3_24_n90", np.arange(30, 60), np.tile([200, 100, 220, 120], (30, 1)), passed_frame=60,
                  readable_frame=30),
    ])


def alert(frame: int, label: str, box) -> Announcement:
    sign, value = parse_label(label)
    return Announcement(frame, frame / 10, 0, 0, label, sign, value, None, label, tuple(float(v) for v in box))


@pytest.mark.parametrize(
    ("alerts", "wrong_kind", "value_accuracy", "false_alerts"),
    [
        pytest.param([alert(5, "3_11_n15", BOX), alert(35, "3_24_n90", [200, 100, 220, 120])], 0, 1.0, 0,
                     id="right-kinds"),
        pytest.param([alert(5, "3_24_n10", BOX), alert(12, "3_11_n15", BOX),
                      alert(35, "3_24_n90", [200, 100, 220, 120])], 1, 0.5, 1, id="weight-said-as-speed-first"),
        pytest.param([alert(5, "3_11_n15", BOX), alert(12, "3_24_n10", BOX),
                      alert(35, "3_24_n90", [200, 100, 220, 120])], 1, 1.0, 1, id="wrong-kind-after-right"),
        pytest.param([alert(5, "3_24_n10", BOX), alert(35, "3_24_n90", [200, 100, 220, 120])], 1, 0.5, 1,
                     id="weight-only-said-as-speed"),
        pytest.param([alert(5, "2_1", [10, 10, 30, 30])], 0, None, 1, id="false-alert-elsewhere-is-not-wrong-kind"),
    ],
)
def test_wrong_kind_alerts(alerts, wrong_kind, value_accuracy, false_alerts):
    score = score_alerts(clip(), alerts)
    metrics = summarize_clips([score])
    assert metrics.wrong_kind_alerts == wrong_kind == score.wrong_kind_alerts
    assert metrics.value_accuracy == value_accuracy
    assert metrics.false_alerts == false_alerts
    assert metrics.per_clip["clip"]["wrong_kind_alerts"] == wrong_kind


def test_cached_detections_keep_values(tmp_path):
    from astute_cli.eval.replay import load_cached, save_cached

    per_frame = [(0, Detections(np.zeros((1, 4)), [0.9], [0], value=[90.0], value_confidence=[0.8])),
                 (1, Detections.empty())]
    save_cached(tmp_path / "c.npz", per_frame)
    loaded = load_cached(tmp_path / "c.npz")
    assert loaded[0][1].value.tolist() == [90.0] and loaded[0][1].value_confidence.tolist() == pytest.approx([0.8])
    assert len(loaded[1][1]) == 0
