from __future__ import annotations

import numpy as np
import pytest

from astute_cli.pipeline import annotate, run_stages
from astute_cli.schedule import Schedule, between
from astute_cli.types import Detections
from tests.conftest import make_video
from tests.fakes import FakeDetector, FirstSightAnnouncer, IdentityTracker, make_detections

LABELS = ["5_19_1", "3_24_n60"]


@pytest.mark.parametrize(
    ("video_fps", "scan_fps", "step"),
    [
        pytest.param(25.0, 5.0, 5, id="25fps-at-5"),
        pytest.param(30.0, 5.0, 6, id="30fps-at-5"),
        pytest.param(24.0, 5.0, 4, id="24fps-never-fewer-than-asked"),
        pytest.param(10.0, 5.0, 2, id="10fps-at-5"),
        pytest.param(5.0, 5.0, 1, id="5fps-every-frame"),
        pytest.param(3.0, 5.0, 1, id="slower-video-every-frame"),
        pytest.param(25.0, None, 1, id="none-every-frame"),
        pytest.param(25.0, 0.0, 1, id="zero-every-frame"),
        pytest.param(0.0, 5.0, 1, id="unknown-rate-every-frame"),
    ],
)
def test_schedule_at_rate(video_fps, scan_fps, step):
    schedule = Schedule.at_rate(video_fps, scan_fps)
    assert schedule.step == step
    if video_fps > 0:
        assert schedule.scan_fps(video_fps) >= min(video_fps, scan_fps or video_fps)


def test_schedule_refuses_a_step_below_one():
    with pytest.raises(ValueError, match="at least 1"):
        Schedule(0)


def _tracked(boxes, ids):
    return make_detections(boxes, track_id=np.asarray(ids, np.int64))


@pytest.mark.parametrize(
    ("before", "after", "fraction", "expected"),
    [
        pytest.param(_tracked([[0, 0, 10, 10]], [1]), _tracked([[10, 20, 30, 40]], [1]), 0.5,
                     [[5, 10, 20, 25]], id="same-track-moves-halfway"),
        pytest.param(_tracked([[0, 0, 10, 10]], [1]), _tracked([[10, 20, 30, 40]], [2]), 0.5,
                     [[0, 0, 10, 10]], id="other-track-keeps-its-box"),
        pytest.param(_tracked([[0, 0, 10, 10]], [-1]), _tracked([[10, 20, 30, 40]], [-1]), 0.5,
                     [[0, 0, 10, 10]], id="unconfirmed-rows-never-paired"),
        pytest.param(_tracked([[0, 0, 10, 10]], [1]), None, 0.5, [[0, 0, 10, 10]], id="no-next-scan-holds"),
        pytest.param(_tracked([[0, 0, 10, 10], [50, 50, 60, 60]], [1, 2]),
                     _tracked([[100, 100, 120, 120], [0, 0, 10, 10]], [2, 1]), 0.25,
                     [[0, 0, 10, 10], [62.5, 62.5, 75, 75]], id="paired-by-id-not-by-row"),
    ],
)
def test_between(before, after, fraction, expected):
    original = before.xyxy.copy()
    moved = between(before, after, fraction)
    np.testing.assert_allclose(moved.xyxy, expected)
    np.testing.assert_array_equal(before.xyxy, original)  # the scan's own boxes are left as found
    np.testing.assert_array_equal(moved.track_id, before.track_id)


def _growing_sign(n: int) -> list:
    return [make_detections([[10 + i, 10, 30 + 2 * i, 30 + i]], class_id=[1]) for i in range(n)]


@pytest.mark.parametrize(
    ("n_frames", "step", "scans"),
    [
        pytest.param(10, 1, list(range(10)), id="every-frame"),
        pytest.param(10, 5, [0, 5], id="step-5"),
        pytest.param(11, 5, [0, 5, 10], id="last-frame-a-scan"),
        pytest.param(3, 5, [0], id="shorter-than-a-step"),
    ],
)
def test_run_stages_detects_on_scans_and_yields_every_frame_in_order(n_frames, step, scans):
    detector = FakeDetector(LABELS, _growing_sign(n_frames))
    source = ((i, np.full((4, 4, 3), i, np.uint8)) for i in range(n_frames))
    out = list(run_stages(source, detector, IdentityTracker(), FirstSightAnnouncer(LABELS, 10.0), Schedule(step)))
    assert [index for index, *_ in out] == list(range(n_frames))
    assert all(int(frame[0, 0, 0]) == index for index, frame, *_ in out)  # each frame with its own pixels
    assert detector.calls == len(scans)
    assert [index for index, _, _, new in out if new] == [0]  # alerts only on scans
    assert all(len(d) == 1 for _, _, d, _ in out)  # the box is drawn on every frame


