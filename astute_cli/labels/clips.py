"""Labelled clips: one JSON per video with every physical sign, its value and its box in each frame.

The format (``astute-clip-labels/1``) is documented in ``annotations/README.md``. A clip comes from the
drive-clip renderer (exact boxes in every frame) or from a person's CVAT "CVAT for video 1.1" export
(key frames, interpolated here). Example::

    labels = load_clip_labels("annotations/drive_60kmh_25fps_720p.labels.json")
    for sign in labels.signs:
        print(sign.label, sign.readable_frame, sign.passed_frame, sign.box_at(sign.passed_frame - 1))
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from astute_cli.signs import lookup, make_label, parse_label

FORMAT = "astute-clip-labels/1"
READABLE_WIDTH_PX = 20.0
"""A sign is counted readable from the first frame its box is at least this wide."""

SHARED_PREFIX = "shared:"
"""A ``video`` starting with this is resolved inside the shared data folder (``paths.shared_data()``)."""


def unit_of(code: str) -> str | None:
    """The unit of a value sign's number (``km/h``, ``m``, ``t``), or None for signs without one."""
    return lookup(code).unit


@dataclass
class SignTrack:
    """One physical sign through a clip.

    Attributes:
        id: unique within the clip.
        label: full class label with value, e.g. ``3_24_n60`` (``5_19_1`` for signs without a value).
        frames: (K,) int frame indices where the sign is visible, ascending.
        xyxy: (K, 4) float32 boxes in pixels, one per entry of ``frames``.
        passed_frame: the first frame after the sign has left the view (the car is passing it).
        readable_frame: first frame whose box is at least READABLE_WIDTH_PX wide, or None.
        distance_m: (K,) distance along the road to the sign (renderer clips only), or None.
    """

    id: int
    label: str
    frames: np.ndarray
    xyxy: np.ndarray
    passed_frame: int
    readable_frame: int | None = None
    distance_m: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.frames = np.asarray(self.frames, dtype=np.int64).reshape(-1)
        self.xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        if len(self.frames) != len(self.xyxy):
            raise ValueError(f"sign {self.id}: {len(self.frames)} frames but {len(self.xyxy)} boxes")
        if self.distance_m is not None:
            self.distance_m = np.asarray(self.distance_m, dtype=np.float32).reshape(-1)

    @property
    def sign(self) -> str:
        """GOST code with ``_``, e.g. ``3_24``."""
        return parse_label(self.label)[0]

    @property
    def value(self) -> float | None:
        return parse_label(self.label)[1]

    @property
    def unit(self) -> str | None:
        return unit_of(self.sign) if self.value is not None else None

    @property
    def first_frame(self) -> int:
        return int(self.frames[0]) if len(self.frames) else self.passed_frame

    def box_at(self, frame: int) -> np.ndarray | None:
        """(4,) box in this frame, or None where the sign is not visible."""
        i = int(np.searchsorted(self.frames, frame))
        if i < len(self.frames) and self.frames[i] == frame:
            return self.xyxy[i]
        return None

    def max_width(self) -> float:
        """Widest box of the sign (pixels): its size class in the benchmark."""
        return float((self.xyxy[:, 2] - self.xyxy[:, 0]).max()) if len(self.xyxy) else 0.0

    def to_dict(self) -> dict:
        code, value = parse_label(self.label)
        out: dict = {"id": self.id, "label": self.label, "sign": code,
                     "value": _plain(value), "unit": self.unit,
                     "passed_frame": self.passed_frame, "readable_frame": self.readable_frame,
                     "boxes": [[int(f), *(round(float(v), 2) for v in box)]
                               for f, box in zip(self.frames, self.xyxy, strict=True)]}
        if self.distance_m is not None:
            out["distance_m"] = [round(float(d), 2) for d in self.distance_m]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> SignTrack:
        label = data.get("label") or make_label(data["sign"], data.get("value"))
        rows = np.asarray(data.get("boxes") or np.zeros((0, 5)), dtype=np.float64).reshape(-1, 5)
        frames, xyxy = rows[:, 0].astype(np.int64), rows[:, 1:]
        if data.get("keyframes"):
            frames, xyxy = interpolate_boxes(frames, xyxy)
        passed = data.get("passed_frame")
        passed = int(frames[-1]) + 1 if passed is None and len(frames) else int(passed or 0)
        readable = data["readable_frame"] if "readable_frame" in data else first_readable(frames, xyxy)
        return cls(id=int(data["id"]), label=label, frames=frames, xyxy=xyxy, passed_frame=passed,
                   readable_frame=readable, distance_m=data.get("distance_m"))


