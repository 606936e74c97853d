"""astute fetch against a local HTTP server (127.0.0.1 only; no internet is ever touched)."""

from __future__ import annotations

import http.server
import subprocess
import threading
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from astute_cli.cli import app
from astute_cli.fetch import FetchOptions, explain, fetch, format_selector, parse_section
from astute_cli.ffmpeg import ffmpeg_exe

runner = CliRunner()


def make_mp4(path: Path, size: str = "160x120", seconds: int = 4) -> Path:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size={size}:rate=10", "-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-movflags", "+faststart", str(path)], check=True)
    return path


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with HTTP Range support; /truncated.mp4 promises more bytes than it sends."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start, end = 0, len(data) - 1
        header = self.headers.get("Range")
        if header and header.startswith("bytes="):
            first, _, last = header[6:].partition("-")
            start, end = int(first or 0), int(last) if last else len(data) - 1
        body = data[start:end + 1]
        self.send_response(206 if header else 200)
        self.send_header("Content-Type", "video/mp4" if path.suffix == ".mp4" else "text/html")
        self.send_header("Accept-Ranges", "bytes")
        if header:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        truncated = path.name == "truncated.mp4"
        self.send_header("Content-Length", str(len(body) * (3 if truncated else 1)))
        self.end_headers()
        self.wfile.write(body)
        if truncated:
            self.close_connection = True


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    make_mp4(root / "drive.mp4")
    make_mp4(root / "a.mp4", seconds=1)
    make_mp4(root / "b.mp4", seconds=1)
    make_mp4(root / "c.mp4", seconds=1)
    make_mp4(root / "hi.mp4", size="320x240", seconds=1)
    make_mp4(root / "lo.mp4", size="160x120", seconds=1)
    (root / "renditions.html").write_text('<html><body><video controls>'
                                          '<source src="hi.mp4" type="video/mp4" res="240">'
                                          '<source src="lo.mp4" type="video/mp4" res="120"></video></body></html>')
    (root / "truncated.mp4").write_bytes((root / "drive.mp4").read_bytes())
    (root / "page.html").write_text("<html><body>" + "".join(
        f'<video src="{n}.mp4"></video>' for n in ("a", "b", "c")) + "</body></html>")

    handler = lambda *a, **k: RangeHandler(*a, directory=str(root), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def frames_of(path: Path) -> int:
    return int(cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FRAME_COUNT))


def test_direct_mp4_with_metadata(server, tmp_path):
    results = fetch([f"{server}/drive.mp4"], FetchOptions(out_dir=tmp_path))
    assert [r.status for r in results] == ["fetched"]
    video = results[0].path
    assert video.exists() and frames_of(video) == 40
    meta = video.with_suffix(".json").read_text()
    assert "source_url" in meta and "drive" in meta


def test_archive_skips_second_run(server, tmp_path):
    options = FetchOptions(out_dir=tmp_path)
    assert [r.status for r in fetch([f"{server}/drive.mp4"], options)] == ["fetched"]
    assert [r.status for r in fetch([f"{server}/drive.mp4"], options)] == ["skipped"]
    assert (tmp_path / "archive.txt").exists()


def test_page_of_videos_is_a_playlist_and_limit_applies(server, tmp_path):
    results = fetch([f"{server}/page.html"], FetchOptions(out_dir=tmp_path, limit=2))
    assert [r.status for r in results] == ["fetched", "fetched"]
    assert len(list(tmp_path.glob("*.mp4"))) == 2


@pytest.mark.parametrize(("max_height", "height"), [(120, 120), (1080, 240)])
def test_max_height_picks_the_rendition(server, tmp_path, max_height, height):
    results = fetch([f"{server}/renditions.html"], FetchOptions(out_dir=tmp_path, max_height=max_height))
    assert [r.status for r in results] == ["fetched"]
    assert int(cv2.VideoCapture(str(results[0].path)).get(cv2.CAP_PROP_FRAME_HEIGHT)) == height


def test_section_downloads_only_that_part(server, tmp_path):
    results = fetch([f"{server}/drive.mp4"], FetchOptions(out_dir=tmp_path, section=(1.0, 2.0)))
    assert [r.status for r in results] == ["fetched"]
    assert 5 <= frames_of(results[0].path) <= 20  # about one second at 10 fps, cut at keyframes


@pytest.mark.parametrize(
    ("name", "reason"),
    [pytest.param("missing.mp4", "404", id="404"), pytest.param("truncated.mp4", "", id="truncated")],
)
def test_failures_leave_no_partial_file(server, tmp_path, name, reason):
    results = fetch([f"{server}/{name}"], FetchOptions(out_dir=tmp_path))
    assert [r.status for r in results] == ["failed"]
    assert reason in results[0].reason
    assert not [p for p in tmp_path.iterdir() if p.suffix in {".mp4", ".part", ".ytdl"}]


def test_one_failure_does_not_stop_the_others(server, tmp_path):
    results = fetch([f"{server}/missing.mp4", f"{server}/drive.mp4"], FetchOptions(out_dir=tmp_path))
    assert [r.status for r in results] == ["failed", "fetched"]


def test_unreachable_host_says_no_network(tmp_path):
    results = fetch(["http://nonexistent.invalid/x.mp4"], FetchOptions(out_dir=tmp_path))
    assert results[0].status == "failed"
    assert results[0].reason == "no network: cannot reach http://nonexistent.invalid/x.mp4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("60-150", (60.0, 150.0)), ("1:00-2:30", (60.0, 150.0)), ("0:01:00-0:01:30.5", (60.0, 90.5))],
)
def test_parse_section(text, expected):
    assert parse_section(text) == expected


@pytest.mark.parametrize("text", ["abc", "10-5", "5"])
def test_parse_section_rejects(text):
    with pytest.raises(ValueError, match="--section"):
        parse_section(text)


def test_format_selector_caps_height():
    assert "height<=720" in format_selector(720) and "ext=mp4" in format_selector(720)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("ERROR: [generic] Unable to download webpage: <urlopen error [Errno -2] Name or service not known>",
         "no network: cannot reach U"),
        ("ERROR: Unable to download webpage: HTTP Error 404: Not Found", "Unable to download webpage: HTTP Error 404"),
    ],
)
def test_explain(message, expected):
    assert explain(message, "U").startswith(expected)


def test_cli_exit_codes(server, tmp_path):
    ok = runner.invoke(app, ["fetch", f"{server}/drive.mp4", "-o", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "fetched" in ok.output
    bad = runner.invoke(app, ["fetch", "http://nonexistent.invalid/x.mp4", "-o", str(tmp_path / "b")])
    assert bad.exit_code == 1
    assert "no network" in bad.output
    assert runner.invoke(app, ["fetch", "-o", str(tmp_path), "--section", "oops"]).exit_code == 1
