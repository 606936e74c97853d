"""Drive clips with exact ground truth: signs placed in 3D beside a road, a camera driving past them.

A pinhole camera (``geometry.focal_px``, horizontal FOV ``hfov_deg``) mounted ``camera_height_m`` above
the road moves forward at ``speed_kmh``. Each :class:`PlacedSign` stands at a lateral offset ``x_m``
(+ right) and a distance ``z_m`` along the road from the start; in frame ``i`` (time ``i / fps``) it is
``z_m - v t`` ahead, so its box, distance and passing moment are known exactly. Signs are composited
with a pole over real dashcam footage (or a slowly zooming still), blurred, tinted and noised to
match it, and the frames are piped to ffmpeg (H.264). Example::

    signs = random_scenario(seed=1, duration_s=10, speed_kmh=60)  # from astute_cli.synth.scenarios
    labels = render_drive("drive.mp4", signs, speed_kmh=60, fps=25, resolution_wh=(1280, 720),
                          duration_s=10, background="solidWhiteRight", seed=1)
    labels.save("drive.labels.json")
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from astute_cli.ffmpeg import RawVideoWriter, raw_video_command
from astute_cli.geometry import DEFAULT_HFOV_DEG, focal_px
from astute_cli.labels.clips import ClipLabels, SignTrack, first_readable, parse_label
from astute_cli.synth import conditions as cond

CAMERA_HEIGHT_M = 1.3
NEAR_M = 1.0
"""Signs closer than this (metres ahead) are not drawn."""
MIN_DRAW_PX = 2.0
POLE_WIDTH_M = 0.076
BACKGROUND_SPEED_KMH = 100.0
"""Rough speed of the car in the background footage: slower clips play it back slower."""

BACKGROUNDS: dict[str, tuple[str, float]] = {
    # name: (path inside the shared data folder, horizon height as a fraction of the frame height)
    "solidWhiteRight": ("backgrounds/udacity-lanelines/test_videos/solidWhiteRight.mp4", 0.575),
    "vehicle-detection": ("backgrounds/udacity-CarND-Vehicle-Detection/test_video.mp4", 0.60),
    "test1": ("backgrounds/udacity-CarND-Advanced-Lane-Lines/test1.jpg", 0.60),
    "straight_lines2": ("backgrounds/udacity-CarND-Advanced-Lane-Lines/straight_lines2.jpg", 0.62),
    "solidYellowLeft": ("backgrounds/udacity-lanelines/test_images/solidYellowLeft.jpg", 0.60),
}


@dataclass(frozen=True)
class PlacedSign:
    """A sign standing beside the road.

    Attributes:
        label: class label with value, e.g. ``3_24_n60``, ``5_19_1``, a plate ``8_2_1``.
        x_m: lateral offset of the sign centre from the camera, metres (+ right, - left).
        z_m: distance along the road from the camera's starting point, metres.
        height_m: height of the sign centre above the road, metres.
        size_m: width of the sign, metres; None: the catalogue size of its code.
        pole: draw a pole from the sign down to the road (False for the upper sign of a pair).
    """

    label: str
    x_m: float
    z_m: float
    height_m: float = 2.3
    size_m: float | None = None
    pole: bool = True


def sign_size_m(label: str) -> float:
    """Width of a sign in metres (typesize II), from the catalogue."""
    from astute_cli.signs import lookup

    return float(lookup(parse_label(label)[0]).size_m)


def pictogram(label: str, size_px: int = 256) -> np.ndarray:
    """(H, W, 4) RGBA uint8 picture of the sign, values printed on value signs."""
    return _pictogram_cached(label, size_px).copy()


@lru_cache(maxsize=128)
def _pictogram_cached(label: str, size_px: int) -> np.ndarray:
    from astute_cli.synth.pictograms import render_sign  # the faces the models are trained on

    return np.asarray(render_sign(label, size_px), dtype=np.uint8)


class Background:
    """Frames of real footage (or a still) at the clip's size, looked up by time."""

    def __init__(self, background: str | Path, resolution_wh: tuple[int, int], speed_kmh: float,
                 horizon_frac: float | None = None) -> None:
        path, horizon = _resolve_background(background)
        self.path = path
        self.horizon_frac = horizon if horizon_frac is None else horizon_frac
        self.resolution_wh = resolution_wh
        self.rate = min(1.0, speed_kmh / BACKGROUND_SPEED_KMH)
        self._frames, self.fps = _read_encoded(path)

    @property
    def duration_s(self) -> float:
        return len(self._frames) / self.fps

    def frame_at(self, t_s: float) -> np.ndarray:
        """(H, W, 3) BGR background at clip time ``t_s`` (played back ping-pong when too short)."""
        u = t_s * self.rate
        if len(self._frames) == 1:
            return self._zoomed_still(u)
        period = 2 * self.duration_s
        u = u % period
        u = u if u < self.duration_s else period - u
        index = min(len(self._frames) - 1, int(u * self.fps))
        return self._decode(self._frames[index])

    def _decode(self, blob: np.ndarray) -> np.ndarray:
        frame = cv2.imdecode(blob, cv2.IMREAD_COLOR)
        return cv2.resize(frame, self.resolution_wh, interpolation=cv2.INTER_AREA
                          if frame.shape[1] > self.resolution_wh[0] else cv2.INTER_LINEAR)

    def _zoomed_still(self, u: float) -> np.ndarray:
        """A still zoomed towards the horizon: a stand-in for forward motion, 0..15 % and back."""
        frame = self._decode(self._frames[0])
        phase = (u / 4.0) % 2.0
        zoom = 1.0 + 0.15 * (phase if phase < 1 else 2 - phase)
        w, h = self.resolution_wh
        m = cv2.getRotationMatrix2D((w / 2, h * self.horizon_frac), 0.0, zoom)
        return cv2.warpAffine(frame, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _resolve_background(background: str | Path) -> tuple[Path, float]:
    from astute_cli.paths import shared_data

    if str(background) in BACKGROUNDS:
        rel, horizon = BACKGROUNDS[str(background)]
        return shared_data() / rel, horizon
    path = Path(background)
    if not path.is_file():
        raise ValueError(f"No such background: {str(background)!r} (known: {', '.join(BACKGROUNDS)})")
    return path, 0.6


@lru_cache(maxsize=4)
def _read_encoded(path: Path) -> tuple[list[np.ndarray], float]:
    """All frames of a video (or the one image) JPEG-encoded in memory, and the frame rate."""
    if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
        image = cv2.imread(str(path))
        if image is None:
            raise ValueError(f"Cannot read background image: {str(path)!r}")
        return [cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])[1]], 25.0
    cap = cv2.VideoCapture(str(path))
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 25.0)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])[1])
    cap.release()
    if not frames:
        raise ValueError(f"Cannot read background video: {str(path)!r}")
    return frames, fps