@dataclass
class ClipLabels:
    """Ground truth for one video: where every physical sign is in every frame.

    Attributes:
        video: the video file, relative to the label file's folder (or ``shared:<path>`` inside the
            shared data folder).
        fps: frame rate of the video.
        width, height: frame size in pixels.
        n_frames: number of frames.
        signs: the physical signs.
        meta: how the clip was made (renderer settings, speed, background...).
        path: the label file this was loaded from, if any (resolves ``video``).
        speed_limits: the labelled limit in force as changes (``frame``, ``limit``, ``sign``, ``sign_id``; see
            ``annotations/README.md``), or None for a clip not labelled with one.
    """

    video: str
    fps: float
    width: int
    height: int
    n_frames: int
    signs: list[SignTrack] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    path: Path | None = None
    speed_limits: list[dict] | None = None

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps if self.fps else 0.0

    def video_path(self) -> Path:
        """Absolute path of the video these labels describe."""
        if self.video.startswith(SHARED_PREFIX):
            from astute_cli.paths import shared_data

            return shared_data() / self.video[len(SHARED_PREFIX):]
        video = Path(self.video)
        if video.is_absolute() or self.path is None:
            return video
        return (self.path.parent / video).resolve()

    def to_dict(self) -> dict:
        out = {"format": FORMAT, "video": self.video, "fps": self.fps, "width": self.width,
               "height": self.height, "frames": self.n_frames, "meta": self.meta,
               "signs": [s.to_dict() for s in self.signs]}
        if self.speed_limits is not None:
            out["speed_limits"] = self.speed_limits
        return out

    @classmethod
    def from_dict(cls, data: dict, path: Path | None = None) -> ClipLabels:
        if data.get("format", FORMAT) != FORMAT:
            raise ValueError(f"Unknown clip label format {data.get('format')!r} (expected {FORMAT!r})")
        return cls(video=data["video"], fps=float(data["fps"]), width=int(data["width"]),
                   height=int(data["height"]), n_frames=int(data["frames"]), meta=data.get("meta", {}),
                   signs=[SignTrack.from_dict(s) for s in data.get("signs", [])], path=path,
                   speed_limits=data.get("speed_limits"))

    def save(self, path: str | Path) -> Path:
        """Write the labels as JSON; a relative ``video`` is rewritten to stay right from the new folder."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.path is not None and not self.video.startswith(SHARED_PREFIX) and not Path(self.video).is_absolute():
            self.video = Path(os.path.relpath(self.video_path(), path.parent.resolve())).as_posix()
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n",
                        encoding="utf-8")
        self.path = path
        return path


def load_clip_labels(path: str | Path) -> ClipLabels:
    """Read a clip label file: our JSON, or a CVAT "CVAT for video 1.1" XML export."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"No such label file: {str(path)!r}")
    if path.suffix.lower() == ".xml":
        return from_cvat_video(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"Not a JSON label file: {str(path)!r} ({error})") from None
    if not isinstance(data, dict) or "signs" not in data:
        raise ValueError(f"Not a clip label file (no 'signs'): {str(path)!r}")
    return ClipLabels.from_dict(data, path=path.resolve())


def is_clip_labels(path: str | Path) -> bool:
    """True for a file that looks like clip labels (our JSON or a CVAT video XML)."""
    path = Path(path)
    if path.suffix.lower() == ".xml":
        return True
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    head = path.read_text(encoding="utf-8", errors="replace")[:4096]
    return FORMAT in head or ('"signs"' in head and '"fps"' in head)


def first_readable(frames: np.ndarray, xyxy: np.ndarray, min_width_px: float = READABLE_WIDTH_PX) -> int | None:
    """First frame whose box is at least ``min_width_px`` wide, or None."""
    wide = np.flatnonzero((np.asarray(xyxy)[:, 2] - np.asarray(xyxy)[:, 0]) >= min_width_px)
    return int(np.asarray(frames)[wide[0]]) if len(wide) else None


