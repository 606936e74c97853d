"""The one loop that wires the stages: frames → detect → track → announce → draw → MP4 (+ speech, events)."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from astute_cli import signs
from astute_cli.background import ahead
from astute_cli.boxes import box_iou, visible_share
from astute_cli.checks import check_outputs, refuse_same_files
from astute_cli.ffmpeg import stream_rate
from astute_cli.files import write_json_atomic
from astute_cli.geometry import DEFAULT_HFOV_DEG, distance_m
from astute_cli.limits import LimitChange, SpeedLimit
from astute_cli.render import draw
from astute_cli.report import check_writable, default_report_path, thumbnail_jpeg, write_report
from astute_cli.schedule import EVERY_FRAME, Schedule, between
from astute_cli.sink import VideoSink
from astute_cli.source import probe, timed_frames
from astute_cli.timing import Retimer, output_rate
from astute_cli.types import Announcement, Detections, VideoInfo

BANNER_S = 3.0
MIN_IN_VIEW = 0.5
"""Share of a sign's expected box that must be in the frame for the looks (:func:`look_again`,
:func:`look_for_missed`) to look at it there."""
SEEN_IOU = 0.1
"""Overlap of a track's expected box with a box of the scan above which the scan counts as having found it: low, since
the expected box of a young track can be off by half its width at the scans' rate."""


class Detector(Protocol):
    labels: list[str]

    def detect(self, image: np.ndarray) -> Detections: ...  # far_only=True too, for a schedule with far-only scans
    # with focus, also describe_kept (looks between scans) and, for the looks of far-only scans, far_pass_finds and
    # detect_around (TwoStageDetector has them all)


