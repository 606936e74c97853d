"""fetch: long remote names, names with brackets, one line per result, and a file:// refusal in astute's words
(issue 20, defects 8 and 17). A local HTTP server only; no internet."""

from __future__ import annotations

import http.server
import threading

import pytest
from typer.testing import CliRunner

from astute_cli.cli import app
from tests.test_fetch import make_mp4

runner = CliRunner()
LONG = "a" * 400


class AnyMp4Handler(http.server.BaseHTTPRequestHandler):
    """Serves the same small MP4 for any path ending in .mp4 (names too long for a disk included); 404 otherwise."""

    video: bytes = b""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        if not self.path.endswith(".mp4") or "missing" in self.path:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(self.video)))
        self.end_headers()
        self.wfile.write(self.video)


@pytest.fixture(scope="module")
def any_mp4_server(tmp_path_factory):
    AnyMp4Handler.video = make_mp4(tmp_path_factory.mktemp("www") / "v.mp4", seconds=1).read_bytes()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AnyMp4Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize(
    "name",
    [pytest.param(f"{LONG}.mp4", id="400-characters"), pytest.param("video.mp4", id="bracketed-id"),
     pytest.param("dash%5B%2Fx%5D.mp4", id="markup-in-title")],
)
def test_fetched_file_is_named_and_printed_as_it_is(any_mp4_server, tmp_path, name):
    result = runner.invoke(app, ["fetch", f"{any_mp4_server}/{name}", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    videos = list(tmp_path.glob("*.mp4"))
    assert len(videos) == 1
    assert len(videos[0].name.encode()) <= 255 and len(videos[0].with_suffix(".json").name.encode()) <= 255
    assert "[" in videos[0].name  # "<title> [<id>].mp4", the usual yt-dlp name
    assert f"fetched {any_mp4_server}/{name} {videos[0]}" in result.output


def test_a_failure_is_one_line_even_when_not_a_terminal(any_mp4_server, tmp_path):
    url = f"{any_mp4_server}/missing-{'b' * 120}.mp4"
    result = runner.invoke(app, ["fetch", url, "-o", str(tmp_path)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and url in lines[0] and "404" in lines[0], result.output


def test_file_urls_are_refused_in_astutes_words(tmp_path):
    video = make_mp4(tmp_path / "local.mp4", seconds=1)
    result = runner.invoke(app, ["fetch", video.as_uri(), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "--enable-file-urls" not in result.output
    assert "file://" in result.output and "astute annotate" in result.output
    assert not list((tmp_path / "out").glob("*.mp4"))