def test_run_stages_moves_boxes_between_scans():
    script = [make_detections([[0, 0, 10, 10]]), make_detections([[40, 0, 50, 10]])]
    source = ((i, None) for i in range(5))
    out = list(run_stages(source, FakeDetector(LABELS, script), IdentityTracker(),
                          FirstSightAnnouncer(LABELS, 10.0), Schedule(4)))
    assert [float(d.xyxy[0, 0]) for _, _, d, _ in out] == [0.0, 10.0, 20.0, 30.0, 40.0]


def test_annotate_with_a_schedule_writes_every_frame(tmp_path):
    video = make_video(tmp_path / "drive.mp4", n_frames=12, size_wh=(160, 96), fps=10.0)
    detector = FakeDetector(LABELS, _growing_sign(12))
    result = annotate(video, detector, IdentityTracker(), FirstSightAnnouncer(LABELS, 10.0), report=False,
                      schedule=Schedule(5))
    assert result.frames == 12 and detector.calls == 3
    assert [a.frame_index for a in result.announcements] == [0]
    assert result.realtime_factor > 0


@pytest.mark.parametrize(
    ("step", "full_every", "far_scans"),
    [
        pytest.param(5, 1, [], id="every-scan-whole"),
        pytest.param(5, 2, [5, 15], id="every-2nd-scan-whole"),
        pytest.param(1, 3, [1, 2, 4, 5, 7, 8], id="every-frame-every-3rd-whole"),
    ],
)
def test_run_stages_searches_the_far_band_alone_between_whole_scans(step, full_every, far_scans):
    schedule = Schedule(step, full_every)
    seen = []

    class Recording(FakeDetector):
        def detect(self, image, far_only=False):
            seen.append((image, far_only))
            return super().detect(image, far_only)

    source = ((i, i) for i in range(20 if step > 1 else 9))
    list(run_stages(source, Recording(LABELS, []), IdentityTracker(), FirstSightAnnouncer(LABELS, 10.0), schedule))
    assert [index for index, far in seen if far] == far_scans
    assert seen[0] == (0, False)  # the first scan searches the whole frame


@pytest.mark.parametrize(
    ("scan_fps", "full_every"),
    [pytest.param(None, 1, id="every-frame-always-whole"), pytest.param(5.0, 3, id="defaults")],
)
def test_at_rate_every_frame_is_always_whole(scan_fps, full_every):
    assert Schedule.at_rate(25.0, scan_fps).full_every == full_every


@pytest.mark.parametrize(
    ("video_fps", "full_every", "focus"),
    [
        pytest.param(25.0, 2, True, id="25fps-focus-between-far-scans"),
        pytest.param(10.0, 2, True, id="10fps-one-frame-between"),
        pytest.param(5.0, 1, False, id="5fps-no-frame-between-every-scan-whole"),
        pytest.param(8.0, 1, False, id="8fps-no-frame-between-every-scan-whole"),
    ],
)
def test_far_only_scans_only_where_focus_fills_in(video_fps, full_every, focus):
    schedule = Schedule.at_rate(video_fps, 5.0, full_every=2)
    assert (schedule.full_every, schedule.focus) == (full_every, focus)


class Describing(FakeDetector):
    """Finds the scripted boxes on scans; on a look again, calls every box it is given class 1, score as given."""

    def __init__(self, labels, script):
        super().__init__(labels, script)
        self.looked = 0

    def describe_kept(self, image, boxes):
        self.looked += len(boxes)
        return make_detections(boxes.xyxy, boxes.confidence, np.ones(len(boxes), np.int64)), np.ones(len(boxes), bool)


