"""annotate never destroys an input, checks every output and option before the first frame, keeps every frame
in time, and cleans up on any termination signal (issue 20)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from astute_cli import pipeline
from astute_cli.cli import app
from astute_cli.ffmpeg import ffmpeg_exe
from tests.conftest import make_video
from tests.fakes import FakeDetector, FakeSpeaker, FirstSightAnnouncer, IdentityTracker, make_detections

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _tiny_model(folder: Path) -> Path:
    from tests.onnx_factories import make_classifier_onnx, make_detector_onnx

    make_classifier_onnx(folder / "cls.onnx", [0.05, 0.9, 0.05], ["5_19_1", "3_24_n60", "background"])
    return make_detector_onnx(folder / "det.onnx", [[40, 30, 24, 24, 0.8]], ["sign"], imgsz=(64, 64),
                              astute_classifier="cls.onnx", astute_tile="64")


def _duration_s(path: Path, stream: str) -> float:
    """Length of the first video (``v``) or audio (``a``) stream, decoded by ffmpeg."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", f"0:{stream}:0", "-f", "null", "-"],
                          capture_output=True, text=True, errors="replace", check=True)
    stamp = re.findall(r"time=(\d+):(\d+):([\d.]+)", proc.stderr)[-1]
    return int(stamp[0]) * 3600 + int(stamp[1]) * 60 + float(stamp[2])


# --- same files, folders, missing folders: refused before the first frame (defects 2, 3, 7, 15) ---


def _link(folder: Path, name: str, target: Path) -> Path:
    (folder / name).symlink_to(target)
    return folder / name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(lambda d, v: ["-o", str(v)], "is the input video", id="out-is-input"),
        pytest.param(lambda d, v: ["-o", f"./{v.name}"], "is the input video", id="out-is-input-dot-slash"),
        pytest.param(lambda d, v: ["-o", str(_link(d, "link.mp4", v))], "is the input video", id="out-symlink-input"),
        pytest.param(lambda d, v: ["-o", str(d / "sub" / ".." / v.name)], "is the input video", id="out-dotdot"),
        pytest.param(lambda d, v: ["--events", str(v)], "is the input video", id="events-is-input"),
        pytest.param(lambda d, v: ["-o", str(d / "o.mp4"), "--events", str(d / "o.mp4")], "are the same file",
                     id="events-is-out"),
        pytest.param(lambda d, v: ["-o", str(d / "o.mp4"), "--events", str(_link(d, "e.json", d / "o.mp4"))],
                     "are the same file", id="events-symlink-out"),
        pytest.param(lambda d, v: ["-o", str(d / "o.mp4"), "--events", str(d / "missing" / "e.json")],
                     "does not exist", id="events-missing-folder"),
        pytest.param(lambda d, v: ["-o", str(d / "o.mp4"), "--events", str(d / "sub")], "is a folder",
                     id="events-onto-folder"),
        pytest.param(lambda d, v: ["-o", str(d / "sub")], "is a folder", id="out-onto-folder"),
        pytest.param(lambda d, v: ["-o", str(d / "o.mp4"), "--voice", "gtts"], "gtts package", id="gtts-missing"),
    ],
)
def test_bad_outputs_are_refused_before_the_first_frame(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "gtts", None)  # `import gtts` fails, as without the package
    (tmp_path / "sub").mkdir()
    video = make_video(tmp_path / "v.mp4", n_frames=6)
    original = video.read_bytes()
    model = _tiny_model(tmp_path)

    def no_frames(*_args, **_kwargs):
        raise AssertionError("a frame was processed before the outputs were checked")

    monkeypatch.setattr(pipeline, "run_stages", no_frames)
    options = args(tmp_path, video)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = runner.invoke(app, ["annotate", str(video), "--model", str(model), *options])
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert video.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not video.is_symlink()


@pytest.mark.parametrize(
    ("module", "error"),
    [pytest.param(None, "needs the gtts package", id="without-gtts"),
     pytest.param(type(sys)("gtts"), None, id="with-gtts")],
)
def test_gtts_engine_is_checked_when_made(monkeypatch, module, error):
    from astute_cli import speech

    monkeypatch.setitem(sys.modules, "gtts", module)
    if error is None:
        assert isinstance(speech.make_speaker("gtts"), speech.CachedSpeaker)
    else:
        with pytest.raises(speech.SpeechError, match=error):
            speech.make_speaker("gtts")


