"""Check that annotated MP4s play in a browser: headless Chromium loads each one in a <video>, seeks into it
and reports its size and duration (a file browsers reject gives an error instead).

    apt-get install -y chromium            # once; Debian's build plays H.264
    .venv/bin/python benchmarks/browser_check.py out/demo.astute.mp4 [more.mp4 …]

Exit code 0 when every file played.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

PAGE = """<html><body><video id="v" src="{name}" muted></video><pre id="out">pending</pre><script>
const v = document.getElementById('v'), out = document.getElementById('out');
v.addEventListener('loadeddata', () => {{ v.currentTime = Math.min(1, v.duration / 2); }});
v.addEventListener('seeked', () => {{ out.textContent = JSON.stringify(
  {{ok: true, width: v.videoWidth, height: v.videoHeight, duration: v.duration}}); }});
v.addEventListener('error', () => {{ out.textContent = JSON.stringify(
  {{ok: false, code: v.error && v.error.code}}); }});
</script></body></html>"""
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=8000", "--dump-dom"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def check(video: Path, browser: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(video, Path(tmp) / "v.mp4")
        (Path(tmp) / "index.html").write_text(PAGE.format(name="v.mp4"))
        handler = functools.partial(_Quiet, directory=tmp)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            dom = subprocess.run([browser, *FLAGS, f"--user-data-dir={tmp}/profile",
                                  f"http://127.0.0.1:{server.server_address[1]}/index.html"],
                                 capture_output=True, text=True, timeout=90, check=False).stdout
        finally:
            server.shutdown()
    match = re.search(r'<pre id="out">([^<]*)</pre>', dom)
    return json.loads(match.group(1)) if match and match.group(1) != "pending" else {"ok": False, "code": "timeout"}


def main() -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        print("no Chromium: apt-get install -y chromium", file=sys.stderr)
        return 2
    ok = True
    for name in sys.argv[1:]:
        result = check(Path(name), browser)
        ok &= bool(result.get("ok"))
        print(json.dumps({"video": name, **result}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
