from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def astute_home(tmp_path_factory, monkeypatch):
    """Point ASTUTE_HOME (caches) at a temporary folder for every test."""
    home = tmp_path_factory.mktemp("astute_home")
    monkeypatch.setenv("ASTUTE_HOME", str(home))
    return home


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not beside the project")
    return SHARED_DATA
