"""The drive report in a real headless Chromium (Debian's `chromium`; `make test` installs it where it can)."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from astute_cli.pipeline import annotate
from tests.conftest import make_video
from tests.fakes import FakeDetector, FirstSightAnnouncer, IdentityTracker, make_detections

pytestmark = pytest.mark.slow
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--autoplay-policy=no-user-gesture-required", "--dump-dom"]
LABELS = ["5_19_1", "3_24_n60"]
# The report in a frame; once its video is loaded, click the second alert's marker and report where the video went.
# The page's load event (after which Chromium dumps the DOM and quits) waits for /hold, answered once /result came.
CLICK_SECOND_MARKER = """<html><body><iframe id="report" src="{report}" width="1000" height="800"></iframe>
<script>
const frame = document.getElementById('report');
const send = (result) => fetch('/result?' + encodeURIComponent(JSON.stringify(result)));
frame.addEventListener('load', () => {{
  const page = frame.contentDocument, video = page.getElementById('video');
  const marker = page.querySelectorAll('.marker')[1];
  const click = () => {{
    video.addEventListener('seeked', () => {{
      video.pause();
      send({{t: video.currentTime, wanted: parseFloat(marker.dataset.t), state: page.body.dataset.state}});
    }}, {{once: true}});
    marker.click();
  }};
  if (page.body.dataset.video === 'loaded') click(); else video.addEventListener('loadedmetadata', click);
}});
</script><img src="/hold" alt=""></body></html>"""


def open_in_chromium(url: str, tmp_path: Path, *flags: str) -> tuple[str, list[str]]:
    """(the DOM once the page has loaded, the console messages it logged)."""
    if BROWSER is None:
        pytest.skip("no Chromium on this machine: apt-get install -y chromium (make test does it as root)")
    proc = subprocess.run([BROWSER, *FLAGS, *flags, f"--user-data-dir={tmp_path / 'profile'}", url],
                          capture_output=True, text=True, errors="replace", timeout=90, check=False)
    return proc.stdout, [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]


class _Handler(http.server.SimpleHTTPRequestHandler):
    result: dict
    answered: threading.Event

    def do_GET(self) -> None:
        if self.path.startswith("/result?"):
            self.result.update(json.loads(unquote(self.path.split("?", 1)[1])))
            self.answered.set()
        elif self.path == "/hold":
            self.answered.wait(30)
        elif self.headers.get("Range", "").startswith("bytes="):
            self._send_range()  # a video seeks by byte ranges
            return
        else:
            super().do_GET()
            return
        self.send_response(204)
        self.end_headers()

    def _send_range(self) -> None:
        data = Path(self.translate_path(self.path)).read_bytes()
        first, _, last = self.headers["Range"][len("bytes="):].partition("-")
        start, end = int(first or 0), min(int(last) if last else len(data) - 1, len(data) - 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(self.path))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        self.wfile.write(data[start:end + 1])

    def log_message(self, *args) -> None:
        pass


def run_in_page(folder: Path, page: str, tmp_path: Path) -> tuple[dict, list[str]]:
    """Serve ``folder`` on the loopback, open ``page`` and return what it sent to /result, and its console."""
    answered, result = threading.Event(), {}
    handler = type("Handler", (_Handler,), {"result": result, "answered": answered})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _, console = open_in_chromium(f"http://127.0.0.1:{server.server_address[1]}/{quote(page)}", tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    return result, console


@pytest.fixture
def drive_report(tmp_path) -> tuple[Path, list[str]]:
    """An annotated 3 s drive with two alerts (0.3 s and 2.0 s) and its report; and the alert texts."""
    video = make_video(tmp_path / "поездка drive.mp4", n_frames=30, size_wh=(160, 96), fps=10.0)
    script = [make_detections([[60, 20, 90, 50]], class_id=[1]) if 3 <= i < 20 else
              make_detections([[20, 20, 50, 50]], class_id=[0]) for i in range(30)]
    script[:3] = [make_detections()] * 3

    class TwoSigns(IdentityTracker):
        def update(self, detections):
            tracked = super().update(detections)
            tracked.track_id[:] = tracked.class_id  # the 3.24 is track 1, the crossing later track 0
            return tracked

    result = annotate(video, FakeDetector(LABELS, script), TwoSigns(), FirstSightAnnouncer(LABELS, 10.0))
    assert [a.t for a in result.announcements] == pytest.approx([0.3, 2.0])
    return result.report, [a.text for a in result.announcements]


def test_report_opens_from_disk_shows_every_alert_and_logs_nothing(drive_report, tmp_path):
    report, texts = drive_report
    dom, console = open_in_chromium(report.resolve().as_uri(), tmp_path, "--virtual-time-budget=2000")
    body = re.search(r"<body([^>]*)>", dom).group(1)
    assert 'data-state="ready"' in body  # the page's script ran to its end
    cards = re.findall(r'<article class="alert[^"]*"[^>]*>.*?<p class="say">([^<]*)</p>', dom)
    assert cards == texts
    assert len(re.findall(r'<button class="marker', dom)) == len(texts)
    assert console == []


def test_clicking_an_alert_on_the_timeline_seeks_the_video(drive_report, tmp_path):
    report, _ = drive_report
    report.with_name("click.html").write_text(CLICK_SECOND_MARKER.format(report=quote(report.name)), encoding="utf-8")
    result, console = run_in_page(report.parent, "click.html", tmp_path)
    assert result["state"] == "ready" and result["wanted"] == 2.0
    assert result["t"] == pytest.approx(2.0, abs=0.15)
    assert console == []


def test_console_errors_are_seen(tmp_path):
    """The check above can fail: a page that logs an error and throws is caught."""
    page = tmp_path / "broken.html"
    page.write_text('<html><body><script>console.error("boom"); notAFunction();</script></body></html>')
    _, console = open_in_chromium(page.as_uri(), tmp_path)
    assert len(console) == 2 and "boom" in console[0] and "Uncaught ReferenceError" in console[1]
