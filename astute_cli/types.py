"""Data types the pipeline stages pass between each other.

Every stage talks through these: a detector returns :class:`Detections`, the tracker fills its
``track_id`` column, the announcer turns confirmed tracks into :class:`Announcement` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Detections:
    """Boxes found in one frame, as parallel arrays (the shape of ``supervision.Detections``).

    Attributes:
        xyxy: (N, 4) float32 boxes in frame pixels, x1 y1 x2 y2.
        confidence: (N,) float32 scores in [0, 1].
        class_id: (N,) int64 indices into the detector's ``labels``.
        track_id: (N,) int64 track ids filled by a tracker, or None before tracking
            (-1 marks a detection that belongs to no confirmed track).
        value: (N,) float32 number read on each sign face, in the sign's catalogue unit (km/h, m, t; a plate's
            distance in metres), NaN where none was read; None when the detector reads no values (its labels
            carry them, ``3_24_n60``).
        value_confidence: (N,) float32 the reading's confidence in [0, 1] (0 where ``value`` is NaN), or None
            with ``value``.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    track_id: np.ndarray | None = None
    value: np.ndarray | None = None
    value_confidence: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(self.xyxy)
        self.confidence = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        self.class_id = np.asarray(self.class_id, dtype=np.int64).reshape(-1)
        if self.track_id is not None:
            self.track_id = np.asarray(self.track_id, dtype=np.int64).reshape(-1)
        if self.value is not None and self.value_confidence is None:
            self.value_confidence = np.where(np.isnan(np.asarray(self.value, np.float32)), 0.0, 1.0)
        for name in ("value", "value_confidence"):
            if getattr(self, name) is not None:
                setattr(self, name, np.asarray(getattr(self, name), dtype=np.float32).reshape(-1))
        if self.value is None:
            self.value_confidence = None
        for name in ("confidence", "class_id", "track_id", "value", "value_confidence"):
            column = getattr(self, name)
            if column is not None and len(column) != n:
                raise ValueError(f"Detections.{name} has {len(column)} rows, xyxy has {n}")

    @classmethod
    def empty(cls) -> Detections:
        """No detections."""
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: np.ndarray | slice | list[int] | int) -> Detections:
        """Select rows by boolean mask, index array, slice or single index."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            track_id=None if self.track_id is None else self.track_id[index],
            value=None if self.value is None else self.value[index],
            value_confidence=None if self.value_confidence is None else self.value_confidence[index],
        )

    @classmethod
    def merge(cls, parts: list[Detections]) -> Detections:
        """Concatenate several Detections (track ids kept only when every part has them; values kept when any
        part has them, NaN for the rows of parts without)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        has_tracks = all(p.track_id is not None for p in parts)
        has_values = any(p.value is not None for p in parts)
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            class_id=np.concatenate([p.class_id for p in parts]),
            track_id=np.concatenate([p.track_id for p in parts]) if has_tracks else None,  # type: ignore[misc]
            value=np.concatenate([p.values() for p in parts]) if has_values else None,
            value_confidence=np.concatenate([p.value_confidence if p.value_confidence is not None
                                             else np.zeros(len(p), np.float32) for p in parts])
            if has_values else None,
        )

    def values(self) -> np.ndarray:
        """(N,) float32 values read, NaN for none (all NaN when this detector reads no values)."""
        return self.value if self.value is not None else np.full(len(self), np.nan, np.float32)

    def with_tracks(self, track_id: np.ndarray) -> Detections:
        """The same detections (values included) with these track ids."""
        return Detections(self.xyxy, self.confidence, self.class_id, track_id, self.value, self.value_confidence)

    @property
    def width(self) -> np.ndarray:
        """(N,) box widths in pixels."""
        return self.xyxy[:, 2] - self.xyxy[:, 0]

    @property
    def height(self) -> np.ndarray:
        """(N,) box heights in pixels."""
        return self.xyxy[:, 3] - self.xyxy[:, 1]


