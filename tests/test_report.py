from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from astute_cli.pipeline import annotate
from astute_cli.report import IndexRow, thumbnail_jpeg, write_index, write_report
from tests.conftest import make_video
from tests.fakes import FakeDetector, FirstSightAnnouncer, IdentityTracker, make_detections

HOSTILE = '<img src=x onerror="alert(1)"> & <b>\'quoted\''  # no "/" so that it can be a file name too


def event(t: float, sign: str, text: str, value=None, unit=None, **extra) -> dict:
    return {"t": t, "frame": round(t * 25), "track_id": 1, "sign": sign, "value": value, "unit": unit, "text": text,
            "box": [1, 2, 30, 30], **extra}


def document(events: list[dict], frames: int = 500, **extra) -> dict:
    return {"video": "drive.mp4", "fps": 25.0, "frames": frames, "events": events, **extra}


class Page(HTMLParser):
    """What a browser would see: the text, the elements by class, their attributes, and every URL the page loads."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)

    def by_class(self, name: str) -> list[dict]:
        return [a for _, a in self.elements if name in (a.get("class") or "").split()]

    def urls(self) -> list[str]:
        return [a[k] for _, a in self.elements for k in ("src", "href") if a.get(k)]


def render(tmp_path, doc: dict, thumbnails=(), lang: str = "ru") -> tuple[str, Page]:
    out = write_report(doc, tmp_path / "drive.astute.mp4", list(thumbnails), tmp_path / "drive.astute.html", lang)
    text = out.read_text(encoding="utf-8")
    return text, Page(text)


@pytest.mark.parametrize(
    ("events", "lang"),
    [
        pytest.param([], "ru", id="no-alerts"),
        pytest.param([event(1.36, "3_24", "Ограничение скорости 60", 60, "km/h")], "ru", id="one-ru"),
        pytest.param([event(2.0, "1_22", "Pedestrian crossing"), event(4.5, "3_13", "Height limit 3.5 metres", 3.5,
                                                                        "m"),
                      event(9.9, "5_19_1", "Crosswalk")], "en", id="three-en"),
    ],
)
def test_every_alert_is_on_the_timeline_and_in_the_list(tmp_path, events, lang):
    _, page = render(tmp_path, document(events), [b"\xff\xd8jpeg"] * len(events), lang)
    cards, markers = page.by_class("alert"), page.by_class("marker")
    assert [float(c["data-t"]) for c in cards] == [e["t"] for e in events]
    assert [float(m["data-t"]) for m in markers] == [e["t"] for e in events]
    for e in events:
        assert e["text"] in "".join(page.text)
    assert len([u for u in page.urls() if u.startswith("data:image/jpeg;base64,")]) == len(events)
    # markers sit where the alert is in the drive (20 s long)
    assert [m["style"] for m in markers] == [f"left:{e['t'] / 20 * 100:.3f}%" for e in events]


def test_report_is_self_contained_and_links_the_video_beside_it(tmp_path):
    _, page = render(tmp_path, document([event(1.0, "3_24", "Ограничение скорости 60", 60, "km/h")]), [b"x"])
    assert all(u.startswith("data:") or u == "drive.astute.mp4" for u in page.urls())
    assert [a["src"] for t, a in page.elements if t == "video"] == ["drive.astute.mp4"]
    assert not [a for t, a in page.elements if t in ("link", "iframe") or (t == "script" and a.get("src"))]


@pytest.mark.parametrize(
    ("place", "doc_of"),
    [
        pytest.param("alert text", lambda: document([event(1.0, "3_24", HOSTILE, 60, "km/h")]), id="alert-text"),
        pytest.param("video name", lambda: document([], video=f"/videos/{HOSTILE}.mp4"), id="video-name"),
        pytest.param("sign code", lambda: document([event(1.0, HOSTILE, "x")]), id="sign-code"),
        pytest.param("plate", lambda: document([event(1.0, "3_24", "x", plates=[HOSTILE, {"text": HOSTILE}])]),
                     id="plate"),
        pytest.param("limit sign", lambda: document([], speed_limits=[{"t": 1, "frame": 25, "limit": 60,
                                                                       "sign": HOSTILE}]), id="limit-sign"),
    ],
)
def test_hostile_strings_stay_text(tmp_path, place, doc_of):
    text, page = render(tmp_path, doc_of())
    assert "<img src=x" not in text and "<b>" not in text, place
    assert len(page.scripts) == 1  # the report's own script only
    assert [t for t, a in page.elements if t in ("b", "img") and a.get("src") == "x"] == []
    assert any(HOSTILE in s or HOSTILE.replace("_", ".") in s
               for s in [*page.text, *(v for _, a in page.elements for v in a.values() if v)]), place


def test_hostile_video_file_name_is_a_quoted_relative_link(tmp_path):
    folder = tmp_path / 'a "b" <c>'
    folder.mkdir()
    out = write_report(document([]), folder / "my drive #1?.astute.mp4", [], folder / "r.html")
    page = Page(out.read_text(encoding="utf-8"))
    assert [a["src"] for t, a in page.elements if t == "video"] == ["my%20drive%20%231%3F.astute.mp4"]


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        pytest.param(None, [], id="no-key-empty-band"),
        pytest.param([], [], id="empty-list"),
        pytest.param([{"t": 0.0, "frame": 0, "limit": 90, "sign": "5_24_1"}], [(0.0, 100.0, "90")],
                     id="one-from-start"),
        pytest.param([{"t": 2.0, "frame": 50, "limit": 60, "sign": "5_23_1"},
                      {"t": 10.0, "frame": 250, "limit": 40, "sign": "3_24"},
                      {"t": 15.0, "frame": 375, "limit": None, "sign": "3_31"}],
                     [(0.0, 10.0, ""), (10.0, 40.0, "60"), (50.0, 25.0, "40"), (75.0, 25.0, "")], id="changes"),
    ],
)
def test_speed_limit_band(tmp_path, limits, expected):
    extra = {} if limits is None else {"speed_limits": limits}
    _, page = render(tmp_path, document([], **extra))
    segments = page.by_class("segment")
    got = [(*(float(v) for v in re.findall(r"(?:left|width):([\d.]+)%", s["style"])), s["data-limit"])
           for s in segments]
    assert got == [(left, width, limit) for left, width, limit in expected]
    assert len(page.by_class("band")) == 1
    assert bool(page.by_class("band-empty")) is (not expected)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        pytest.param("ru", ["Запрещающие", "Предупреждающие", "Длительность: 0:20.0"], id="ru"),
        pytest.param("en", ["Prohibitory", "Warning", "Length: 0:20.0"], id="en"),
    ],
)
def test_summary_counts_signs_by_kind(tmp_path, lang, words):
    events = [event(1.0, "3_24", "a", 60, "km/h"), event(2.0, "3_24", "b", 40, "km/h"), event(3.0, "1_22", "c")]
    _, page = render(tmp_path, document(events), lang=lang)
    text = html.unescape(" ".join(page.text))
    for word in words:
        assert word in text
    assert re.search(r"(Запрещающие|Prohibitory)\s*2", text)


def test_thumbnail_is_the_sign_with_a_margin():
    import cv2

    frame = np.zeros((200, 300, 3), np.uint8)
    frame[90:110, 140:160] = (0, 0, 255)  # a red 20 px sign
    image = cv2.imdecode(np.frombuffer(thumbnail_jpeg(frame, (140, 90, 160, 110), margin=0.5, size_px=60),
                                       np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (60, 60)
    assert image[30, 30, 2] > 200 and image[2, 2].max() < 40  # red in the middle, the margin around it


def test_index_links_each_report(tmp_path):
    (tmp_path / "out").mkdir()
    rows = [IndexRow("a.mp4", "done", tmp_path / "out" / "a.astute.html", tmp_path / "out" / "a.astute.mp4", 3, 12.0),
            IndexRow(f"{HOSTILE}.mp4", "failed", message="Cannot open video")]
    page = Page(write_index(rows, tmp_path / "out" / "index.html", "en").read_text(encoding="utf-8"))
    assert [a["href"] for t, a in page.elements if t == "a"] == ["a.astute.html", "a.astute.mp4"]
    text = " ".join(page.text)
    assert f"{HOSTILE}.mp4" in text and "Cannot open video" in text and not page.scripts


def test_annotate_writes_the_report_with_a_thumbnail_per_alert(tmp_path):
    video = make_video(tmp_path / "drive.mp4", n_frames=8, size_wh=(160, 96), fps=10.0)
    script = [make_detections()] * 2 + [make_detections([[60, 20, 90, 50]], class_id=[1])] * 6
    result = annotate(video, FakeDetector(["5_19_1", "3_24_n60"], script), IdentityTracker(),
                      FirstSightAnnouncer(["5_19_1", "3_24_n60"], 10.0))
    assert result.report == tmp_path / "drive.astute.html"
    page = Page(result.report.read_text(encoding="utf-8"))
    assert [float(c["data-t"]) for c in page.by_class("alert")] == [0.2]
    assert len([u for u in page.urls() if u.startswith("data:image/jpeg")]) == 1


@pytest.mark.parametrize(
    ("report", "message"),
    [
        pytest.param("{tmp}/missing/r.html", "Output folder does not exist", id="missing-folder"),
        pytest.param("{tmp}", "Is a folder", id="a-folder"),
    ],
)
def test_bad_report_path_fails_before_the_first_frame(tmp_path, report, message):
    video = make_video(tmp_path / "drive.mp4", n_frames=4)
    detector = FakeDetector(["x"], [])
    with pytest.raises(ValueError, match=message):
        annotate(video, detector, IdentityTracker(), FirstSightAnnouncer(["x"], 10.0),
                 report=report.replace("{tmp}", str(tmp_path)))
    assert detector.calls == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drive.mp4"]


def test_no_report(tmp_path):
    video = make_video(tmp_path / "drive.mp4", n_frames=4)
    result = annotate(video, FakeDetector(["x"], []), IdentityTracker(), FirstSightAnnouncer(["x"], 10.0),
                      report=False)
    assert result.report is None and not list(tmp_path.glob("*.html"))