def interpolate_boxes(frames: np.ndarray, xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Key-frame boxes (K,) and (K, 4) -> one linearly interpolated box per frame between them."""
    frames = np.asarray(frames, dtype=np.int64)
    xyxy = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    if len(frames) < 2:
        return frames, xyxy
    order = np.argsort(frames)
    frames, xyxy = frames[order], xyxy[order]
    dense = np.arange(frames[0], frames[-1] + 1)
    boxes = np.stack([np.interp(dense, frames, xyxy[:, k]) for k in range(4)], axis=1)
    return dense, boxes


def from_cvat_video(xml_path: str | Path, fps: float | None = None, video: str | None = None) -> ClipLabels:
    """Import a CVAT "CVAT for video 1.1" export.

    Each ``<track label=...>`` is one physical sign; its ``<box frame xtl ytl xbr ybr outside keyframe>``
    rows are interpolated linearly between key frames (CVAT's own rule); ``outside="1"`` ends a visible
    stretch and its frame is the sign's ``passed_frame``. A ``<attribute name="value">`` on a box puts the
    value into the label (``3_24`` + 60 -> ``3_24_n60``).

    Args:
        xml_path: the exported ``annotations.xml``.
        fps: frame rate; default: read from the video beside the XML, else 25.
        video: video file name; default: the task's ``<source>`` (or ``<name>``).
    """
    xml_path = Path(xml_path)
    try:
        root = ET.parse(xml_path).getroot()  # noqa: S314 -- a local file the user exported
    except ET.ParseError as error:
        raise ValueError(f"Not a CVAT XML file: {str(xml_path)!r} ({error})") from None
    task = root.find("meta/task")
    task = root.find("meta/job") if task is None else task
    width, height, n_frames, source = _cvat_meta(task)
    video = video or source or xml_path.with_suffix(".mp4").name
    signs = [_cvat_track(track) for track in root.iter("track") if track.find("box") is not None]
    n_frames = max([n_frames] + [s.passed_frame for s in signs])
    if fps is None:
        fps = _probe_fps(xml_path.parent / video)
    return ClipLabels(video=video, fps=fps, width=width, height=height, n_frames=n_frames,
                      signs=signs, meta={"source": "cvat", "xml": xml_path.name}, path=xml_path.resolve())


def _cvat_meta(task: ET.Element | None) -> tuple[int, int, int, str | None]:
    if task is None:
        return 0, 0, 0, None
    width = int(task.findtext("original_size/width") or 0)
    height = int(task.findtext("original_size/height") or 0)
    size = int(task.findtext("size") or 0)
    source = task.findtext("source") or None
    return width, height, size, source


def _cvat_track(track: ET.Element) -> SignTrack:
    rows = sorted(track.iter("box"), key=lambda b: int(b.get("frame", 0)))
    frames: list[np.ndarray] = []
    boxes: list[np.ndarray] = []
    segment: list[tuple[int, list[float]]] = []
    value: str | None = None
    passed: int | None = None
    for box in rows:
        frame = int(box.get("frame", 0))
        value = value or _cvat_value(box)
        if box.get("outside", "0") == "1":
            passed = frame if segment else passed
            _flush(segment, frames, boxes)
            continue
        segment.append((frame, [float(box.get(k, 0)) for k in ("xtl", "ytl", "xbr", "ybr")]))
    _flush(segment, frames, boxes)
    f = np.concatenate(frames) if frames else np.zeros(0, np.int64)
    b = np.concatenate(boxes) if boxes else np.zeros((0, 4))
    if passed is None or (len(f) and passed <= f[-1]):
        passed = int(f[-1]) + 1 if len(f) else 0
    label = track.get("label", "")
    code, old_value = parse_label(label)
    if value is not None and old_value is None:
        label = make_label(code, float(value.replace(",", ".")))
    return SignTrack(id=int(track.get("id", 0)), label=label, frames=f, xyxy=b, passed_frame=passed,
                     readable_frame=first_readable(f, b))


def _flush(segment: list[tuple[int, list[float]]], frames: list, boxes: list) -> None:
    if segment:
        f, b = interpolate_boxes(np.array([s[0] for s in segment]), np.array([s[1] for s in segment]))
        frames.append(f)
        boxes.append(b)
    segment.clear()


def _cvat_value(box: ET.Element) -> str | None:
    for attribute in box.iter("attribute"):
        if attribute.get("name") == "value" and (attribute.text or "").strip():
            return attribute.text.strip()
    return None


def _probe_fps(video: Path) -> float:
    if video.is_file():
        from astute_cli.types import VideoInfo

        try:
            return VideoInfo.from_path(video).fps
        except ValueError:
            pass
    return 25.0


def _plain(value: float | None) -> float | int | None:
    if value is not None and float(value).is_integer():
        return int(value)
    return value
