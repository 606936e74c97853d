"""Download the pilot dash-cam videos with yt-dlp, through its embedding API.

Each video becomes ``<title> [<id>].mp4`` plus a ``.json`` of its metadata beside it; a download archive makes a
re-run skip what is already there. A failed download leaves no partial file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHANNEL_URL = "https://www.youtube.com/@dashcamdriverelaxingdrivev7021/videos"
METADATA_KEYS = ("id", "title", "upload_date", "width", "height", "fps", "duration", "webpage_url", "url",
                 "extractor", "channel", "uploader")
_NO_NETWORK = re.compile(r"(name or service not known|temporary failure in name resolution|nodename nor servname|"
                         r"failed to resolve|getaddrinfo failed|network is unreachable|no route to host|"
                         r"connection refused|errno -[23]|errno 101|errno 111|errno 113)", re.IGNORECASE)

_PARTIAL = re.compile(r"(\.part(-Frag\d+)?$|\.ytdl$|\.temp\.|\.f\d+\.\w+$)")


@dataclass(frozen=True)
class FetchResult:
    """What happened to one video: ``fetched``, ``skipped`` (already in the archive) or ``failed``."""

    url: str
    status: str
    path: Path | None = None
    reason: str = ""


@dataclass(frozen=True)
class FetchOptions:
    """How to fetch.

    Attributes:
        out_dir: where videos and their metadata go.
        limit: only the N newest videos of a channel or playlist (None: all).
        max_height: best quality up to this height in pixels (higher: signs readable from further away).
        section: (start_s, end_s) to download only that part, or None.
        archive: the download-archive file (default: ``archive.txt`` in ``out_dir``).
    """

    out_dir: Path = Path("videos")
    limit: int | None = None
    max_height: int = 1080
    section: tuple[float, float] | None = None
    archive: Path | None = None


def parse_section(text: str) -> tuple[float, float]:
    """``"1:00-2:30"`` or ``"60-150"`` → (60.0, 150.0)."""
    match = re.fullmatch(r"\s*([\d:.]+)\s*-\s*([\d:.]+)\s*", text)
    if not match:
        raise ValueError(f"Bad --section {text!r}: use START-END, e.g. 1:00-2:30 or 60-150")
    start, end = (_seconds(part) for part in match.groups())
    if end <= start:
        raise ValueError(f"Bad --section {text!r}: the end must come after the start")
    return start, end


def _seconds(text: str) -> float:
    total = 0.0
    for part in text.split(":"):
        total = total * 60 + float(part)
    return total


def format_selector(max_height: int) -> str:
    """Best H.264/MP4 video up to ``max_height`` with AAC audio, falling back to any single file that fits."""
    h = int(max_height)
    return (f"bv*[height<={h}][ext=mp4]+ba[ext=m4a]/b[height<={h}][ext=mp4]/bv*[height<={h}]+ba/"
            f"b[height<={h}]/b")


def ydl_options(options: FetchOptions, hooks: list[Callable] | None = None, logger=None) -> dict:
    """The YoutubeDL options for these fetch options (documented API keys only)."""
    archive = options.archive or options.out_dir / "archive.txt"
    opts: dict = {
        "format": format_selector(options.max_height),
        "merge_output_format": "mp4",
        # the whole name is capped (a remote name may be hundreds of characters; file systems allow 255 bytes)
        "outtmpl": {"default": str(options.out_dir / "%(title).80B [%(id).40B].%(ext)s")},
        "trim_file_name": 160,
        "download_archive": str(archive),
        "ffmpeg_location": str(ffmpeg_dir()),
        "noplaylist": False,
        "ignoreerrors": "only_download",
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "retries": 2,
        "socket_timeout": 20,
        "progress_hooks": hooks or [],
        "logger": logger,
        "restrictfilenames": True,
    }
    if options.limit:
        opts["playlistend"] = int(options.limit)
    if options.section:
        from yt_dlp.utils import download_range_func

        opts["download_ranges"] = download_range_func(None, [options.section])
        opts["force_keyframes_at_cuts"] = True
    return opts


def ffmpeg_dir() -> Path:
    """A folder where imageio-ffmpeg's binary is called ``ffmpeg``: yt-dlp finds programs by that name."""
    import imageio_ffmpeg

    from astute_cli.paths import astute_home

    folder = astute_home() / "bin"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "ffmpeg"
    target = Path(imageio_ffmpeg.get_ffmpeg_exe())
    if not link.exists() or link.resolve() != target.resolve():
        link.unlink(missing_ok=True)
        link.symlink_to(target)
    return folder