@dataclass(frozen=True)
class Reading:
    """What the value reader read on one sign face (``reader.ValueReader.read`` returns one per box).

    Attributes:
        text: the characters read, as printed (``90``, ``3,8м``, ``15т``, ``150м``, ``1,5км``); ``""`` when
            nothing was read.
        value: the number as printed (90.0, 3.8, 15.0, 150.0, 1.5), or None when the text holds no
            plausible number for the sign's kind.
        unit: the unit printed on the face: ``m``, ``t``, ``km``, or None (speed signs print none).
        confidence: 0..1, the reader's probability of the whole text.
    """

    text: str
    value: float | None
    unit: str | None
    confidence: float


@dataclass(frozen=True)
class Announcement:
    """One spoken alert about one physical sign.

    Attributes:
        frame_index: frame at which the sign was confirmed and the alert is made.
        t: the same moment in seconds from the start of the video.
        track_id: the track that was announced.
        class_id: index into the detector's labels.
        label: the model's class name, e.g. ``3_24_n60``.
        sign: the GOST R 52290 code with ``_``, e.g. ``3_24``.
        value: the number on the sign (60, 3.5) or None.
        unit: ``km/h``, ``m``, ``t`` or None.
        text: the phrase spoken.
        xyxy: the box at the moment of the alert.
        priority: lower is more urgent (prohibitory before informational).
        plates: labels of the plates under the sign (``8_4_1``, ``8_1_1_n150``), spoken with it.
    """

    frame_index: int
    t: float
    track_id: int
    class_id: int
    label: str
    sign: str
    value: float | None
    unit: str | None
    text: str
    xyxy: tuple[float, float, float, float]
    priority: int = 5
    plates: tuple[str, ...] = ()

    def to_event(self) -> dict:
        """The events-file record of this alert."""
        value: float | int | None = self.value
        if value is not None and float(value).is_integer():
            value = int(value)
        event = {
            "t": round(self.t, 3),
            "frame": self.frame_index,
            "track_id": self.track_id,
            "sign": self.sign,
            "value": value,
            "unit": self.unit,
            "text": self.text,
            "box": [round(float(v), 1) for v in self.xyxy],
        }
        if self.plates:  # the plates under the sign, as the sign (``8_1_1``) and the number on it or None
            from astute_cli.signs import parse_label

            event["plates"] = [{"sign": code, "value": None if v is None else (int(v) if v.is_integer() else v)}
                               for code, v in map(parse_label, self.plates)]
        return event


@dataclass(frozen=True)
class VideoInfo:
    """What a video is: size, frame rate, length, whether it has sound."""

    width: int
    height: int
    fps: float
    total_frames: int
    has_audio: bool = False
    path: Path | None = field(default=None, compare=False)

    @property
    def resolution_wh(self) -> tuple[int, int]:
        return (self.width, self.height)

    @classmethod
    def from_path(cls, path: str | Path) -> VideoInfo:
        """Probe a video file; raise ValueError naming the problem if it is not a readable video."""
        import cv2  # local: keeps `import astute_cli.types` light

        from astute_cli.ffmpeg import has_audio_stream

        path = Path(path)
        if not path.exists():
            raise ValueError(f"No such video: {str(path)!r}")
        if path.is_dir():
            raise ValueError(f"Is a folder, not a video: {str(path)!r}")
        if path.stat().st_size == 0:
            raise ValueError(f"Empty video file: {str(path)!r}")
        cap = cv2.VideoCapture(str(path))
        try:
            if not cap.isOpened():
                raise ValueError(f"Cannot open video (not a video, or an unsupported format): {str(path)!r}")
            ok, frame = cap.read()
            if not ok or frame is None:
                raise ValueError(f"Video has no readable frames (truncated or corrupt): {str(path)!r}")
            fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
            total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            height, width = frame.shape[:2]
        finally:
            cap.release()
        if not (0.5 < fps < 1000):
            fps = 25.0
        return cls(width=width, height=height, fps=fps, total_frames=max(total, 0),
                   has_audio=has_audio_stream(path), path=path)