# --- outputs follow the umask (defect 13) ---


@pytest.mark.parametrize("umask", [pytest.param(0o022, id="022"), pytest.param(0o027, id="027")])
def test_outputs_follow_the_umask(tmp_path, umask):
    video = make_video(tmp_path / "v.mp4", n_frames=4)
    old = os.umask(umask)
    try:
        pipeline.annotate(video, FakeDetector(["x"], []), IdentityTracker(), FirstSightAnnouncer(["x"], 10.0),
                          out=tmp_path / "o.mp4")
    finally:
        os.umask(old)
    for path in (tmp_path / "o.mp4", tmp_path / "o.events.json"):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


# --- audio shorter than the video: the video's length decides (defect 4) ---


def _video_with_short_audio(path: Path, video_s: float = 3.0, audio_s: float = 1.0) -> Path:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"testsrc=s=160x96:r=25:d={video_s}",
                    "-f", "lavfi", "-i", f"sine=d={audio_s}", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", str(path)], check=True)
    return path


@pytest.mark.parametrize(
    "speaker",
    [pytest.param(None, id="original-sound-only"), pytest.param(FakeSpeaker(), id="original-sound-and-alerts")],
)
def test_short_audio_does_not_cut_the_video(tmp_path, speaker):
    video = _video_with_short_audio(tmp_path / "v.mp4")
    script = [make_detections([[10, 10, 40, 40]])]
    result = pipeline.annotate(video, FakeDetector(["3_24_n60"], script), IdentityTracker(),
                               FirstSightAnnouncer(["3_24_n60"], 25.0), speaker, out=tmp_path / "o.mp4")
    assert result.frames == 75
    assert _duration_s(tmp_path / "o.mp4", "v") == pytest.approx(3.0, abs=0.05)
    assert _duration_s(tmp_path / "o.mp4", "a") == pytest.approx(3.0, abs=0.1)


# --- variable frame rate: every frame at its own time (defect 5) ---


def _vfr_video(path: Path) -> tuple[Path, list[float]]:
    """10 frames at 10 fps then 30 at 30 fps (the issue's recipe), frame i showing i in binary as 8 stripes."""
    parts = []
    for name, start, n, fps in (("a.mp4", 0, 10, 10), ("b.mp4", 10, 30, 30)):
        command = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
                   "-s", "64x48", "-r", str(fps), "-i", "-", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p",
                   str(path.parent / name)]
        grey = b"".join(_code_frame(start + i).tobytes() for i in range(n))
        subprocess.run(command, input=grey, check=True)
        parts.append(path.parent / name)
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(parts[0]), "-i", str(parts[1]),
                    "-f", "lavfi", "-i", "sine=d=2",
                    "-filter_complex", "[0:v]settb=1/90000[a];[1:v]settb=1/90000[b];[a][b]concat=n=2:v=1:a=0[v]",
                    "-map", "[v]", "-map", "2:a", "-c:v", "libx264", "-qp", "0", "-fps_mode", "passthrough",
                    "-c:a", "aac", str(path)], check=True)
    return path, [i / 10 for i in range(10)] + [1 + i / 30 for i in range(30)]


def _code_frame(i: int) -> np.ndarray:
    bits = np.array([(i >> k) & 1 for k in range(8)], np.uint8) * 255
    return np.repeat(np.repeat(bits[None, :], 48, axis=0), 8, axis=1)[:, :, None].repeat(3, axis=2)


def _read_code(frame: np.ndarray) -> int:
    stripes = frame.mean(axis=(0, 2)).reshape(8, 8).mean(axis=1)
    return sum(1 << k for k in range(8) if stripes[k] > 128)


def _frames_with_times(path: Path) -> list[tuple[float, int]]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        out.append((cap.get(cv2.CAP_PROP_POS_MSEC) / 1000, _read_code(frame[:, :64])))
    cap.release()
    return out


