"""Where Astute keeps its files: the package's bundled assets, the user's cache, the shared data."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
MODELS_DIR = PACKAGE_DIR / "models"
CLIPS_DIR = PACKAGE_DIR / "clips"
DATA_DIR = PACKAGE_DIR / "data"
PROJECT_ROOT = PACKAGE_DIR.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def astute_home() -> Path:
    """The user's Astute folder (caches); ``ASTUTE_HOME`` overrides ``~/.cache/astute``."""
    home = Path(os.environ.get("ASTUTE_HOME") or Path.home() / ".cache" / "astute")
    home.mkdir(parents=True, exist_ok=True)
    return home


def shared_data() -> Path:
    """The read-only data folder beside the project (``ASTUTE_DATA`` overrides)."""
    return Path(os.environ.get("ASTUTE_DATA") or SHARED_DATA)
