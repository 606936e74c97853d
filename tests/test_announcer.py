from __future__ import annotations

import numpy as np
import pytest

from astute_cli.announcer import Announcer
from astute_cli.tracker import Tracker
from astute_cli.types import Detections

LABELS = ["3_24_n60", "3_24_n80", "5_19_1", "background", "3_13_r3.5"]


def frame(*signs: tuple[int, int, float]) -> Detections:
    """Tracked detections: (track_id, class_id, confidence) per sign."""
    n = len(signs)
    return Detections(np.tile([[100, 100, 130, 130]], (n, 1)), [s[2] for s in signs], [s[1] for s in signs],
                      [s[0] for s in signs])


def run(announcer: Announcer, frames: list[Detections]) -> list:
    return [a for i, f in enumerate(frames) for a in announcer.update(f, i)]


@pytest.mark.parametrize("fps", [3.0, 25.0])
def test_one_alert_per_sign_at_the_second_agreeing_frame(fps):
    alerts = run(Announcer(LABELS, fps=fps), [frame((1, 0, 0.9))] * 10)
    assert [(a.frame_index, a.sign, a.value, a.text) for a in alerts] == [(1, "3_24", 60.0, "Ограничение скорости 60")]
    assert alerts[0].t == pytest.approx(1 / fps)
    assert alerts[0].unit == "km/h" and alerts[0].priority == 1


def test_flicker_is_resolved_by_the_vote():
    # 60 and 80 alternate; 60 is seen more often and more surely, so 60 is announced, once
    script = [frame((1, 0, 0.6)), frame((1, 1, 0.5)), frame((1, 0, 0.7)), frame((1, 1, 0.4)), frame((1, 0, 0.8)),
              frame((1, 0, 0.9)), frame((1, 1, 0.5))]
    alerts = run(Announcer(LABELS, fps=10), script)
    assert [(a.value, a.frame_index) for a in alerts] == [(60.0, 2)]  # 1.3 vs 0.5 of the weight by frame 2


def test_background_and_unconfirmed_tracks_are_silent():
    alerts = run(Announcer(LABELS, fps=10), [frame((1, 3, 0.9), (-1, 2, 0.9))] * 5)
    assert alerts == []


def test_track_split_is_not_announced_again():
    frames = [frame((1, 2, 0.9))] * 3 + [frame((2, 2, 0.9))] * 3
    assert len(run(Announcer(LABELS, fps=10, split_window_s=2.0), frames)) == 1


def test_same_sign_much_later_is_announced_again():
    frames = [frame((1, 2, 0.9))] * 3 + [Detections.empty()] * 40 + [frame((2, 2, 0.9))] * 3
    assert len(run(Announcer(LABELS, fps=10, split_window_s=2.0), frames)) == 2


def test_two_different_signs_both_announced_in_english():
    alerts = run(Announcer(LABELS, fps=25, lang="en"), [frame((1, 2, 0.9), (2, 4, 0.8))] * 3)
    assert sorted(a.text for a in alerts) == ["Height limit 3.5 metres", "Pedestrian crossing"]


def test_label_of_reports_the_vote():
    announcer = Announcer(LABELS, fps=10)
    run(announcer, [frame((7, 1, 0.9)), frame((7, 0, 0.3))])
    assert announcer.label_of(7) == 1 and announcer.label_of(99) is None


@pytest.mark.parametrize("fps", [3, 25])
def test_tracker_and_announcer_give_one_alert_per_sign_on_a_drive(fps):
    from tests.test_tracker import drive

    frames = drive(60, fps, [(4.0, -2.4), (4.0, -1.6)])
    tracker, announcer = Tracker(fps=fps), Announcer(LABELS, fps=fps)
    alerts = []
    for i, f in enumerate(frames):
        f = Detections(f.xyxy, f.confidence, np.array([2, 4])[: len(f)])
        alerts += announcer.update(tracker.update(f), i)
    assert sorted(a.sign for a in alerts) == ["3_13", "5_19_1"]


def test_boxes_too_small_to_read_do_not_vote():
    small = Detections(np.array([[100, 100, 110, 110]]), [0.9], [0], [1])
    big = Detections(np.array([[100, 100, 125, 125]]), [0.9], [0], [1])
    alerts = run(Announcer(LABELS, fps=10, min_width_px=18), [small] * 5 + [big] * 2)
    assert [a.frame_index for a in alerts] == [6]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        pytest.param([(1, 0.5)] * 2 + [(0, 0.9)] * 6, [(1, "3_24", 80.0), (5, "3_24", 60.0)],
                     id="far-sign-read-wrong-then-right"),
        pytest.param([(1, 0.5)] * 2 + [(0, 0.9)] * 2, [(1, "3_24", 80.0)], id="too-few-votes-to-correct"),
        pytest.param([(0, 0.9)] * 2 + [(1, 0.6), (0, 0.7)] * 6, [(1, "3_24", 60.0)], id="flicker-is-not-corrected"),
        pytest.param([(2, 0.9)] * 2 + [(4, 0.9)] * 12 + [(2, 0.9)] * 12, [(1, "5_19_1", None), (7, "3_13", 3.5)],
                     id="corrected-once-only"),
    ],
)
def test_a_wrong_alert_is_corrected_once_when_the_vote_settles_elsewhere(script, expected):
    alerts = run(Announcer(LABELS, fps=10), [frame((1, c, p)) for c, p in script])
    assert [(a.frame_index, a.sign, a.value) for a in alerts] == expected


def test_correction_can_be_switched_off():
    script = [frame((1, 1, 0.5))] * 2 + [frame((1, 0, 0.9))] * 8
    assert len(run(Announcer(LABELS, fps=10, correct_votes=0), script)) == 1


@pytest.mark.parametrize(
    ("frames", "look", "expected"),
    [
        pytest.param([], frame((1, 0, 0.9)), [True], id="new-sign-undecided"),
        pytest.param([frame((1, 0, 0.9))] * 3, frame((1, 0, 0.9)), [False], id="said-decided"),
        pytest.param([], frame((-1, 0, 0.9)), [False], id="unconfirmed-track-not-looked-at"),
        pytest.param([], frame((1, 3, 0.9)), [False], id="background-never"),
        pytest.param([], frame((1, 0, 0.9), (2, 2, 0.9)), [True, True], id="two-signs"),
    ],
)
def test_undecided_rows_are_the_signs_not_yet_said(frames, look, expected):
    announcer = Announcer(LABELS, fps=25.0)
    run(announcer, frames)
    assert announcer.undecided(look).tolist() == expected


def test_undecided_skips_boxes_too_small_to_vote():
    small = Detections([[100, 100, 110, 110]], [0.9], [0], [1])
    assert Announcer(LABELS, min_width_px=18).undecided(small).tolist() == [False]
