"""Every numeric option is checked at parse time, in one line with exit 2 (issue 20, defect 10), and names with
Rich markup are printed as they are (defect 8)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from astute_cli.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        pytest.param(["synth", "detector", "{tmp}/s", "--n", "0"], "--n", id="synth-n"),
        pytest.param(["synth", "classifier", "{tmp}/s", "--per-class", "-1"], "--per-class", id="synth-per-class"),
        pytest.param(["synth", "detector", "{tmp}/s", "--imgsz", "0"], "--imgsz", id="synth-imgsz"),
        pytest.param(["synth", "classifier", "{tmp}/s", "--size", "-48"], "--size", id="synth-size"),
        pytest.param(["synth", "detector", "{tmp}/s", "--workers", "0"], "--workers", id="synth-workers"),
        pytest.param(["synth", "classifier", "{tmp}/s", "--mine-frames", "0"], "--mine-frames",
                     id="synth-mine-frames"),
        pytest.param(["synth", "classifier", "{tmp}/s", "--mine-conf", "1.5"], "--mine-conf", id="synth-mine-conf"),
        pytest.param(["synth", "classifier", "{tmp}/s", "--mine-empty", "1.2"], "--mine-empty", id="synth-mine-empty"),
        pytest.param(["train", "{tmp}", "--epochs", "0"], "--epochs", id="train-epochs"),
        pytest.param(["train", "{tmp}", "--batch", "0"], "--batch", id="train-batch"),
        pytest.param(["train", "{tmp}", "--imgsz", "-320"], "--imgsz", id="train-imgsz"),
        pytest.param(["train", "{tmp}", "--workers", "-1"], "--workers", id="train-workers"),
        pytest.param(["train", "{tmp}", "--time-budget-h", "0"], "--time-budget-h", id="train-time-budget"),
        pytest.param(["export", "--opset", "0"], "--opset", id="export-opset"),
        pytest.param(["export", "--tolerance", "-0.1"], "--tolerance", id="export-tolerance"),
        pytest.param(["benchmark", "--data", "{tmp}", "--threads", "0"], "--threads", id="benchmark-threads"),
        pytest.param(["benchmark", "--data", "{tmp}", "--eval-fps", "0"], "--eval-fps", id="benchmark-eval-fps"),
        pytest.param(["make-clips", "{tmp}/c", "--count", "-1"], "--count", id="make-clips-count"),
        pytest.param(["make-clips", "{tmp}/c", "--limit-drives", "-2"], "--limit-drives", id="make-clips-limit-drives"),
        pytest.param(["import-cvat", "{tmp}/a.xml", "-o", "{tmp}/o.json", "--fps", "0"], "--fps",
                     id="import-cvat-fps"),
        pytest.param(["fetch", "--limit", "0", "-o", "{tmp}/v"], "--limit", id="fetch-limit"),
        pytest.param(["fetch", "--max-height", "-1", "-o", "{tmp}/v"], "--max-height", id="fetch-max-height"),
    ],
)
def test_numeric_options_out_of_range_exit_2_in_one_line(tmp_path, args, option):
    result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert f"invalid value for {option}" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value", [pytest.param("1", id="one"), pytest.param("0.5", id="half")])
def test_numbers_in_range_pass(value):
    from astute_cli.cli.common import in_range

    assert in_range("--x", 0, 1, low_open=True)(float(value)) == float(value)