@pytest.mark.parametrize(
    ("focus", "frame_hw", "alert_frame", "looked"),
    [pytest.param(False, (240, 320), 10, 0, id="scans-only-alert-at-third-scan"),
     pytest.param(True, (240, 320), 6, 1, id="focus-alert-between-scans"),
     pytest.param(True, (120, 115), 10, 0, id="focus-skips-a-sign-expected-mostly-out-of-view"),
     pytest.param(True, (8, 8), 10, 0, id="focus-skips-a-sign-expected-wholly-out-of-view")],
)
def test_focus_announces_between_scans(focus, frame_hw, alert_frame, looked):
    from astute_cli.announcer import Announcer
    from astute_cli.tracker import Tracker

    step = 5
    script = [make_detections([[100 + 2 * k, 100, 130 + 4 * k, 130 + 2 * k]], class_id=[1]) for k in range(6)]
    detector = Describing(LABELS, script)
    tracker, announcer = Tracker(fps=25 / step), Announcer(LABELS, fps=25.0)
    source = ((i, np.zeros((*frame_hw, 3), np.uint8)) for i in range(30))
    out = list(run_stages(source, detector, tracker, announcer, Schedule(step, focus=focus)))
    alerts = [a for *_, new in out for a in new]
    assert [(a.frame_index, a.sign) for a in alerts] == [(alert_frame, "3_24")]
    assert [index for index, _, _, new in out if new] == [alert_frame]  # yielded with its own frame
    assert detector.looked == looked  # looked again only until the sign was said


class FarBand(Describing):
    """Finds its sign on whole scans, and around a box it is asked to search near; the far band (the left half)
    holds nothing."""

    def __init__(self, labels, box, far_band=True):
        super().__init__(labels, [])
        self.box = box
        self.searched = 0
        if not far_band:  # a detector whose far-only pass searches the whole frame has no far_pass_finds
            self.far_pass_finds = None

    def detect_around(self, image, xyxy):
        self.searched += len(xyxy)
        return make_detections([self.box], [0.8], class_id=[1])

    def detect(self, image, far_only=False):
        self.calls += 1
        return Detections.empty() if far_only else make_detections([self.box], [0.8], class_id=[1])

    def far_pass_finds(self, xyxy, frame_wh):
        return xyxy[:, 2] < frame_wh[0] / 2


class Quiet(FirstSightAnnouncer):
    """Nothing left undecided: no looks between scans, only the far scans' looks."""

    def undecided(self, detections):
        return np.zeros(len(detections), bool)


@pytest.mark.parametrize(
    ("focus", "box", "frames", "confirmed_at", "searched", "looked"),
    [pytest.param(True, [200, 100, 230, 130], 20, 5, 1, 1, id="outside-the-band-searched-around-then-classified"),
     pytest.param(False, [200, 100, 230, 130], 20, 15, 0, 0, id="no-focus-confirmed-at-the-next-whole-scan"),
     pytest.param(True, [20, 100, 50, 130], 20, 15, 0, 0, id="inside-the-band-left-to-the-far-search"),
     pytest.param(True, [310, 100, 340, 130], 20, 15, 0, 0, id="expected-mostly-out-of-view-not-looked-at")],
)
def test_far_scans_look_at_the_tracks_outside_the_far_band(focus, box, frames, confirmed_at, searched, looked):
    from astute_cli.tracker import Tracker

    detector = FarBand(LABELS, box)
    tracker = Tracker(fps=5.0)
    source = ((i, np.zeros((240, 320, 3), np.uint8)) for i in range(frames))
    schedule = Schedule(5, full_every=3, focus=focus)  # scans at 0 (whole), 5, 10 (far), 15 (whole)
    out = list(run_stages(source, detector, tracker, Quiet(LABELS, 25.0), schedule))
    scans = [(index, d) for index, _, d, _ in out if index % 5 == 0]
    first = next(index for index, d in scans if len(d) and d.track_id is not None and (d.track_id >= 0).any())
    assert first == confirmed_at
    assert (detector.searched, detector.looked) == (searched, looked)


def test_far_scans_do_not_look_for_a_detector_that_searches_the_whole_frame():
    from astute_cli.tracker import Tracker

    detector = FarBand(LABELS, [200, 100, 230, 130], far_band=False)
    source = ((i, np.zeros((240, 320, 3), np.uint8)) for i in range(15))
    list(run_stages(source, detector, Tracker(fps=5.0), Quiet(LABELS, 25.0), Schedule(5, full_every=2, focus=True)))
    assert detector.looked == 0