def test_variable_frame_rate_keeps_every_frame_in_time(tmp_path):
    video, times = _vfr_video(tmp_path / "vfr.mp4")
    assert [i for _, i in _frames_with_times(video)] == list(range(40))  # the input is what it should be
    script = [make_detections()] * 15 + [make_detections([[10, 10, 30, 30]])]  # a sign in frame 15, at 1.167 s
    result = pipeline.annotate(video, FakeDetector(["3_24_n60"], script), IdentityTracker(),
                               FirstSightAnnouncer(["3_24_n60"], pipeline.probe(video).fps), FakeSpeaker(),
                               out=tmp_path / "o.mp4")
    events = json.loads((tmp_path / "o.events.json").read_text(encoding="utf-8"))
    assert result.frames == 40 and events["frames"] == 40
    assert [(e["frame"], e["t"]) for e in events["events"]] == [(15, pytest.approx(times[15], abs=0.002))]
    shown = _frames_with_times(tmp_path / "o.mp4")
    assert {i for _, i in shown} == set(range(40)), "a frame of the input is missing in the output"
    for t, i in shown:  # each output frame shows the input frame whose time it is
        assert times[i] <= t + 1e-3 and (i == 39 or t < times[i + 1] - 1e-3), (t, i)
    assert _duration_s(tmp_path / "o.mp4", "v") == pytest.approx(2.0, abs=0.05)
    assert _duration_s(tmp_path / "o.mp4", "a") == pytest.approx(2.0, abs=0.1)


# --- Rich markup in names (defect 8) ---


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("dash[/x].mp4", id="closing-tag"),
        pytest.param("video [video].mp4", id="yt-dlp-name"),
        pytest.param("[bold]red[/bold].mp4", id="style-tags"),
    ],
)
def test_paths_with_markup_are_printed_as_they_are(tmp_path, name):
    video = tmp_path / name
    video.parent.mkdir(parents=True, exist_ok=True)
    make_video(video, n_frames=5, size_wh=(160, 96))
    out = video.with_name(f"{video.stem}.astute.mp4")
    result = runner.invoke(app, ["annotate", str(video), "--model", str(_tiny_model(tmp_path)), "--no-voice"])
    assert result.exit_code == 0, result.output
    assert f"video: {out}" in result.output
    assert video.name in result.output
    assert out.is_file()


# --- numeric options checked at parse time (defect 10) and ASTUTE_THREADS (defect 14) ---


@pytest.mark.parametrize(
    ("args", "option"),
    [
        pytest.param(["--hfov", "0"], "--hfov", id="hfov-0"),
        pytest.param(["--hfov", "-30"], "--hfov", id="hfov-negative"),
        pytest.param(["--hfov", "180"], "--hfov", id="hfov-180"),
        pytest.param(["--hfov", "nan"], "--hfov", id="hfov-nan"),
        pytest.param(["--conf", "2"], "--conf", id="conf-2"),
        pytest.param(["--conf", "-1"], "--conf", id="conf-negative"),
        pytest.param(["--conf", "0"], "--conf", id="conf-0"),
        pytest.param(["--threads", "0"], "--threads", id="threads-0"),
        pytest.param(["--scan-fps", "-1"], "--scan-fps", id="scan-fps-negative"),
        pytest.param(["--scan-fps", "nan"], "--scan-fps", id="scan-fps-nan"),
        pytest.param(["--threads", "-2"], "--threads", id="threads-negative"),
    ],
)
def test_numeric_options_out_of_range_exit_2_in_one_line(tmp_path, monkeypatch, args, option):
    video = make_video(tmp_path / "v.mp4", n_frames=4)
    monkeypatch.setattr(pipeline, "probe", lambda *_: pytest.fail("the video was opened before the options were "
                                                                  "checked"))
    result = runner.invoke(app, ["annotate", str(video), "--no-voice", *args])
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not list(tmp_path.glob("*.astute*"))


@pytest.mark.parametrize("value", [pytest.param("abc", id="text"), pytest.param("0", id="zero"),
                                   pytest.param("-1", id="negative")])