@dataclass(frozen=True)
class Camera:
    """The moving dashcam: frame size, FOV, mounting height, horizon row, speed."""

    width: int
    height: int
    hfov_deg: float = DEFAULT_HFOV_DEG
    camera_height_m: float = CAMERA_HEIGHT_M
    horizon_frac: float = 0.5
    speed_kmh: float = 60.0

    @property
    def f(self) -> float:
        return focal_px(self.width, self.hfov_deg)

    def ahead_m(self, sign: PlacedSign, t_s: float) -> float:
        """Distance along the road from the camera to the sign at time ``t_s``."""
        return sign.z_m - self.speed_kmh / 3.6 * t_s

    def box(self, sign: PlacedSign, t_s: float, aspect_hw: float) -> np.ndarray | None:
        """Unclipped float box (x1, y1, x2, y2) of the sign at ``t_s``, None when behind ``NEAR_M``."""
        z = self.ahead_m(sign, t_s)
        if z < NEAR_M:
            return None
        cx = self.width / 2 + self.f * sign.x_m / z
        cy = self.height * self.horizon_frac + self.f * (self.camera_height_m - sign.height_m) / z
        w = self.f * (sign.size_m or sign_size_m(sign.label)) / z
        h = w * aspect_hw
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    def ground_y(self, z: float) -> float:
        return self.height * self.horizon_frac + self.f * self.camera_height_m / z