class PlateReader(Describing):
    """On a look again, keeps each box's class and reads 150 on the plates (class 1); the scans read nothing."""

    def describe_kept(self, image, boxes):
        self.looked += len(boxes)
        found = make_detections(boxes.xyxy, boxes.confidence, boxes.class_id)
        plate = boxes.class_id == 1
        found.value = np.where(plate, 150.0, np.nan).astype(np.float32)
        found.value_confidence = np.where(plate, 0.9, 0.0).astype(np.float32)
        return found, np.ones(len(boxes), bool)


def test_focus_reads_the_plate_under_a_waiting_sign_between_scans():
    from astute_cli.announcer import Announcer
    from astute_cli.tracker import Tracker

    labels, step = ["1_23", "8_1_1"], 5
    sign_and_plate = make_detections([[100, 100, 130, 130], [100, 132, 130, 142]], class_id=np.array([0, 1]))
    detector = PlateReader(labels, [sign_and_plate] * 8)
    tracker, announcer = Tracker(fps=25 / step), Announcer(labels, fps=25.0)
    source = ((i, np.zeros((240, 320, 3), np.uint8)) for i in range(40))
    alerts = [a for *_, new in run_stages(source, detector, tracker, announcer, Schedule(step, focus=True))
              for a in new]
    # confirmed at the second scan (frame 5); the looks at frames 6-8 read the plate three times, and the sign, looked
    # at before its plate in a frame, is said at the next look with the number (without the looks at plates: bare,
    # 1 s after it was due)
    assert [(a.frame_index, a.text) for a in alerts] == [(9, "Дети, через 150 метров")]


class Expecting:
    """A tracker that expects the given tracks (track id -1: seen once)."""

    def __init__(self, xyxy, track_ids):
        self.expected = make_detections(xyxy, class_id=np.ones(len(track_ids), np.int64),
                                        track_id=np.array(track_ids, np.int64))

    def predict(self, steps, tentative=False):
        return self.expected if tentative else self.expected[self.expected.track_id >= 0]


SIGN_A, SIGN_B, OUT_RIGHT = [200, 100, 230, 130], [20, 100, 50, 130], [310, 100, 340, 130]


@pytest.mark.parametrize(
    ("expected", "ids", "found", "far_only", "looked", "searched"),
    [
        pytest.param([SIGN_A], [3], [], False, 1, 0, id="confirmed-missed-on-a-whole-scan-classified"),
        pytest.param([SIGN_A], [3], [[202, 101, 232, 131]], False, 0, 0, id="confirmed-found-not-looked-at"),
        pytest.param([SIGN_A, SIGN_B], [3, 4], [SIGN_B], True, 1, 0, id="only-the-missed-one"),
        pytest.param([SIGN_A], [-1], [], True, 0, 1, id="seen-once-outside-the-band-searched-around"),
        pytest.param([SIGN_A], [-1], [], False, 0, 0, id="seen-once-whole-scan-left-to-the-next-scan"),
        pytest.param([SIGN_B], [-1], [], True, 0, 0, id="seen-once-inside-the-band-left-to-its-search"),
        pytest.param([OUT_RIGHT], [3], [], False, 0, 0, id="mostly-out-of-view-not-looked-at"),
    ],
)
def test_look_for_missed(expected, ids, found, far_only, looked, searched):
    from astute_cli.pipeline import look_for_missed

    detector = FarBand(LABELS, [250, 40, 280, 70])  # its search around finds a box outside the band: kept
    out = look_for_missed(np.zeros((240, 320, 3), np.uint8), make_detections(found), detector, Expecting(expected, ids),
                          far_only)
    assert (detector.looked, detector.searched, len(out)) == (looked, searched, looked + searched)


def test_a_look_for_a_missed_sign_that_lands_on_a_found_box_is_dropped():
    from astute_cli.pipeline import look_for_missed

    detector = FarBand(LABELS, [0, 0, 10, 10])
    found = make_detections([[200, 100, 230, 130]])
    # the track is expected a little off (IoU < SEEN_IOU with the found box), and the classifier's box is the found one
    detector.describe_kept = lambda image, boxes: (make_detections([[201, 100, 231, 130]]), np.ones(1, bool))
    out = look_for_missed(np.zeros((240, 320, 3), np.uint8), found, detector, Expecting([[228, 100, 258, 130]], [3]),
                          False)
    assert len(out) == 0