@dataclass
class AnnotateResult:
    """What one `annotate` run made and how fast it ran."""

    video: Path
    out: Path | None
    events: Path | None
    info: VideoInfo
    frames: int
    seconds: float
    announcements: list[Announcement] = field(default_factory=list)
    report: Path | None = None
    speed_limits: list[LimitChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def realtime_factor(self) -> float:
        """Seconds of video done per second of work (1: as fast as it plays)."""
        return self.fps / self.info.fps if self.info.fps > 0 else 0.0


@dataclass
class Overlay:
    """What the video shows beside the boxes: captions per track, the speed limit in force, the last alert."""

    labels: list[str]
    lang: str = "ru"
    hfov_deg: float = DEFAULT_HFOV_DEG
    label_of: Callable[[int], int | None] | None = None
    limits: SpeedLimit = field(default_factory=SpeedLimit)
    changes: list[LimitChange] = field(default_factory=list)
    _announced: dict[int, Announcement] = field(default_factory=dict)
    _banner: tuple[float, str] | None = None

    @property
    def speed_limit(self) -> int | None:
        """The limit in force (km/h) by the rules (``limits.SpeedLimit``), or None when unknown."""
        return self.limits.limit

    def update(self, announcements: list[Announcement], frame_index: int = 0, t: float = 0.0) -> None:
        for a in announcements:
            self._announced[a.track_id] = a
            self._banner = (a.t, a.text)
        change = self.limits.update(announcements, frame_index, t)
        if change is not None:
            self.changes.append(change)

    def captions(self, detections: Detections, frame_width: int) -> list[str]:
        return [self._caption(detections, i, frame_width) for i in range(len(detections))]

    def banner(self, t: float) -> str | None:
        if self._banner is None or t - self._banner[0] > BANNER_S:
            return None
        return self._banner[1]

    def _caption(self, detections: Detections, i: int, frame_width: int) -> str:
        track = -1 if detections.track_id is None else int(detections.track_id[i])
        if track in self._announced:
            a = self._announced[track]
            code, value, text = a.sign, a.value, a.text
        else:
            voted = self.label_of(track) if self.label_of is not None and track >= 0 else None
            class_id = int(detections.class_id[i]) if voted is None else voted
            code, value = signs.parse_label(self.labels[class_id])
            if value is None and detections.value is not None and not np.isnan(detections.value[i]):
                value = float(detections.value[i])  # the number this view reads (a detector that reads values)
            text = signs.phrase(code, value, self.lang)
        size_m = signs.lookup(code).size_m
        metres = distance_m(float(detections.width[i]), frame_width, size_m, self.hfov_deg)
        return f"{text} · {metres:.0f} {'м' if self.lang == 'ru' else 'm'}"


def annotate(video: str | Path, detector: Detector, tracker, announcer, speaker=None,
             out: str | Path | None = None, events: str | Path | None = None, lang: str = "ru",
             hfov_deg: float = DEFAULT_HFOV_DEG,
             on_frame: Callable[[int, int], None] | None = None,
             report: str | Path | bool = True, vehicle: str = "car",
             schedule: Schedule = EVERY_FRAME, info: VideoInfo | None = None) -> AnnotateResult:
    """Annotate a video file: an MP4 with boxes, labels and spoken alerts, and an events JSON.

    Args:
        video: the input video.
        detector: anything with ``labels`` and ``detect(frame) -> Detections``.
        tracker: a stage with ``update(Detections) -> Detections`` that fills ``track_id``.
        announcer: a stage with ``update(Detections, frame_index) -> list[Announcement]``.
        speaker: a speech.Speaker for the alerts, or None for a video without spoken alerts.
        out: the MP4 to write (default ``<stem>.astute.mp4`` beside the input).
        events: the events JSON (default ``<out stem>.events.json`` beside ``out``).
        lang: ``ru`` or ``en``, for captions.
        hfov_deg: the camera's horizontal field of view, for the distance estimate.
        on_frame: called with (frames done, frames in total or 0) after each frame.
        report: the HTML drive report to write: True for ``<out stem>.html`` beside ``out``, a path, or False.
        vehicle: ``car``, ``truck`` or ``bus``: the speed limits that apply (``limits.SpeedLimit``).
        schedule: the frames the detector sees (``schedule.Schedule``; the tracker must be made for its scan rate).
        info: the video's ``probe`` when the caller has it already (one ffprobe run fewer).
    """
    video = Path(video)
    info = info or probe(video)
    out, events = output_paths(video, out, events)
    report_html = default_report_path(out) if report is True else Path(report) if report else None
    if report_html is not None:
        refuse_same_files({"input video": video}, {"Output video": out, "Events file": events,
                                                   "Report": report_html})
        check_writable(report_html)  # a bad path fails before the first frame
    rate = output_rate(info.fps, stream_rate(video))
    retimer = Retimer(rate)
    overlay = Overlay(list(detector.labels), lang=lang, hfov_deg=hfov_deg,
                      label_of=getattr(announcer, "label_of", None), limits=SpeedLimit(vehicle))
    announcements: list[Announcement] = []
    thumbnails: dict[tuple[int, int], bytes] = {}  # each alert's sign as it was seen, for the report
    times: list[float] = []  # each frame's own timestamp: a variable frame rate keeps its timing

    def source() -> Iterator[tuple[int, np.ndarray]]:
        with closing(timed_frames(video, fps=info.fps)) as timed:
            for index, t, frame in timed:
                times.append(t)
                yield index, frame

    start = time.perf_counter()
    count = 0
    # temporary files live in `temps`, entered first so that they outlive the sink's final mux
    with ExitStack() as temps, VideoSink(out, replace(info, fps=rate)) as sink:
        # detection runs a scan ahead of drawing and encoding, in its own thread (``background.ahead``)
        for index, frame, detections, new in ahead(run_stages(source(), detector, tracker, announcer, schedule),
                                                   depth=2 * schedule.step, name="astute-detect"):
            new = [replace(a, t=times[a.frame_index]) if 0 <= a.frame_index < len(times) else a for a in new]
            t = times[index]
            overlay.update(new, index, t)
            announcements += new
            if report_html is not None:
                thumbnails.update({(a.frame_index, a.track_id): thumbnail_jpeg(frame, a.xyxy) for a in new})
            for shown in retimer.push(draw(frame, detections, overlay.captions(detections, info.width),
                                           overlay.speed_limit, overlay.banner(t)), t):
                sink.write(shown)
            count = index + 1
            if on_frame is not None:
                on_frame(count, info.total_frames)
        if count == 0:
            raise ValueError(f"Video has no readable frames: {str(video)!r}")
        for shown in retimer.flush():
            sink.write(shown)
        alerts_wav = _alerts_audio(temps, announcements, speaker, lang, retimer.duration_s, out.parent)
        sink.set_audio(alerts_wav, video if info.has_audio else None)
    elapsed = time.perf_counter() - start
    document = events_document(video, info, count, announcements, overlay.changes)
    write_json_atomic(events, document)
    if report_html is not None:
        write_report(document, out, thumbnails, report_html, lang)
    warnings = []
    if ended_early(count, info.total_frames, times[-1], info.fps):
        warnings.append(f"The video ended early (truncated or damaged?): {count} of {info.total_frames} frames "
                        f"could be read: {str(video)!r}")
    return AnnotateResult(video, out, events, info, count, elapsed, announcements, report_html,
                          speed_limits=overlay.changes, warnings=warnings)


def output_paths(video: Path, out: str | Path | None, events: str | Path | None) -> tuple[Path, Path]:
    """The output video and events file (defaults beside the input), checked before any work: neither may be the
    input or the other, and each must be a file that can be made."""
    out = Path(out) if out is not None else video.with_name(f"{video.stem}.astute.mp4")
    events = Path(events) if events is not None else out.with_name(f"{out.stem}.events.json")
    check_outputs({"input video": video}, {"Output video": out, "Events file": events})
    return out, events


def ended_early(frames_read: int, frames_expected: int, last_t: float, fps: float) -> bool:
    """True when clearly fewer frames were read than the file declares, and they cover clearly less time.

    Both, because some containers (WebM, MKV) only estimate their frame count from duration × rate, which
    overcounts a variable-rate video; the time the frames cover is right either way.
    """
    if frames_expected <= 0 or fps <= 0:
        return False
    expected_s, covered_s = frames_expected / fps, last_t + 1.0 / fps
    return (frames_expected - frames_read > max(2, 0.02 * frames_expected)
            and expected_s - covered_s > max(2.0 / fps, 0.02 * expected_s))


def run_stages(source: Iterator[tuple[int, np.ndarray]], detector: Detector, tracker, announcer,
               schedule: Schedule = EVERY_FRAME, gaps: bool = False
               ) -> Iterator[tuple[int, np.ndarray, Detections, list[Announcement]]]:
    """Yield (index, frame, tracked detections, new announcements) for every frame, in order: the product's core
    loop. The detector, tracker and announcer see the schedule's scans (the far band alone on its far-only scans:
    ``detector.detect(frame, far_only=True)``); a frame between two scans is yielded once the second is done, with
    the tracks' boxes moved between the two (``schedule.between``). With ``schedule.focus``, the signs not yet said
    are looked at again on the frames between scans (:func:`look_again`), and may be announced there.

    ``gaps``: tell the tracker how many frames passed since the previous scan (``update(detections, step)``), for a
    source that drops frames (live; the tracker made for the source's frame rate); otherwise each scan is one step.
    """
    held: list[tuple[int, np.ndarray, list[Announcement]]] = []
    last, last_n = Detections.empty(), 0
    previous = None
    for n, (index, frame) in enumerate(source):
        if not schedule.is_scan(n):
            new = look_again(frame, index, last, (n - last_n) / schedule.step, detector, tracker, announcer) \
                if schedule.focus else []
            held.append((index, frame, new))
            continue
        far_only = schedule.is_far_only(n)
        found = detector.detect(frame, far_only=True) if far_only else detector.detect(frame)
        if schedule.focus:
            found = Detections.merge([found, look_for_missed(frame, found, detector, tracker, far_only)])
        detections = tracker.update(found, index - previous) if gaps and previous is not None else tracker.update(found)
        previous = index
        new = announcer.update(detections, index)
        yield from _held_frames(held, last, detections)
        held, last, last_n = [], detections, n
        yield index, frame, detections, new
    yield from _held_frames(held, last, None)


def look_for_missed(frame: np.ndarray, found: Detections, detector, tracker, far_only: bool) -> Detections:
    """On a scan, the signs its search did not find. A confirmed track that no box of the scan overlaps (one outside
    the far band on a far-only scan, or one the detector missed) is classified where the tracker expects it
    (``detector.describe_kept``). On a far-only scan, a track seen once outside the far band, with no motion yet to
    say where it went, is searched for around its last box (``detector.detect_around``; a detector without
    ``far_pass_finds`` searches the whole frame there). What is kept counts as this scan's detections, so a sign is
    tracked and confirmed at the scans' rate, not only at the whole-frame scans', and a miss of the detector does
    not cut its track in two."""
    expected = tracker.predict(1, tentative=True)
    if not len(expected):
        return Detections.empty()
    wh = (frame.shape[1], frame.shape[0])
    in_view = visible_share(expected.xyxy, wh) >= MIN_IN_VIEW
    confirmed = in_view & _apart(expected, found) & (expected.track_id >= 0)
    parts = []
    if confirmed.any():
        looked = detector.describe_kept(frame, expected[confirmed].with_tracks(None))[0]
        parts.append(looked[_apart(looked, found)])
    finds = getattr(detector, "far_pass_finds", None)
    if far_only and finds is not None:
        new = in_view & (expected.track_id < 0) & ~finds(expected.xyxy, wh)
        if new.any():
            around = detector.detect_around(frame, expected.xyxy[new])
            parts.append(around[~finds(around.xyxy, wh) & _apart(around, found)])  # the band's search has those
    return Detections.merge(parts)


def _apart(boxes: Detections, found: Detections) -> np.ndarray:
    """(N,) bool: the boxes that overlap no box of ``found`` by ``SEEN_IOU`` or more: the scan did not find them, or
    a look would count its sign twice."""
    if not len(boxes) or not len(found):
        return np.ones(len(boxes), bool)
    return box_iou(boxes.xyxy, found.xyxy).max(axis=1) < SEEN_IOU


def look_again(frame: np.ndarray, index: int, last: Detections, steps: float, detector, tracker, announcer
               ) -> list[Announcement]:
    """The announcements of a frame between scans: the last scan's signs not yet said (``announcer.undecided``),
    classified and read again (``detector.describe_kept``) where the tracker expects them ``steps`` scans later, if
    at least ``MIN_IN_VIEW`` of that box is in the frame."""
    if not len(last) or last.track_id is None:
        return []
    pending = last.track_id[announcer.undecided(last)]
    if not len(pending):
        return []
    expected = tracker.predict(steps)
    # a sign expected mostly out of view is being passed: nothing to look at (and no pixels to crop)
    in_view = visible_share(expected.xyxy, (frame.shape[1], frame.shape[0])) >= MIN_IN_VIEW
    rows = np.flatnonzero(np.isin(expected.track_id, pending) & in_view)
    if not len(rows):
        return []
    boxes = expected[rows]  # with the confidence of each track's detection at the last scan
    described, kept = detector.describe_kept(frame, boxes)
    return announcer.update(described.with_tracks(boxes.track_id[kept]), index)


def _held_frames(held: list[tuple[int, np.ndarray, list[Announcement]]], before: Detections,
                 after: Detections | None) -> Iterator[tuple[int, np.ndarray, Detections, list[Announcement]]]:
    for k, (index, frame, new) in enumerate(held, start=1):
        yield index, frame, between(before, after, k / (len(held) + 1)), new


def events_document(video: Path, info: VideoInfo, frame_count: int, announcements: list[Announcement],
                    speed_limits: list[LimitChange] | None = None) -> dict:
    """The events file: one record per alert, in the order they were made, and the speed limit in force as
    its changes (``speed_limits``: limit km/h or null from ``t`` on, and the sign that set it)."""
    return {
        "video": str(video),
        "fps": round(info.fps, 3),
        "frames": frame_count,
        "events": [a.to_event() for a in announcements],
        "speed_limits": [c.to_event() for c in speed_limits or []],
    }


def _alerts_audio(temps: ExitStack, announcements: list[Announcement], speaker, lang: str, duration_s: float,
                  folder: Path) -> Path | None:
    """Synthesise the alerts into one WAV track (no overlaps, urgent first) in a temporary file."""
    if speaker is None or not announcements:
        return None
    from astute_cli.speech import AlertTrack

    track = AlertTrack(speaker.sample_rate)
    for a in announcements:
        track.add(a.t, speaker.synthesize(a.text, lang), a.priority)
    fd, name = tempfile.mkstemp(prefix=".astute-alerts.", suffix=".wav", dir=folder)
    os.close(fd)
    path = Path(name)
    temps.callback(path.unlink, missing_ok=True)
    track.write_wav(path, duration_s)
    return path



def has_display() -> bool:
    """True when a window can be opened (X11 or Wayland)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@dataclass
class LiveResult(AnnotateResult):
    """What a live run did: ``frames`` processed, ``dropped`` (not processed: newer ones came first), and the
    alerts whose sound started (``spoken``: the player's list, ``speech.Spoken``, each with its latency from the
    capture of the frame that made it to its sound; complete once the player is closed)."""

    dropped: int = 0
    spoken: list = field(default_factory=list)

    @property
    def realtime_factor(self) -> float:
        """Seconds of video that went by (frames processed and dropped) per second of work: 1 when it kept up."""
        return (self.frames + self.dropped) / self.info.fps / self.seconds if self.info.fps > 0 < self.seconds else 0.0

    def latency_ms(self) -> dict[str, float]:
        """Capture-to-sound latency of the alerts said, in ms: ``p50``, ``p95``, ``max`` and ``alerts`` (count)."""
        latencies = [s.latency_s * 1000 for s in self.spoken]
        return {"alerts": len(latencies), **spread(latencies)}

    def summary(self) -> str:
        """One line: frames processed and dropped, and the capture-to-sound latency of the alerts."""
        line = f"{self.frames} frames processed, {self.dropped} dropped (newer ones came first)"
        latency = self.latency_ms()
        if latency["alerts"]:
            line += (f"; capture to sound: median {latency['p50']:.0f} ms, 95th percentile {latency['p95']:.0f} ms "
                     f"over {latency['alerts']} alerts")
        return line


def spread(values: list[float]) -> dict[str, float]:
    """``p50``, ``p95`` and ``max`` of some timings ({} for none)."""
    if not values:
        return {}
    p50, p95 = np.percentile(values, [50, 95])
    return {"p50": float(p50), "p95": float(p95), "max": float(max(values))}


def live(source: str | Path | int, detector: Detector, tracker, announcer, speaker=None, lang: str = "ru",
         hfov_deg: float = DEFAULT_HFOV_DEG, window: str = "Astute", vehicle: str = "car",
         show: Callable[[np.ndarray], bool] | None = None, player=None, paced: bool | None = None,
         full_every: int = 1) -> LiveResult:
    """Work on a video as it comes: always on the newest frame (frames that arrive while one is processed are
    dropped, never queued), boxes shown in a window, alerts spoken by a background player that never holds up
    the loop.

    Args:
        source: a camera index, a stream URL or a file; a file plays at its own rate, as a camera (``paced``).
        detector, tracker, announcer: the stages (see :func:`annotate`); the tracker is told the frame gaps.
        speaker: a speech.Speaker for the alerts, or None for no sound.
        show: called with each annotated frame, returns False to stop (default: a window; q or Esc stops).
        player: plays the alerts (``say(text, priority, due, key)``, ``close()``, ``spoken``; default: a
            ``speech.AlertPlayer`` of ``speaker`` on the sound device).
        paced: release a file's frames at their own rate (default: True for a file; a camera paces itself).
        full_every: one frame processed in this many searches the whole frame, the others the far band only
            (``schedule.Schedule``; 1: every one whole).
    """
    from astute_cli.source import LatestFrames
    from astute_cli.speech import AlertPlayer, warm_up

    close_window: Callable[[], None] = lambda: None  # noqa: E731
    if show is None:
        if not has_display():
            raise ValueError("No display: --live needs a window (set DISPLAY), or annotate to a file instead")
        show, close_window = _window(window)
    info = probe(source)
    if speaker is not None and player is None:
        warm_up(speaker, lang)  # before the first frame, not on the first alert
    overlay = Overlay(list(detector.labels), lang=lang, hfov_deg=hfov_deg,
                      label_of=getattr(announcer, "label_of", None), limits=SpeedLimit(vehicle))
    announcements: list[Announcement] = []
    start, count = time.perf_counter(), 0
    with ExitStack() as stack:
        stack.callback(close_window)
        latest = stack.enter_context(LatestFrames(source, fps=info.fps, paced=paced))
        owned = player is None and speaker is not None
        if owned:
            player = AlertPlayer(speaker, lang)
            stack.callback(player.close)  # at once on an error or Ctrl-C
        current = {}  # the frame the stages are on: its time and capture time

        def newest() -> Iterator[tuple[int, np.ndarray]]:
            for frame in latest:
                current["frame"] = frame
                yield frame.index, frame.image

        scans = Schedule(1, full_every)
        for _, image, detections, new in run_stages(newest(), detector, tracker, announcer, scans, gaps=True):
            frame = current["frame"]
            index = frame.index
            overlay.update(new, index, frame.t)
            announcements += new
            if player is not None:
                for a in sorted(new, key=lambda a: a.priority):
                    player.say(a.text, a.priority, due=frame.captured, key=a.track_id)
            count += 1
            if not show(draw(image, detections, overlay.captions(detections, info.width), overlay.speed_limit,
                             overlay.banner(frame.t))):
                break
        else:
            if owned:
                player.close(wait=True)  # the input ended: the alerts already due are still said
        dropped = latest.dropped
    return LiveResult(Path(str(source)), None, None, info, count, time.perf_counter() - start, announcements,
                      speed_limits=overlay.changes, dropped=dropped, spoken=player.spoken if player is not None else [])


def _window(name: str) -> tuple[Callable[[np.ndarray], bool], Callable[[], None]]:
    """(show a frame in an OpenCV window: False once q or Esc is pressed, close the window)."""
    import cv2

    def show(image: np.ndarray) -> bool:
        cv2.imshow(name, image)
        return cv2.waitKey(1) & 0xFF not in (ord("q"), 27)

    return show, cv2.destroyAllWindows