def render_drive(out_mp4: str | Path, signs: list[PlacedSign], speed_kmh: float = 60.0, fps: float = 25.0,
                 resolution_wh: tuple[int, int] = (1280, 720), duration_s: float = 10.0,
                 background: str | Path = "solidWhiteRight", seed: int = 0,
                 hfov_deg: float = DEFAULT_HFOV_DEG, camera_height_m: float = CAMERA_HEIGHT_M,
                 crf: int = 26, labels_path: str | Path | None = None, condition: str = "clear",
                 condition_strength: float | None = None) -> ClipLabels:
    """Render a drive past ``signs`` to an H.264 MP4 and return its exact labels.

    Args:
        out_mp4: the video to write.
        signs: the signs beside the road.
        speed_kmh: camera speed; faster gives less time per sign.
        fps: frame rate of the clip (the background is resampled by time).
        resolution_wh: frame size (width, height); must be even.
        duration_s: clip length in seconds.
        background: a name in ``BACKGROUNDS`` or a video/image path.
        seed: seeds blur, tint and noise.
        hfov_deg: horizontal field of view; wider makes signs smaller.
        camera_height_m: camera height above the road.
        crf: x264 quality; bigger is a smaller, blurrier file.
        labels_path: also save the labels here (``video`` is stored relative to it).
        condition: light or weather over the whole drive (``synth.conditions``: dusk, night, winter, rain, fog,
            glare; clear: the footage as shot). Its random parts (lamps, drops on the glass, flakes, the sun's
            flare) are drawn once per clip and stay put, as drops and dirt on a windscreen do; sign faces are lit
            as the condition lights them (bright in headlights at night, capped with snow in winter).
        condition_strength: how strong, 0–1 (None: drawn from 0.3–1 by ``seed``, as street frames draw it).

    Returns:
        The clip's labels: every sign's box in every frame it is visible, readable and passed frames.
    """
    out_mp4 = Path(out_mp4)
    width, height = resolution_wh
    names = cond.parse_conditions(condition)
    if len(names) != 1:
        raise ValueError(f"A drive has one condition, got {condition!r}")
    lit_by = None if names[0] == "clear" else names[0]
    strength = (cond.draw_strength(np.random.default_rng([seed, 7])) if condition_strength is None
                else float(np.clip(condition_strength, 0.0, 1.0)))
    bg = Background(background, resolution_wh, speed_kmh)
    camera = Camera(width, height, hfov_deg, camera_height_m, bg.horizon_frac, speed_kmh)
    rng = np.random.default_rng(seed)
    looks = [_Look.random(rng) for _ in signs]
    n_frames = max(1, round(duration_s * fps))
    tracks: list[list[tuple[int, np.ndarray, float]]] = [[] for _ in signs]
    passed = [n_frames] * len(signs)
    with _Encoder(out_mp4, resolution_wh, fps, crf) as encoder:
        for i in range(n_frames):
            t = i / fps
            frame = bg.frame_at(t)
            faces = None if lit_by is None else np.zeros((height, width), np.float32)
            for k, box in _draw_signs(frame, camera, signs, looks, t, rng, faces):
                tracks[k].append((i, box, camera.ahead_m(signs[k], t)))
            if lit_by is not None:  # the same draws on every frame: what is on the glass stays there
                lit = cond.apply(lit_by, frame, faces, np.random.default_rng([seed, 11]), strength)
                frame = np.round(lit).astype(np.uint8)
            for k, sign in enumerate(signs):
                if passed[k] == n_frames and _is_passed(camera, sign, t):
                    passed[k] = i
            encoder.write(frame)
    labels = _labels(out_mp4, signs, tracks, passed, n_frames, fps, resolution_wh, {
        "renderer": "astute_cli.synth.drive", "speed_kmh": speed_kmh, "hfov_deg": hfov_deg,
        "camera_height_m": camera_height_m, "background": str(background), "seed": seed,
        "condition": lit_by or "clear", "condition_strength": None if lit_by is None else round(strength, 3),
        "duration_s": duration_s, "placed_signs": [asdict(s) for s in signs]})
    if labels_path is not None:
        labels.video = _relative(out_mp4, Path(labels_path).parent)
        labels.save(labels_path)
    return labels


