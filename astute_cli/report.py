"""The drive report: one self-contained HTML page per annotated video, and an index page over many drives.

The page needs no network: CSS and JS are inline, each sign's thumbnail is an inline JPEG (data URI) and the
video is the annotated MP4 beside the page, by a relative link. Every string from a video or an events file is
escaped, so a hostile file name or alert text stays text.
"""

from __future__ import annotations

import base64
import html
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import cv2
import numpy as np

from astute_cli import signs
from astute_cli.files import atomic_path

THUMBNAIL_PX = 112  # longest side of a sign's thumbnail
THUMBNAIL_MARGIN = 0.35  # context around the sign's box, as a fraction of the box's side
Thumbnails = Sequence[bytes | None] | Mapping[tuple[int, int], bytes]  # in event order, or by (frame, track_id)

_TEXT = {
    "ru": {
        "title": "Поездка", "alerts": "Оповещения", "timeline": "Знаки по времени", "limit": "Ограничение скорости",
        "summary": "Итог", "length": "Длительность", "kind": "Вид знаков", "count": "Число", "signs": "Знаки",
        "no_alerts": "Знаков не найдено.", "no_limits": "нет данных об ограничении",
        "unknown": "не известно", "from": "с", "video_missing": "Видео не найдено рядом с отчётом:",
        "index": "Поездки", "drive": "Видео", "status": "Статус", "report": "отчёт", "video": "видео",
        "done": "готово", "skipped": "уже было", "failed": "ошибка", "plates": "Таблички",
        "conditional": "условное", "limit_changes": "Смен ограничения",
        "unit_km/h": "км/ч", "unit_m": "м", "unit_t": "т", "unit_km": "км",
    },
    "en": {
        "title": "Drive", "alerts": "Alerts", "timeline": "Signs over time", "limit": "Speed limit",
        "summary": "Summary", "length": "Length", "kind": "Kind of sign", "count": "Count", "signs": "Signs",
        "no_alerts": "No signs were found.", "no_limits": "no speed limit data",
        "unknown": "unknown", "from": "from", "video_missing": "Video not found beside the report:",
        "index": "Drives", "drive": "Video", "status": "Status", "report": "report", "video": "video",
        "done": "done", "skipped": "already done", "failed": "failed", "plates": "Plates",
        "conditional": "conditional", "limit_changes": "Limit changes",
        "unit_km/h": "km/h", "unit_m": "m", "unit_t": "t", "unit_km": "km",
    },
}
_GROUPS = {  # GOST R 52290 groups of signs
    1: ("Предупреждающие", "Warning"), 2: ("Приоритета", "Priority"), 3: ("Запрещающие", "Prohibitory"),
    4: ("Предписывающие", "Mandatory"), 5: ("Особых предписаний", "Special regulations"),
    6: ("Информационные", "Information"), 7: ("Сервиса", "Service"), 8: ("Таблички", "Plates"),
    0: ("Прочие", "Other"),
}


@dataclass(frozen=True)
class IndexRow:
    """One drive on the index page.

    Attributes:
        name: what the drive is called (the input video's file name).
        status: ``done``, ``skipped`` (already annotated) or ``failed``.
        report: the drive's HTML report, or None.
        video: the annotated MP4, or None.
        alerts: how many alerts the drive has, or None when not known.
        length_s: the drive's length in seconds, or None.
        message: why it failed (empty otherwise).
    """

    name: str
    status: str
    report: Path | None = None
    video: Path | None = None
    alerts: int | None = None
    length_s: float | None = None
    message: str = ""


