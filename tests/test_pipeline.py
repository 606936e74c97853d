from __future__ import annotations

import json

import pytest

from astute_cli.ffmpeg import has_audio_stream
from astute_cli.pipeline import annotate, events_document, run_stages
from tests.conftest import make_video, read_frames
from tests.fakes import FakeDetector, FakeSpeaker, FirstSightAnnouncer, IdentityTracker, make_detections

LABELS = ["5_19_1", "3_24_n60"]


def scripted(n_frames: int, sign_from: int = 3) -> list:
    """One sign appearing at frame `sign_from` and growing."""
    script = []
    for i in range(n_frames):
        if i < sign_from:
            script.append(make_detections())
        else:
            s = 10 + 2 * i
            script.append(make_detections([[60, 10, 60 + s, 10 + s]], class_id=[1]))
    return script


def test_run_stages_wires_detector_tracker_announcer():
    detector = FakeDetector(LABELS, scripted(6))
    source = ((i, None) for i in range(6))
    out = list(run_stages(source, detector, IdentityTracker(), FirstSightAnnouncer(LABELS, 10.0)))
    assert [len(d) for _, _, d, _ in out] == [0, 0, 0, 1, 1, 1]
    assert [len(a) for *_, a in out] == [0, 0, 0, 1, 0, 0]


@pytest.mark.parametrize(
    ("audio", "speaker", "expect_audio"),
    [
        pytest.param(False, None, False, id="silent-input-no-voice"),
        pytest.param(False, FakeSpeaker(), True, id="silent-input-voice"),
        pytest.param(True, None, True, id="audio-kept-no-voice"),
        pytest.param(True, FakeSpeaker(), True, id="audio-mixed-with-voice"),
    ],
)
def test_annotate_writes_video_events_and_audio(tmp_path, audio, speaker, expect_audio):
    video = make_video(tmp_path / "drive.mp4", n_frames=12, size_wh=(160, 96), fps=10.0, audio=audio)
    result = annotate(video, FakeDetector(LABELS, scripted(12)), IdentityTracker(),
                      FirstSightAnnouncer(LABELS, 10.0), speaker)
    assert result.out == tmp_path / "drive.astute.mp4"
    assert len(read_frames(result.out)) == 12
    assert has_audio_stream(result.out) is expect_audio
    document = json.loads(result.events.read_text(encoding="utf-8"))
    assert document["frames"] == 12 and document["fps"] == pytest.approx(10.0)
    assert [e["frame"] for e in document["events"]] == [3]
    assert document["events"][0]["sign"] == "3_24_n60"
    if speaker is not None:
        assert speaker.said == [("sign 3_24_n60", "ru")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drive.astute.events.json", "drive.astute.html",
                                                          "drive.astute.mp4", "drive.mp4"]


def test_annotate_draws_on_frames(tmp_path):
    video = make_video(tmp_path / "drive.mp4", n_frames=6, size_wh=(160, 96), fps=10.0)
    plain = annotate(video, FakeDetector(LABELS, []), IdentityTracker(), FirstSightAnnouncer(LABELS, 10.0),
                     out=tmp_path / "plain.mp4")
    boxed = annotate(video, FakeDetector(LABELS, scripted(6, sign_from=0)), IdentityTracker(),
                     FirstSightAnnouncer(LABELS, 10.0), out=tmp_path / "boxed.mp4")
    diff = [abs(a.astype(int) - b.astype(int)).max() for a, b in zip(read_frames(plain.out), read_frames(boxed.out))]
    assert min(diff) > 100


def test_interrupt_leaves_no_output(tmp_path):
    video = make_video(tmp_path / "drive.mp4", n_frames=10)

    class Interrupting(FakeDetector):
        def detect(self, image):
            if self.calls == 5:
                raise KeyboardInterrupt
            return super().detect(image)

    with pytest.raises(KeyboardInterrupt):
        annotate(video, Interrupting(LABELS, []), IdentityTracker(), FirstSightAnnouncer(LABELS, 10.0),
                 FakeSpeaker())
    assert [p.name for p in tmp_path.iterdir()] == ["drive.mp4"]


def test_events_document_shape():
    from astute_cli.types import Announcement, VideoInfo

    a = Announcement(25, 1.0, 7, 1, "3_24_n60", "3_24", 60.0, "km/h", "Ограничение скорости 60", (1, 2, 3, 4), 1)
    doc = events_document(__import__("pathlib").Path("v.mp4"), VideoInfo(10, 10, 25.0, 50), 50, [a])
    assert doc["events"] == [{"t": 1.0, "frame": 25, "track_id": 7, "sign": "3_24", "value": 60, "unit": "km/h",
                              "text": "Ограничение скорости 60", "box": [1.0, 2.0, 3.0, 4.0]}]