def _is_passed(camera: Camera, sign: PlacedSign, t: float) -> bool:
    """True once the sign's centre has left the frame (or it is behind NEAR_M)."""
    box = camera.box(sign, t, 1.0)
    if box is None:
        return True
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return not (0 <= cx < camera.width and 0 <= cy < camera.height)


def _labels(out_mp4: Path, signs: list[PlacedSign], tracks: list, passed: list[int], n_frames: int,
            fps: float, resolution_wh: tuple[int, int], meta: dict) -> ClipLabels:
    result = []
    for k, sign in enumerate(signs):
        rows = [r for r in tracks[k] if r[0] < passed[k]]
        frames = np.array([r[0] for r in rows], dtype=np.int64)
        xyxy = np.array([r[1] for r in rows], dtype=np.float32).reshape(-1, 4)
        result.append(SignTrack(id=k + 1, label=sign.label, frames=frames, xyxy=xyxy, passed_frame=passed[k],
                                readable_frame=first_readable(frames, xyxy),
                                distance_m=np.array([r[2] for r in rows], dtype=np.float32)))
    return ClipLabels(video=out_mp4.name, fps=float(fps), width=resolution_wh[0], height=resolution_wh[1],
                      n_frames=n_frames, signs=result, meta=meta)


def _relative(path: Path, start: Path) -> str:
    import os

    return Path(os.path.relpath(path.resolve(), start.resolve())).as_posix()


@dataclass(frozen=True)
class _Look:
    """Per-sign appearance: brightness, blur, noise (so signs match the footage, not a sticker)."""

    gain: float
    blur_sigma: float
    noise_std: float
    pole_grey: int
    exposure_s: float

    @classmethod
    def random(cls, rng: np.random.Generator) -> _Look:
        return cls(gain=float(rng.uniform(0.78, 1.0)), blur_sigma=float(rng.uniform(0.45, 0.9)),
                   noise_std=float(rng.uniform(2.0, 5.0)), pole_grey=int(rng.integers(110, 170)),
                   exposure_s=float(1.0 / rng.uniform(250, 2000)))