def test_bad_astute_threads_is_named(tmp_path, monkeypatch, value):
    monkeypatch.setenv("ASTUTE_THREADS", value)
    result = runner.invoke(app, ["annotate", str(make_video(tmp_path / "v.mp4", n_frames=4)), "--no-voice",
                                 "--model", str(_tiny_model(tmp_path))])
    assert result.exit_code == 1
    assert "ASTUTE_THREADS" in result.output and value in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_classifier_given_as_model_is_named(tmp_path):
    _tiny_model(tmp_path)
    result = runner.invoke(app, ["annotate", str(make_video(tmp_path / "v.mp4", n_frames=4)), "--no-voice",
                                 "--model", str(tmp_path / "cls.onnx")])
    assert result.exit_code == 1
    assert "classifier" in result.output and "detector" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


# --- a truncated file says so; libav stays quiet unless --verbose (defect 16) ---


def _run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "astute_cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")},
                               "PYTHONPATH": str(ROOT), "COLUMNS": "200"}, timeout=300, check=False)


def test_truncated_video_warns_with_frame_counts(tmp_path):
    full = tmp_path / "full.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc=s=320x180:r=10:d=5", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-movflags", "+faststart", str(full)], check=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    model = _tiny_model(tmp_path)
    quiet = _run_cli(["annotate", str(cut), "--model", str(model), "--no-voice", "-o", str(tmp_path / "o.mp4")],
                     tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    warning = re.search(r"warning:.*ended early.* (\d+) of (\d+) frames", quiet.stderr)
    assert warning is not None, quiet.stderr
    assert int(warning.group(1)) < 50 and int(warning.group(2)) == 50
    assert not re.search(r"\[(h264|mov,mp4)[^\]]*@", quiet.stderr), quiet.stderr
    verbose = _run_cli(["annotate", str(cut), "--model", str(model), "--no-voice", "--verbose",
                        "-o", str(tmp_path / "o2.mp4")], tmp_path)
    assert verbose.returncode == 0
    assert re.search(r"\[(h264|mov,mp4)[^\]]*@", verbose.stderr), verbose.stderr


def test_complete_video_gives_no_warning(tmp_path):
    result = runner.invoke(app, ["annotate", str(make_video(tmp_path / "v.mp4", n_frames=20, size_wh=(160, 96))),
                                 "--model", str(_tiny_model(tmp_path)), "--no-voice"])
    assert result.exit_code == 0
    assert "warning" not in result.output


# --- SIGTERM and SIGHUP clean up as Ctrl-C does (defect 6) ---

_SLOW_ANNOTATE = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # a job started in the background inherits Ctrl-C ignored
import astute_cli.detector as detector
run = detector.OnnxDetector.detect
detector.OnnxDetector.detect = lambda self, image, *args: (time.sleep(0.05), run(self, image, *args))[1]
from astute_cli.cli import app
app(sys.argv[1:], prog_name="astute")
"""


@pytest.mark.parametrize(
    ("signum", "code"),
    [pytest.param(signal.SIGINT, 130, id="SIGINT"), pytest.param(signal.SIGTERM, 143, id="SIGTERM"),
     pytest.param(signal.SIGHUP, 129, id="SIGHUP")],
)
def test_termination_signals_leave_nothing_behind(tmp_path, signum, code):
    video = make_video(tmp_path / "v.mp4", n_frames=200, size_wh=(160, 96), audio=True)
    model = _tiny_model(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_ANNOTATE, "annotate", str(video), "--model", str(model),
                             "--lang", "en", "-o", str(out_dir / "o.mp4")], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(out_dir.glob(".o.*")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)  # well into the frames
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "no output was left behind" in stderr
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("signum", "code"),
    [pytest.param(signal.SIGTERM, 143, id="SIGTERM"), pytest.param(signal.SIGHUP, 129, id="SIGHUP")],
)
def test_termination_signals_stop_many_videos_cleanly(tmp_path, signum, code):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("a.mp4", "b.mp4"):
        make_video(videos / name, n_frames=200, size_wh=(160, 96), audio=True)
    model = _tiny_model(tmp_path)
    out_dir = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_ANNOTATE, "annotate", str(videos), "--model", str(model),
                             "--lang", "en", "--no-voice", "-o", str(out_dir)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(out_dir.glob(".a.*")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)  # well into the first video's frames
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "interrupted" in stderr
    assert not [p.name for p in out_dir.iterdir() if p.name.startswith(".")]  # no hidden temporary file
    assert not list(out_dir.glob("*.mp4"))  # the unfinished video left no output
