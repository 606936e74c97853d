from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from astute_cli.batch import Job, Settings, build_stages, find_videos, plan_jobs
from astute_cli.cli import app
from tests.conftest import make_video

runner = CliRunner()
ALERT = "Ограничение скорости 60"


@pytest.fixture
def tiny_model(tmp_path) -> Path:
    """A two-stage model that sees one 3.24 (60) sign in every frame."""
    from tests.onnx_factories import make_classifier_onnx, make_detector_onnx

    folder = tmp_path / "model"
    folder.mkdir()
    make_classifier_onnx(folder / "cls.onnx", [0.05, 0.9, 0.05], ["5_19_1", "3_24_n60", "background"])
    return make_detector_onnx(folder / "det.onnx", [[40, 30, 24, 24, 0.8]], ["sign"], imgsz=(64, 64),
                              astute_classifier="cls.onnx", astute_tile="64", astute_reader="none")


def good(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_video(path, n_frames=12, size_wh=(160, 96), fps=10.0)


def junk(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00junk" * 100)
    return path


def outputs(folder: Path, stem: str) -> list[Path]:
    return [folder / f"{stem}.astute{suffix}" for suffix in (".mp4", ".events.json", ".html")]


def invoke(model: Path, *args) -> object:
    return runner.invoke(app, ["annotate", *map(str, args), "--model", str(model), "--no-voice"])


def test_find_videos_reads_folders_by_suffix_without_own_outputs(tmp_path):
    for name in ("b.mkv", "a.mp4", "a.astute.mp4", ".a.tmp.mp4", "a.json", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.mp4").write_bytes(b"x")
    assert find_videos([tmp_path, tmp_path / "a.mp4", tmp_path / "z.mov"]) == [
        tmp_path / "a.mp4", tmp_path / "b.mkv", tmp_path / "z.mov"]


@pytest.mark.parametrize(
    ("out_dir", "report", "expected"),
    [
        pytest.param(None, True, ["v/a.astute.mp4", "v/a.astute.events.json", "v/a.astute.html"], id="beside"),
        pytest.param("o", True, ["o/a.astute.mp4", "o/a.astute.events.json", "o/a.astute.html"], id="out-folder"),
        pytest.param("o", False, ["o/a.astute.mp4", "o/a.astute.events.json", None], id="no-report"),
    ],
)
def test_plan_jobs_names_the_outputs(out_dir, report, expected):
    (job,) = plan_jobs([Path("v/a.mp4")], None if out_dir is None else Path(out_dir), report)
    assert [job.out.as_posix(), job.events.as_posix(), job.report and job.report.as_posix()] == expected


def test_plan_jobs_refuses_two_videos_writing_the_same_files():
    with pytest.raises(ValueError, match="same output"):
        plan_jobs([Path("x/a.mp4"), Path("y/a.mkv")], Path("o"))


@pytest.mark.parametrize(
    ("made", "video_touched_after", "done"),
    [
        pytest.param((), False, False, id="nothing-made"),
        pytest.param(("mp4",), False, False, id="video-only"),
        pytest.param(("mp4", "events"), False, True, id="video-and-events"),
        pytest.param(("mp4", "events"), True, False, id="input-changed-since"),
    ],
)
def test_job_done_when_outputs_are_newer_than_the_input(tmp_path, made, video_touched_after, done):
    job = Job(tmp_path / "a.mp4", tmp_path / "a.astute.mp4", tmp_path / "a.astute.events.json", None)
    job.video.write_bytes(b"v")
    os.utime(job.video, (1000, 1000))
    for kind in made:
        (job.out if kind == "mp4" else job.events).write_bytes(b"x")
    if video_touched_after:
        os.utime(job.video, None)
        for path in (job.out, job.events):
            os.utime(path, (500, 500))
    assert job.done() is done


def test_folder_goes_on_past_a_bad_file_skips_done_ones_and_writes_an_index(tmp_path, tiny_model):
    folder = tmp_path / "videos"
    good(folder / "a.mp4"), junk(folder / "b.mp4"), good(folder / "c.mp4")
    result = invoke(tiny_model, folder)
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "b.mp4" in errors[0] and "Cannot open video" in errors[0]
    for stem in ("a", "c"):
        assert all(p.exists() for p in outputs(folder, stem))
        events = json.loads((folder / f"{stem}.astute.events.json").read_text(encoding="utf-8"))
        assert [e["text"] for e in events["events"]] == [ALERT]
    assert not any(p.exists() for p in outputs(folder, "b"))
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'href="([^"]+\.html)"', index) == ["a.astute.html", "c.astute.html"]
    assert "b.mp4" in index and "Cannot open video" in index

    made = {p: p.stat().st_mtime_ns for stem in ("a", "c") for p in outputs(folder, stem)}
    again = invoke(tiny_model, folder)
    assert again.exit_code == 1
    assert again.output.count("skipped") == 2 and "b.mp4" in again.output
    assert {p: p.stat().st_mtime_ns for p in made} == made  # not redone
    assert re.findall(r'href="([^"]+\.html)"', (folder / "index.html").read_text(encoding="utf-8")) == [
        "a.astute.html", "c.astute.html"]


@pytest.mark.slow
def test_two_workers_annotate_two_videos_into_an_output_folder(tmp_path, tiny_model):
    videos = [good(tmp_path / "in" / "a.mp4"), good(tmp_path / "in2" / "b.mp4")]
    out = tmp_path / "out"
    result = invoke(tiny_model, *videos, "-o", out, "--workers", "2", "--threads", "1")
    assert result.exit_code == 0, result.output
    for stem in ("a", "b"):
        events = json.loads((out / f"{stem}.astute.events.json").read_text(encoding="utf-8"))
        assert [e["text"] for e in events["events"]] == [ALERT]
        assert (out / f"{stem}.astute.html").exists()
    assert re.findall(r'href="([^"]+)"', (out / "index.html").read_text(encoding="utf-8")) == [
        "a.astute.html", "a.astute.mp4", "b.astute.html", "b.astute.mp4"]


@pytest.mark.slow
def test_parallel_workers_report_progress_and_results(tmp_path, tiny_model):
    from astute_cli.batch import run_jobs

    jobs = plan_jobs([good(tmp_path / "a.mp4"), junk(tmp_path / "b.mp4"), good(tmp_path / "c.mp4")])
    frames, results = [], []
    done = run_jobs(jobs, Settings(model=str(tiny_model), voice=None, threads=1), workers=2,
                    on_result=results.append, on_frame=lambda *call: frames.append(call))
    assert [r.status for r in done] == ["done", "failed", "done"]
    assert sorted(r.job.video.name for r in results) == ["a.mp4", "b.mp4", "c.mp4"]
    assert sorted(frames)[:1] == [(0, 1, 12)] and (2, 1, 12) in frames  # each worker tells its first frame
    assert [r.alerts for r in done] == [1, None, 1]


@pytest.mark.slow
def test_dask_cluster_started_here_annotates_the_videos(tmp_path, tiny_model):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed "
                                                            "(pip install -e '.[dask]')")
    videos = [good(tmp_path / "v" / "a.mp4"), good(tmp_path / "v" / "b.mp4")]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        result = invoke(tiny_model, tmp_path / "v", "--dask", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    for video in videos:
        events = json.loads(video.with_name(f"{video.stem}.astute.events.json").read_text(encoding="utf-8"))
        assert [e["text"] for e in events["events"]] == [ALERT]
    assert (tmp_path / "v" / "index.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["{a}", "{b}", "-o", "{tmp}/out.mp4"], "-o must be a folder", id="out-file-for-several"),
        pytest.param(["{a}", "{b}", "--events", "{tmp}/e.json"], "take one video", id="events-for-several"),
        pytest.param(["{a}", "{b}", "--report", "{tmp}/r.html"], "take one video", id="report-for-several"),
        pytest.param(["{a}", "{tmp}/missing.mp4"], "No such file or folder", id="missing-input"),
        pytest.param(["{tmp}/empty"], "No video files", id="folder-without-videos"),
        pytest.param(["{a}", "--report", "{tmp}/missing/r.html"], "Output folder does not exist", id="bad-report"),
    ],
)
def test_annotate_errors_are_one_line(tmp_path, tiny_model, args, message):
    (tmp_path / "empty").mkdir()
    a, b = good(tmp_path / "a.mp4"), good(tmp_path / "b.mp4")
    result = invoke(tiny_model, *[x.format(a=a, b=b, tmp=tmp_path) for x in args])
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not list(tmp_path.rglob("*.astute.*")) and not list(tmp_path.rglob("index.html"))


@pytest.mark.parametrize(
    ("two_stage", "scan_fps", "step", "focus"),
    [
        pytest.param(True, 5.0, 5, True, id="two-stage-looks-again-between-scans"),
        pytest.param(False, 5.0, 5, False, id="one-stage-cannot-look-again"),
        pytest.param(True, None, 1, False, id="every-frame"),
    ],
)
def test_build_stages_fits_the_schedule_to_the_model(tmp_path, tiny_model, two_stage, scan_fps, step, focus):
    from tests.onnx_factories import make_detector_onnx

    model = tiny_model if two_stage else make_detector_onnx(tmp_path / "one.onnx", [[40, 30, 24, 24, 0.8]], ["sign"],
                                                            imgsz=(64, 64), astute_tile="64")
    _, tracker, announcer, schedule = build_stages(Settings(model=str(model), scan_fps=scan_fps), 25.0)
    assert (schedule.step, schedule.focus) == (step, focus)
    assert tracker.fps == pytest.approx(25.0 / step)  # the tracker counts scans, the announcer video frames
    assert announcer.fps == 25.0