def _draw_signs(frame: np.ndarray, camera: Camera, signs: list[PlacedSign], looks: list[_Look], t: float,
                rng: np.random.Generator, faces: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Draw the visible signs far to near; yield (index, clipped integer box) of each drawn sign. ``faces``: where
    a (H, W) float map is given, each drawn face's coverage is marked in it (what a condition lights as a sign)."""
    order = sorted(range(len(signs)), key=lambda k: -camera.ahead_m(signs[k], t))
    scene_gain = float(np.clip(frame.mean() / 120.0, 0.8, 1.1))
    for k in order:
        sign, look = signs[k], looks[k]
        picture = _pictogram_cached(sign.label, 256)
        box = camera.box(sign, t, picture.shape[0] / picture.shape[1])
        if box is None or box[2] - box[0] < MIN_DRAW_PX:
            continue
        if sign.pole:
            _draw_pole(frame, camera, sign, box, look)
        before = camera.box(sign, t - look.exposure_s, picture.shape[0] / picture.shape[1])
        motion = (0.0, 0.0) if before is None else tuple((box[:2] + box[2:] - before[:2] - before[2:]) / 2)
        drawn = _paste(frame, picture, box, look, scene_gain, rng, motion, faces)
        if drawn is not None:
            yield k, drawn


def _draw_pole(frame: np.ndarray, camera: Camera, sign: PlacedSign, box: np.ndarray, look: _Look) -> None:
    cx = (box[0] + box[2]) / 2
    width_px = box[2] - box[0]
    half = max(0.5, width_px * POLE_WIDTH_M / (sign.size_m or sign_size_m(sign.label)) / 2)
    z_now = (sign.size_m or sign_size_m(sign.label)) * camera.f / width_px
    bottom = camera.ground_y(z_now)
    shift = 4
    pts = np.array([[cx - half, box[3] - 1], [cx + half, box[3] - 1], [cx + half, bottom], [cx - half, bottom]])
    grey = look.pole_grey
    cv2.fillConvexPoly(frame, np.round(pts * (1 << shift)).astype(np.int32), (grey, grey, grey + 5),
                       cv2.LINE_AA, shift)


def _paste(frame: np.ndarray, picture: np.ndarray, box: np.ndarray, look: _Look, scene_gain: float,
           rng: np.random.Generator, motion_px: tuple[float, float] = (0.0, 0.0), faces: np.ndarray | None = None
           ) -> np.ndarray | None:
    """Alpha-blend the resized pictogram at ``box`` (smeared by ``motion_px`` during the exposure), its coverage
    marked in ``faces`` when given; return the drawn box clipped to the frame."""
    h_img, w_img = frame.shape[:2]
    w = max(1, round(box[2] - box[0]))
    h = max(1, round(box[3] - box[1]))
    x1 = round((box[0] + box[2]) / 2 - w / 2)
    y1 = round((box[1] + box[3]) / 2 - h / 2)
    cx1, cy1, cx2, cy2 = max(x1, 0), max(y1, 0), min(x1 + w, w_img), min(y1 + h, h_img)
    if cx2 <= cx1 or cy2 <= cy1:
        return None
    small = cv2.resize(picture, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    small[..., :3] *= small[..., 3:4] / 255.0  # premultiplied: blurring leaves no dark fringe
    pad = 2 + int(np.ceil(max(abs(motion_px[0]), abs(motion_px[1]))))
    small = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0, 0))
    small = cv2.GaussianBlur(small, (0, 0), look.blur_sigma)
    small = _motion_blur(small, motion_px)
    rgb, alpha = small[..., 2::-1] * (look.gain * scene_gain), small[..., 3:4] / 255.0
    px1, py1 = x1 - pad, y1 - pad
    ox1, oy1 = max(px1, 0), max(py1, 0)
    ox2, oy2 = min(px1 + w + 2 * pad, w_img), min(py1 + h + 2 * pad, h_img)
    sub_rgb = rgb[oy1 - py1:oy2 - py1, ox1 - px1:ox2 - px1]
    sub_a = alpha[oy1 - py1:oy2 - py1, ox1 - px1:ox2 - px1]
    roi = frame[oy1:oy2, ox1:ox2].astype(np.float32)
    noise = rng.normal(0.0, look.noise_std, roi.shape).astype(np.float32)
    blended = roi * (1 - sub_a) + sub_rgb + noise * sub_a
    frame[oy1:oy2, ox1:ox2] = np.clip(blended, 0, 255).astype(np.uint8)
    if faces is not None:
        np.maximum(faces[oy1:oy2, ox1:ox2], sub_a[..., 0], out=faces[oy1:oy2, ox1:ox2])
    return np.array([cx1, cy1, cx2, cy2], dtype=np.float32)


def _motion_blur(image: np.ndarray, motion_px: tuple[float, float]) -> np.ndarray:
    """Smear along the sign's image motion during the exposure (a line kernel); no-op under 1.5 px."""
    dx, dy = motion_px
    length = float(np.hypot(dx, dy))
    if length < 1.5:
        return image
    size = 2 * int(np.ceil(length)) + 1
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    cv2.line(kernel, (round(c - dx / 2), round(c - dy / 2)), (round(c + dx / 2), round(c + dy / 2)), 1.0, 1)
    return cv2.filter2D(image, -1, kernel / kernel.sum())


class _Encoder:
    """Raw BGR frames piped into the imageio-ffmpeg binary: H.264, yuv420p, faststart."""

    def __init__(self, path: Path, resolution_wh: tuple[int, int], fps: float, crf: int) -> None:
        width, height = resolution_wh
        if width % 2 or height % 2:
            raise ValueError(f"Frame size must be even for H.264: {width}x{height}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.command = raw_video_command(resolution_wh, fps, [
            "-an", "-c:v", "libx264", "-preset", "medium", "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", str(path)])
        self.writer = RawVideoWriter(self.command)

    def __enter__(self) -> _Encoder:
        self.writer.start()
        return self

    def write(self, frame: np.ndarray) -> None:
        self.writer.write(frame)

    def __exit__(self, *exc) -> None:
        if self.writer.finish() != 0 and exc[0] is None:
            raise RuntimeError(f"ffmpeg failed writing {self.command[-1]!r}: {self.writer.stderr_text()[-500:]}")