class _Logger:
    """Collects yt-dlp's errors instead of printing them."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def debug(self, message: str) -> None:
        pass

    def info(self, message: str) -> None:
        pass

    def warning(self, message: str) -> None:
        pass

    def error(self, message: str) -> None:
        self.errors.append(message)


def fetch(urls: list[str], options: FetchOptions, on_progress: Callable[[dict], None] | None = None
          ) -> list[FetchResult]:
    """Download every video behind ``urls``; one result per video (or per URL that failed as a whole)."""
    from yt_dlp import YoutubeDL

    options.out_dir.mkdir(parents=True, exist_ok=True)
    # yt-dlp decides whether a partial (--section) download is possible by looking for ffmpeg on PATH only
    if str(ffmpeg_dir()) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{ffmpeg_dir()}{os.pathsep}{os.environ.get('PATH', '')}"
    results: list[FetchResult] = []
    for url in urls or [CHANNEL_URL]:
        logger = _Logger()
        before = _files(options.out_dir)
        try:
            with YoutubeDL(ydl_options(options, [on_progress] if on_progress else None, logger)) as ydl:
                info = ydl.extract_info(url, download=True)
                results += _results_of(ydl, url, info, logger)
        except KeyboardInterrupt:
            _remove_partials(options.out_dir, before)
            raise
        except Exception as error:  # yt-dlp raises DownloadError, ExtractorError and plain OSErrors
            results.append(FetchResult(url, "failed", None, explain(str(error), url)))
        _remove_partials(options.out_dir, before, keep={r.path for r in results if r.path})
    return results


def _results_of(ydl, url: str, info: dict | None, logger: _Logger) -> list[FetchResult]:
    if info is None:
        reason = logger.errors[-1] if logger.errors else "nothing to download"
        return [FetchResult(url, "failed", None, explain(reason, url))]
    entries = [e for e in info.get("entries") or [] if e is not None] if "entries" in info else [info]
    failed = len(list(info.get("entries") or [])) - len(entries) if "entries" in info else 0
    results = [_result_of(ydl, entry, logger) for entry in entries]
    results += [FetchResult(url, "failed", None, explain(e, url)) for e in logger.errors[-failed:]] if failed else []
    if not results:
        results.append(FetchResult(url, "skipped", None, "no new videos (all in the archive)"))
    return results


def _result_of(ydl, entry: dict, logger: _Logger) -> FetchResult:
    source = entry.get("webpage_url") or entry.get("url") or entry.get("id", "?")
    path = _downloaded_path(entry)
    if path is None or not path.exists():
        if logger.errors:
            return FetchResult(source, "failed", None, explain(logger.errors.pop(0), source))
        return FetchResult(source, "skipped", None, "already in the archive")
    metadata = {k: entry.get(k) for k in METADATA_KEYS}
    metadata["source_url"] = source
    metadata["file"] = path.name
    full = ydl.sanitize_info(entry)
    metadata.update({k: full.get(k) for k in ("format", "vcodec", "acodec") if full.get(k) is not None})
    path.with_suffix(".json").write_text(json.dumps(metadata, indent=2, ensure_ascii=False), encoding="utf-8")
    return FetchResult(source, "fetched", path, "")


def _downloaded_path(entry: dict) -> Path | None:
    for item in entry.get("requested_downloads") or []:
        if item.get("filepath"):
            return Path(item["filepath"])
    return Path(entry["filepath"]) if entry.get("filepath") else None


def explain(message: str, url: str) -> str:
    """One line saying why a download failed: no network, HTTP errors, or yt-dlp's own words."""
    if _NO_NETWORK.search(message):
        return f"no network: cannot reach {url}"
    if "file:// urls are disabled" in message.lower():
        return "file:// URLs are not fetched (a local video needs no download): run astute annotate FILE on it"
    text = re.sub(r"^(ERROR:\s*)+", "", message.strip().splitlines()[0] if message.strip() else "unknown error")
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _files(folder: Path) -> set[Path]:
    return set(folder.iterdir()) if folder.exists() else set()


def _remove_partials(folder: Path, before: set[Path], keep: set[Path] | None = None) -> None:
    """Delete what this run left half-done: .part/.ytdl/.temp files and fragments."""
    keep = keep or set()
    for path in _files(folder) - before:
        if path.is_file() and path not in keep and _PARTIAL.search(path.name):
            path.unlink(missing_ok=True)