def thumbnail_jpeg(frame: np.ndarray, xyxy: Sequence[float], margin: float = THUMBNAIL_MARGIN,
                   size_px: int = THUMBNAIL_PX) -> bytes:
    """A JPEG of the sign as it was seen: its box with ``margin`` of context, scaled so its longest side is at most
    ``size_px`` (small signs are scaled up to it, to stay visible).

    Args:
        frame: (H, W, 3) BGR image.
        xyxy: the sign's box in frame pixels.
        margin: context added on each side, as a fraction of the box's width and height; bigger shows more road.
        size_px: the thumbnail's longest side.
    """
    height, width = frame.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    pad_x, pad_y = margin * max(x2 - x1, 1.0), margin * max(y2 - y1, 1.0)
    left, top = max(int(x1 - pad_x), 0), max(int(y1 - pad_y), 0)
    right, bottom = min(int(np.ceil(x2 + pad_x)), width), min(int(np.ceil(y2 + pad_y)), height)
    crop = frame[top:bottom, left:right] if right > left and bottom > top else frame
    scale = size_px / max(crop.shape[:2])
    crop = cv2.resize(crop, (max(round(crop.shape[1] * scale), 1), max(round(crop.shape[0] * scale), 1)),
                      interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise RuntimeError("Could not encode a sign thumbnail as JPEG")
    return data.tobytes()


def default_report_path(out: Path) -> Path:
    """``<out stem>.html`` beside the annotated MP4."""
    return out.with_name(f"{out.stem}.html")


def check_writable(path: Path) -> None:
    """Raise ValueError naming the problem when a file cannot be written at ``path`` (checked before any work)."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ValueError(f"Is a folder, not a file: {str(path)!r}")
    if not folder.is_dir():
        raise ValueError(f"Output folder does not exist: {str(folder)!r}")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"Output folder is not writable: {str(folder)!r}")


def write_report(events_doc: dict, video_path: str | Path, thumbnails: Thumbnails,
                 out_html: str | Path, lang: str = "ru") -> Path:
    """Write the drive's report page (atomically: a temporary file renamed into place).

    Args:
        events_doc: the events file's content (``pipeline.events_document``): ``fps``, ``frames``, ``events``
            and, when present, ``speed_limits``.
        video_path: the annotated MP4; the page links to it relative to ``out_html``.
        thumbnails: JPEGs (``thumbnail_jpeg``) of the signs: one per event in the events' order, or by the event's
            (frame, track_id); None or missing: no picture.
        out_html: the page to write.
        lang: ``ru`` or ``en``, for the page's own words (alert texts are shown as they were spoken).

    Returns:
        ``out_html``.
    """
    out_html = Path(out_html)
    source = _relative_url(Path(video_path), out_html.parent)
    _write_text_atomic(out_html, render_report(events_doc, source, thumbnails, lang))
    return out_html


def render_report(events_doc: dict, video_src: str, thumbnails: Thumbnails, lang: str = "ru") -> str:
    """The report page as a string (``video_src``: the URL of the MP4, relative to the page)."""
    text = _TEXT.get(lang, _TEXT["en"])
    fps = float(events_doc.get("fps") or 25.0)
    events = list(events_doc.get("events") or [])
    length_s = max(float(events_doc.get("frames") or 0) / fps, max((float(e.get("t", 0)) for e in events),
                                                                   default=0.0), 1e-6)
    name = Path(str(events_doc.get("video") or video_src)).name
    body = "\n".join([
        f'<header><h1>{_e(text["title"])}: {_e(name)}</h1>'
        f'<p>{_e(text["length"])} {_clock(length_s)} · {_e(text["alerts"])}: {len(events)}</p></header>',
        '<section class="player">'
        f'<video id="video" controls preload="metadata" src="{_e(video_src)}"></video>'
        f'<p id="video-missing" hidden>{_e(text["video_missing"])} {_e(video_src)}</p>',
        _timeline(events, events_doc.get("speed_limits"), length_s, text),
        "</section>",
        _alert_cards(events, thumbnails, text),
        _summary(events, events_doc.get("speed_limits"), length_s, text, lang),
    ])
    return _page(f'{text["title"]}: {name}', lang, body, length_s)


def write_index(rows: Sequence[IndexRow], out_html: str | Path, lang: str = "ru") -> Path:
    """Write the index page of many drives (links relative to it), atomically."""
    out_html = Path(out_html)
    text = _TEXT.get(lang, _TEXT["en"])
    lines = [f'<header><h1>{_e(text["index"])}</h1><p>{_e(text["drive"])}: {len(rows)}</p></header>',
             '<table class="index"><thead><tr>',
             "".join(f"<th>{_e(text[k])}</th>" for k in ("drive", "length", "alerts", "status")),
             "</tr></thead><tbody>"]
    for row in rows:
        links = [f'<a href="{_e(_relative_url(path, out_html.parent))}">{_e(text[word])}</a>'
                 for path, word in ((row.report, "report"), (row.video, "video")) if path is not None]
        status = _e(text.get(row.status, row.status)) + (f": {_e(row.message)}" if row.message else "")
        lines.append(f'<tr class="{_e(row.status)}"><td>{_e(row.name)} {" · ".join(links)}</td>'
                     f'<td>{"" if row.length_s is None else _clock(row.length_s)}</td>'
                     f'<td>{"" if row.alerts is None else row.alerts}</td><td>{status}</td></tr>')
    lines.append("</tbody></table>")
    _write_text_atomic(out_html, _page(text["index"], lang, "\n".join(lines), None))
    return out_html


def _timeline(events: list[dict], limits: list[dict] | None, length_s: float, text: dict) -> str:
    markers = "".join(
        f'<button class="marker g{signs.lookup(str(e.get("sign", ""))).group}" data-t="{float(e.get("t", 0)):.3f}" '
        f'style="left:{_pct(e.get("t", 0), length_s)}%" title="{_e(_clock(float(e.get("t", 0))))} {_e(e.get("text"))}"'
        f' aria-label="{_e(e.get("text"))}"></button>' for e in events)
    ticks = "".join(f'<span class="tick" style="left:{_pct(t, length_s)}%">{_clock(t, short=True)}</span>'
                    for t in _tick_times(length_s))
    return (f'<div class="timeline" aria-label="{_e(text["timeline"])}">'
            f'<div class="band-label">{_e(text["timeline"])}</div>'
            f'<div class="track" id="track">{markers}<div class="playhead" id="playhead"></div></div>'
            f'{_limit_band(limits, length_s, text)}<div class="ticks">{ticks}</div></div>')


def _limit_band(limits: list[dict] | None, length_s: float, text: dict) -> str:
    """The limit in force as coloured segments over the drive; an empty band (and a note) without data."""
    changes = sorted((c for c in limits or [] if isinstance(c, dict)), key=lambda c: float(c.get("t", 0)))
    segments = []
    if changes and float(changes[0].get("t", 0)) > 0:
        changes.insert(0, {"t": 0.0, "limit": None})
    for i, change in enumerate(changes):
        start = min(max(float(change.get("t", 0)), 0.0), length_s)
        end = float(changes[i + 1].get("t", length_s)) if i + 1 < len(changes) else length_s
        limit = change.get("limit")
        label = text["unknown"] if limit is None else f'{_num(limit)} {text["unit_km/h"]}'
        if change.get("conditional"):
            label += f' ({text["conditional"]})'
        code = str(change.get("sign") or "").replace("_", ".")
        title = f'{label} {text["from"]} {_clock(start)}' + (f" ({code})" if code else "")
        left = float(_pct(start, length_s))
        style = f"left:{left:.3f}%;width:{max(float(_pct(end, length_s)) - left, 0.0):.3f}%"
        colour = "" if limit is None else f";background:{_limit_colour(limit)}"
        segments.append(f'<div class="segment{" unknown" if limit is None else ""}" data-t="{start:.3f}" '
                        f'data-limit="{"" if limit is None else _e(_num(limit))}" style="{style}{colour}" '
                        f'title="{_e(title)}"><span>{"—" if limit is None else _e(_num(limit))}</span></div>')
    empty = "" if segments else f'<span class="band-empty">{_e(text["no_limits"])}</span>'
    return (f'<div class="band-label">{_e(text["limit"])}</div>'
            f'<div class="band" id="limit-band">{"".join(segments)}{empty}</div>')


def _alert_cards(events: list[dict], thumbnails: Thumbnails, text: dict) -> str:
    if not events:
        return f'<section class="alerts"><h2>{_e(text["alerts"])}</h2><p>{_e(text["no_alerts"])}</p></section>'
    cards = []
    for i, e in enumerate(events):
        if isinstance(thumbnails, Mapping):
            thumb = thumbnails.get((int(e.get("frame", -1)), int(e.get("track_id", -1))))
        else:
            thumb = thumbnails[i] if i < len(thumbnails) else None
        picture = (f'<img alt="{_e(e.get("sign"))}" src="data:image/jpeg;base64,{base64.b64encode(thumb).decode()}">'
                   if thumb else '<div class="no-thumb"></div>')
        code = str(e.get("sign") or "").replace("_", ".")
        unit = text.get(f'unit_{e.get("unit")}', e.get("unit"))
        value = "" if e.get("value") is None else _num(e["value"]) + (f" {unit}" if unit else "")
        plates = _plates(e.get("plates"), text)
        cards.append(f'<article class="alert" id="alert-{i}" data-t="{float(e.get("t", 0)):.3f}" tabindex="0">'
                     f'{picture}<div><p class="say">{_e(e.get("text"))}</p>'
                     f'<p class="meta"><time>{_clock(float(e.get("t", 0)))}</time> · <code>{_e(code)}</code>'
                     f'{" · " + _e(value) if value else ""}</p>{plates}</div></article>')
    return f'<section class="alerts"><h2>{_e(text["alerts"])}</h2><div class="cards">{"".join(cards)}</div></section>'


def _plates(plates, text: dict) -> str:
    """Plates under the sign, whatever shape the events give them (codes, or records with a sign and a text)."""
    if not plates:
        return ""
    items = []
    for p in plates if isinstance(plates, list) else [plates]:
        if isinstance(p, dict):
            words = p.get("text") or " ".join(_num(p[k]) for k in ("sign", "value", "unit") if p.get(k) is not None)
        else:
            words = str(p)
        items.append(f"<li>{_e(words if isinstance(p, dict) and p.get('text') else str(words).replace('_', '.'))}</li>")
    return f'<ul class="plates" aria-label="{_e(text["plates"])}">{"".join(items)}</ul>'


def _summary(events: list[dict], limits: list[dict] | None, length_s: float, text: dict, lang: str) -> str:
    by_group: dict[int, Counter] = {}
    for e in events:
        code = str(e.get("sign") or "")
        by_group.setdefault(signs.lookup(code).group, Counter())[code] += 1
    rows = []
    for group in sorted(by_group):
        names = ", ".join(f"{signs.sign_name(code, lang)} ×{n}" for code, n in by_group[group].most_common())
        rows.append(f'<tr><td>{_e(_GROUPS.get(group, _GROUPS[0])[lang != "ru"])}</td>'
                    f"<td>{sum(by_group[group].values())}</td><td>{_e(names)}</td></tr>")
    table = (f'<table><thead><tr><th>{_e(text["kind"])}</th><th>{_e(text["count"])}</th><th>{_e(text["signs"])}</th>'
             f'</tr></thead><tbody>{"".join(rows)}</tbody></table>' if rows else "")
    changes = f' · {_e(text["limit_changes"])}: {len(limits)}' if limits else ""
    return (f'<section class="summary"><h2>{_e(text["summary"])}</h2>'
            f'<p>{_e(text["length"])}: {_clock(length_s)} · {_e(text["alerts"])}: {len(events)}{changes}</p>'
            f"{table}</section>")


def _page(title: str, lang: str, body: str, length_s: float | None) -> str:
    script = "" if length_s is None else f"<script>{_SCRIPT}</script>"
    data = "" if length_s is None else f' data-length="{length_s:.3f}"'
    return (f'<!DOCTYPE html>\n<html lang="{_e(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body{data}>\n<main>\n{body}\n</main>\n"
            f"{script}</body></html>\n")


def _relative_url(target: Path, folder: Path) -> str:
    return quote(Path(os.path.relpath(target.resolve(), folder.resolve())).as_posix())


def _write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path, ordinary_mode=True) as temp:
        temp.write_text(text, encoding="utf-8")


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _pct(t, length_s: float) -> str:
    return f"{min(max(float(t) / length_s * 100.0, 0.0), 100.0):.3f}"


def _clock(seconds: float, short: bool = False) -> str:
    minutes, rest = divmod(max(float(seconds), 0.0), 60.0)
    return f"{int(minutes)}:{rest:02.0f}" if short else f"{int(minutes)}:{rest:04.1f}"


def _tick_times(length_s: float) -> list[float]:
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if length_s / s <= 10), 1200)
    return [float(t) for t in range(0, int(length_s) + 1, step)]


def _limit_colour(limit) -> str:
    """Low limits red, high ones green: the colour says how slow to go at a glance."""
    if not isinstance(limit, (int, float)):
        return "#6b7685"
    hue = 120.0 * min(max((limit - 20.0) / 90.0, 0.0), 1.0)
    return f"hsl({hue:.0f},62%,42%)"


_STYLE = """
:root{--bg:#f6f7f9;--fg:#1d2330;--muted:#5f6b7a;--card:#fff;--line:#dde2e8;--accent:#d7261e}
@media (prefers-color-scheme:dark){:root{--bg:#15181d;--fg:#e8ebf0;--muted:#9aa5b4;--card:#1f242b;--line:#333b45}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1100px;margin:0 auto;padding:20px}h1{font-size:1.4rem;margin:0 0 4px;overflow-wrap:anywhere}
h2{font-size:1.1rem;margin:24px 0 10px}header p{margin:0;color:var(--muted)}
.player{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px;margin-top:16px}
video{width:100%;max-height:62vh;background:#000;border-radius:6px;display:block}
.timeline{margin-top:12px}.track{position:relative;height:34px;border-radius:6px;background:var(--bg);
border:1px solid var(--line);cursor:pointer}
.marker{position:absolute;top:5px;width:12px;height:22px;margin-left:-6px;border:2px solid var(--card);
border-radius:4px;background:#2f6fd6;cursor:pointer;padding:0}.marker.g3{background:var(--accent)}
.marker.g1{background:#e0a100}.marker.g5,.marker.g6{background:#1f8a4c}.marker:hover,.marker.now{transform:scale(1.3)}
.playhead{position:absolute;top:-3px;bottom:-3px;width:2px;background:var(--fg);left:0;pointer-events:none}
.band-label{font-size:.8rem;color:var(--muted);margin:8px 0 2px}
.band{position:relative;height:26px;border-radius:6px;background:var(--bg);border:1px dashed var(--line);
overflow:hidden}.segment{position:absolute;top:0;bottom:0;color:#fff;font-weight:600;font-size:.85rem;
display:flex;align-items:center;padding-left:6px;border-right:1px solid var(--card);cursor:pointer;overflow:hidden;
white-space:nowrap}.segment.unknown{background:repeating-linear-gradient(45deg,#9aa5b4 0 6px,#b4bdc8 6px 12px)}
.band-empty{position:absolute;left:8px;top:3px;font-size:.8rem;color:var(--muted)}
.ticks{position:relative;height:18px;font-size:.75rem;color:var(--muted)}.tick{position:absolute;
transform:translateX(-50%)}.tick:first-child{transform:none}.tick:last-child{transform:translateX(-100%)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}
.alert{display:flex;gap:10px;align-items:center;background:var(--card);border:1px solid var(--line);
border-radius:10px;padding:8px;cursor:pointer}.alert:hover,.alert:focus,.alert.now{border-color:var(--accent);
outline:none}.alert img,.no-thumb{width:72px;height:72px;object-fit:contain;background:#000;border-radius:6px;
flex:none}.say{margin:0;font-weight:600;overflow-wrap:anywhere}.meta{margin:2px 0 0;color:var(--muted);
font-size:.85rem}.plates{margin:4px 0 0;padding-left:18px;font-size:.85rem}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:10px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
tr.failed td:last-child{color:var(--accent)}a{color:#2f6fd6}table.index{margin-top:14px}
"""

_SCRIPT = """
(function () {
  var video = document.getElementById('video');
  var length = parseFloat(document.body.dataset.length) || 1;
  var playhead = document.getElementById('playhead');
  var cards = Array.prototype.slice.call(document.querySelectorAll('.alert'));
  function seek(t) {
    video.currentTime = t;
    var playing = video.play();
    if (playing && playing.catch) { playing.catch(function () {}); }
  }
  document.querySelectorAll('[data-t]').forEach(function (el) {
    el.addEventListener('click', function (event) { event.stopPropagation(); seek(parseFloat(el.dataset.t)); });
    el.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); seek(parseFloat(el.dataset.t)); }
    });
  });
  document.getElementById('track').addEventListener('click', function (event) {
    var box = event.currentTarget.getBoundingClientRect();
    seek(Math.max(0, (event.clientX - box.left) / box.width) * length);
  });
  video.addEventListener('timeupdate', function () {
    var t = video.currentTime;
    playhead.style.left = Math.min(100, t / length * 100) + '%';
    cards.forEach(function (card) {
      var start = parseFloat(card.dataset.t);
      card.classList.toggle('now', t >= start && t < start + 3);
    });
  });
  video.addEventListener('loadedmetadata', function () { document.body.dataset.video = 'loaded'; });
  video.addEventListener('error', function () { document.getElementById('video-missing').hidden = false; });
  document.body.dataset.state = 'ready';
})();
"""
