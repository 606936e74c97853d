"""Live mode: the newest-frame reader (drops stale frames, paces a file, ends, raises, closes), the tracker told
the frame gaps, the background alert player, and the live loop with fakes and an injected display."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from astute_cli import speech
from astute_cli.pipeline import live
from astute_cli.source import LatestFrames
from astute_cli.speech import AlertPlayer
from astute_cli.tracker import Tracker
from astute_cli.types import Detections
from tests.conftest import make_video
from tests.fakes import FakeDetector, FakeSpeaker, FirstSightAnnouncer, make_detections

LABELS = ["1_1", "3_24_n60"]


def image(level: int = 0) -> np.ndarray:
    return np.full((8, 8, 3), level, np.uint8)


def timeline(n: int, fps: float = 25.0) -> list[tuple[float, np.ndarray]]:
    return [(i / fps, image(i)) for i in range(n)]


def take_all(frames: LatestFrames, work_s: float = 0.0) -> list[int]:
    indices = []
    for frame in frames:
        indices.append(frame.index)
        time.sleep(work_s)
    return indices


# --- the newest-frame reader ---------------------------------------------------------------------------------


def test_a_slow_consumer_gets_the_newest_frames_and_the_rest_are_dropped(tmp_path):
    video = make_video(tmp_path / "v.mp4", n_frames=30, fps=30.0)
    with LatestFrames(video) as frames:  # a file is paced: it plays as a camera
        indices = take_all(frames, work_s=0.1)
        assert frames.frames_read == 30
        assert frames.dropped == 30 - len(indices) > 0
    assert indices == sorted(set(indices))
    assert indices[0] == 0 and indices[-1] == 29


@pytest.mark.parametrize(("fps", "n"), [pytest.param(20.0, 10, id="20fps"), pytest.param(10.0, 6, id="10fps")])
def test_a_file_is_played_at_its_own_rate(tmp_path, fps, n):
    video = make_video(tmp_path / "v.mp4", n_frames=n, fps=fps)
    started = time.perf_counter()
    with LatestFrames(video) as frames:
        got = list(frames)
    assert time.perf_counter() - started >= 0.8 * (n - 1) / fps  # never faster than it plays
    assert [f.t for f in got] == sorted(f.t for f in got)
    assert got[-1].index == n - 1
    # a paced frame's capture time is when a camera would have taken it: the start plus its own time
    assert [f.captured - f.t for f in got] == pytest.approx([got[0].captured] * len(got), abs=1e-6)


@pytest.mark.parametrize("paced", [pytest.param(True, id="paced"), pytest.param(False, id="unpaced")])
def test_the_end_of_the_input_ends_the_iteration_and_the_thread(paced):
    frames = LatestFrames(timeline(5, fps=100.0), paced=paced)
    indices = take_all(frames)
    assert indices[-1] == 4 and indices == sorted(set(indices))
    assert frames.frames_read == 5
    frames.close()
    assert not frames.running
    with pytest.raises(StopIteration):
        next(frames)


def failing_camera(n: int):
    for i in range(n):
        yield i / 100.0, image(i)
    raise RuntimeError("camera unplugged")


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        pytest.param(lambda tmp: LatestFrames(failing_camera(3), paced=False), RuntimeError, "camera unplugged",
                     id="reader-fails"),
        pytest.param(lambda tmp: LatestFrames(tmp / "missing.mp4", fps=25.0), ValueError, "Cannot open video",
                     id="cannot-open"),
    ],
)
def test_an_error_in_the_reader_reaches_the_consumer(tmp_path, make, error, match):
    frames = make(tmp_path)
    with pytest.raises(error, match=match):
        take_all(frames)
    frames.close()
    assert not frames.running


def test_close_stops_the_reader_and_closes_the_source():
    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i / 25.0, image(i % 256)
                i += 1
        finally:
            closed.set()  # where a capture is released

    with LatestFrames(endless(), fps=25.0) as frames:
        first = next(frames)
        second = next(frames)
    assert second.index > first.index
    assert not frames.running
    assert closed.is_set()


# --- the tracker, told the frame gaps --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gap", "same_id"),
    [
        pytest.param(1, True, id="next-frame"),
        pytest.param(15, True, id="gap-within-buffer"),
        pytest.param(25, False, id="gap-past-buffer"),  # 1 s unseen > 0.8 s buffer: a new track
    ],
)
def test_the_lost_track_buffer_counts_frames_not_updates(gap, same_id):
    tracker = Tracker(fps=25.0, min_hits=1, lost_track_buffer_s=0.8)
    sign = make_detections([[100, 100, 120, 120]])
    first = tracker.update(sign)
    tracker.update(Detections.empty(), step=gap)
    again = tracker.update(sign, step=1)
    assert bool(again.track_id[0] == first.track_id[0]) is same_id


def test_a_growing_sign_seen_every_fifth_frame_keeps_one_id():
    tracker = Tracker(fps=25.0)
    ids = set()
    for frame in range(0, 60, 5):
        width = 400.0 / (40 - 0.5 * frame)  # 1 / width falls linearly: a sign approached at a steady speed
        cx = 640 + 30 * width
        tracked = tracker.update(make_detections([[cx - width / 2, 300 - width / 2, cx + width / 2,
                                                   300 + width / 2]]), step=5)
        ids |= {int(t) for t in tracked.track_id if t >= 0}
    assert ids == {1}


# --- the alert player ------------------------------------------------------------------------------------------


class GatedSpeaker(FakeSpeaker):
    """A fake speaker whose synthesis waits for ``gate``: a slow engine, as long as the test wants."""

    def __init__(self, seconds: float = 0.01) -> None:
        super().__init__()
        self.gate, self.seconds = threading.Event(), seconds

    def synthesize(self, text: str, lang: str) -> np.ndarray:
        self.gate.wait(timeout=10)
        self.said.append((text, lang))
        return np.zeros(int(self.seconds * self.sample_rate), np.float32)


class RecordingOutput:
    def __init__(self) -> None:
        self.played: list[int] = []

    def __call__(self, samples: np.ndarray, sample_rate: int) -> bool:
        self.played.append(len(samples))
        return True


def test_say_returns_while_the_speaker_is_still_busy():
    speaker = GatedSpeaker()
    player = AlertPlayer(speaker, "ru", output=RecordingOutput(), gap_s=0.0)
    player.say("first", 3)
    player.say("second", 3)  # returned although the first phrase cannot be synthesised yet
    assert speaker.said == [] and player.spoken == []
    speaker.gate.set()
    player.close(wait=True)
    assert [s.text for s in player.spoken] == ["first", "second"]


@pytest.mark.parametrize(
    ("queued", "expected"),
    [
        pytest.param([("c", 5), ("a", 1), ("b", 3)], ["busy", "a", "b", "c"], id="most-urgent-first"),
        pytest.param([("x", 2), ("y", 2)], ["busy", "x", "y"], id="same-priority-in-order"),
    ],
)
def test_alerts_waiting_are_said_most_urgent_first_one_at_a_time(queued, expected):
    speaker = GatedSpeaker()
    output = RecordingOutput()
    player = AlertPlayer(speaker, "ru", output=output, gap_s=0.0)
    player.say("busy", 9)  # taken at once; the others queue behind it
    deadline = time.perf_counter() + 5.0
    while player._waiting and time.perf_counter() < deadline:  # until the player has taken it
        time.sleep(0.01)
    for text, priority in queued:
        player.say(text, priority)
    speaker.gate.set()
    player.close(wait=True)
    assert [s.text for s in player.spoken] == expected
    assert [s.behind for s in player.spoken] == [False] + [True] * len(queued)
    assert len(output.played) == len(expected)
    starts = [s.started for s in player.spoken]
    assert starts == sorted(starts)


def test_latency_runs_from_due_to_the_sound_start():
    player = AlertPlayer(FakeSpeaker(), "ru", output=RecordingOutput(), gap_s=0.0)
    due = time.perf_counter()
    player.say("alert", 3, due=due)
    player.close(wait=True)
    (spoken,) = player.spoken
    assert spoken.due == due <= spoken.queued <= spoken.started
    assert spoken.latency_s == spoken.started - due


def _busy_player(**kwargs) -> tuple[AlertPlayer, GatedSpeaker]:
    """A player whose first alert ("busy") is being said, so that what is queued next waits."""
    speaker = GatedSpeaker()
    player = AlertPlayer(speaker, "ru", output=RecordingOutput(), gap_s=0.0, **kwargs)
    player.say("busy", 9)
    deadline = time.perf_counter() + 5.0
    while player._waiting and time.perf_counter() < deadline:
        time.sleep(0.01)
    return player, speaker


@pytest.mark.parametrize(
    ("queued", "spoken", "dropped"),
    [
        pytest.param([("limit", 3, 1), ("limit 3.5", 4, 1)], ["busy", "limit 3.5"], ["limit"],
                     id="completion-replaces-its-waiting-alert"),
        pytest.param([("limit", 3, 1), ("crossing", 5, 2)], ["busy", "limit", "crossing"], [],
                     id="other-signs-both-said"),
        pytest.param([("limit", 3, None), ("limit 3.5", 4, None)], ["busy", "limit", "limit 3.5"], [],
                     id="no-key-never-replaced"),
    ],
)
def test_an_alert_replaces_the_waiting_one_of_its_sign(queued, spoken, dropped):
    player, speaker = _busy_player()
    for text, priority, key in queued:
        player.say(text, priority, key=key)
    speaker.gate.set()
    player.close(wait=True)
    assert [s.text for s in player.spoken] == spoken
    assert player.dropped == dropped


def test_a_replacement_keeps_the_more_urgent_priority_and_the_first_due_time():
    player, speaker = _busy_player(max_wait_s=None)
    player.say("limit", 1, due=10.0, key=7)
    player.say("other", 2)
    player.say("limit 3.5", 4, due=11.0, key=7)
    speaker.gate.set()
    player.close(wait=True)
    assert [(s.text, s.due) for s in player.spoken[1:2]] == [("limit 3.5", 10.0)]


@pytest.mark.parametrize(
    ("max_wait_s", "spoken"),
    [pytest.param(1.0, ["busy"], id="stale-alert-dropped"), pytest.param(None, ["busy", "old"], id="never-dropped")],
)
def test_an_alert_that_waited_too_long_is_dropped(max_wait_s, spoken):
    player, speaker = _busy_player(max_wait_s=max_wait_s)
    player.say("old", 3, due=time.perf_counter() - 10.0)  # due 10 s ago
    speaker.gate.set()
    player.close(wait=True)
    assert [s.text for s in player.spoken] == spoken
    assert player.dropped == ([] if max_wait_s is None else ["old"])


class BrokenSpeaker(FakeSpeaker):
    def synthesize(self, text: str, lang: str) -> np.ndarray:
        raise speech.SpeechError("no voice")


def test_a_speaker_error_is_raised_in_the_callers_thread():
    player = AlertPlayer(BrokenSpeaker(), "ru", output=RecordingOutput())
    player.say("alert", 3)
    with pytest.raises(speech.SpeechError, match="no voice"):
        player.close(wait=True)


def test_close_without_wait_drops_what_is_queued():
    speaker = GatedSpeaker()
    player = AlertPlayer(speaker, "ru", output=RecordingOutput())
    for text in ("a", "b", "c"):
        player.say(text, 3)
    player.close()
    speaker.gate.set()
    assert not player._thread.is_alive()
    assert len(player.spoken) <= 1


# --- the live loop ---------------------------------------------------------------------------------------------


class SteppedTracker:
    """Gives detection i the track id i, and records the frame gaps it is told."""

    def __init__(self) -> None:
        self.steps: list[int] = []

    def update(self, detections: Detections, step: int = 1) -> Detections:
        self.steps.append(step)
        return Detections(detections.xyxy, detections.confidence, detections.class_id, np.arange(len(detections)))


class SlowDetector(FakeDetector):
    def __init__(self, labels, script, seconds: float) -> None:
        super().__init__(labels, script)
        self.seconds = seconds

    def detect(self, image: np.ndarray) -> Detections:
        time.sleep(self.seconds)
        return super().detect(image)


class FakePlayer:
    """Records what it is asked to say, and when; says nothing."""

    def __init__(self) -> None:
        self.said: list[tuple[str, int, float]] = []
        self.keys: list = []
        self.spoken: list = []

    def say(self, text: str, priority: int = 5, due: float | None = None, key: object = None) -> None:
        self.said.append((text, priority, due))
        self.keys.append(key)


class Display:
    def __init__(self, stop_after: int | None = None) -> None:
        self.shown: list[tuple[int, ...]] = []
        self.stop_after = stop_after

    def __call__(self, frame: np.ndarray) -> bool:
        self.shown.append(frame.shape)
        return self.stop_after is None or len(self.shown) < self.stop_after


def two_signs(n: int) -> list[Detections]:
    return [make_detections([[10, 10, 40, 40], [50, 10, 80, 40]], class_id=np.array([0, 1]))] * n


@pytest.mark.parametrize(
    ("detect_s", "stop_after"),
    [
        pytest.param(0.0, None, id="keeps-up"),
        pytest.param(0.12, None, id="slow-detector-drops-frames"),
        pytest.param(0.0, 2, id="display-stops-it"),
    ],
)
def test_the_live_loop_shows_every_processed_frame_and_queues_alerts(tmp_path, detect_s, stop_after):
    n = 20
    video = make_video(tmp_path / "v.mp4", n_frames=n, fps=25.0, size_wh=(96, 64))
    detector, tracker = SlowDetector(LABELS, two_signs(n), detect_s), SteppedTracker()
    player, display = FakePlayer(), Display(stop_after)
    started = time.perf_counter()
    result = live(video, detector, tracker, FirstSightAnnouncer(LABELS, 25.0), show=display, player=player)
    assert len(display.shown) == result.frames == detector.calls == len(tracker.steps)
    assert display.shown[0] == (64, 96, 3)
    assert [text for text, _, _ in player.said] == ["sign 1_1", "sign 3_24_n60"]  # both seen on the first frame
    assert all(started <= due <= time.perf_counter() for _, _, due in player.said)
    assert [a.frame_index for a in result.announcements] == [0, 0]
    if stop_after is None:
        assert result.frames + result.dropped == n
        assert sum(tracker.steps[1:]) == n - 1  # the gaps add up to the last frame's index
    else:
        assert result.frames == stop_after
    if detect_s:
        assert result.dropped > 0 and max(tracker.steps) > 1


def test_live_speaks_through_its_own_background_player(tmp_path, monkeypatch):
    played = RecordingOutput()
    monkeypatch.setattr(speech, "play", played)
    video = make_video(tmp_path / "v.mp4", n_frames=5, fps=25.0)
    speaker = FakeSpeaker()
    result = live(video, FakeDetector(LABELS, two_signs(5)), SteppedTracker(), FirstSightAnnouncer(LABELS, 25.0),
                  speaker=speaker, show=Display())
    # the voice warmed up before the first frame, then the alerts, said before live returned
    assert [text for text, _ in speaker.said] == ["Внимание", "sign 1_1", "sign 3_24_n60"]
    assert len(played.played) == 2
    assert [s.text for s in result.spoken] == ["sign 1_1", "sign 3_24_n60"]
    assert result.latency_ms()["alerts"] == 2
    assert "frames processed" in result.summary()


@pytest.mark.parametrize(("full_every", "far_only"), [pytest.param(1, 0, id="all-whole"),
                                                      pytest.param(2, 2, id="every-other-far-only")])
def test_live_can_search_the_far_band_alone_between_whole_scans(tmp_path, full_every, far_only):
    video = make_video(tmp_path / "v.mp4", n_frames=5, fps=25.0)
    detector = FakeDetector(LABELS, two_signs(5))
    result = live(video, detector, SteppedTracker(), FirstSightAnnouncer(LABELS, 25.0), show=Display(stop_after=4),
                  player=FakePlayer(), full_every=full_every)
    assert result.frames == detector.calls == 4
    assert detector.far_only_calls == far_only


def test_warm_up_synthesises_a_phrase_in_the_language():
    speaker = FakeSpeaker()
    speech.warm_up(speaker, "ru")
    speech.warm_up(speaker, "en")
    assert speaker.said == [("Внимание", "ru"), ("Attention", "en")]
