"""Guards on what the repository holds: no large binary enters git by accident, and the package never writes
into itself."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LARGE_BYTES = 3 * 2**20
BUNDLED_MODELS = "astute_cli/models/"
CHECKPOINT = re.compile(r"^benchmarks/experiments/(?P<run>[\w.-]+)/weights/best\.pt$")
"""A training checkpoint kept beside its run's log; allowed when the model card names the run."""


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if out.returncode != 0:
        pytest.skip("git ls-files failed here")
    return [name for name in out.stdout.decode().split("\0") if name]


def allowed_large(path: str, card: str) -> bool:
    if path.startswith(BUNDLED_MODELS) and path.endswith(".onnx"):
        return True
    match = CHECKPOINT.match(path)
    return match is not None and re.search(rf"\b{re.escape(match['run'])}\b", card) is not None


@pytest.mark.parametrize(
    ("path", "card", "allowed"),
    [
        pytest.param("astute_cli/models/detector.onnx", "", True, id="bundled-model"),
        pytest.param("benchmarks/experiments/det-v5/weights/best.pt", "| det-v5 | ...", True, id="named-checkpoint"),
        pytest.param("benchmarks/experiments/det-v9/weights/best.pt", "| det-v5 | ...", False, id="unnamed-checkpoint"),
        pytest.param("benchmarks/experiments/det-v5/weights/last.pt", "| det-v5 | ...", False, id="last-pt"),
        pytest.param("datasets/big.zip", "det-v5", False, id="anything-else"),
    ],
)
def test_allowed_large(path, card, allowed):
    assert allowed_large(path, card) is allowed


def test_no_unexpected_large_files_in_git():
    card = (ROOT / "astute_cli" / "models" / "MODEL_CARD.md").read_text(encoding="utf-8")
    large = [p for p in tracked_files() if (ROOT / p).is_file() and (ROOT / p).stat().st_size > LARGE_BYTES]
    unexpected = [p for p in large if not allowed_large(p, card)]
    assert not unexpected, f"large files in git (bundle them on purpose or keep them out): {unexpected}"


def test_training_writes_outside_the_package(tmp_path, monkeypatch):
    from astute_cli import train
    from astute_cli.paths import PACKAGE_DIR

    monkeypatch.chdir(tmp_path)
    for folder in (train.RUNS_DIR, train.EXPERIMENTS_DIR):
        assert not folder.resolve().is_relative_to(PACKAGE_DIR)
        assert folder.resolve().is_relative_to(tmp_path)
