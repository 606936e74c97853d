"""Where Astute keeps its files: the package's bundled assets, the user's cache, the read-only data folder.

Nothing here points into a developer's workspace, and nothing is ever written into the package: caches go to
``ASTUTE_HOME``; the data folder is found from the folder Astute runs in (the project root) unless
``ASTUTE_DATA`` names it.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
MODELS_DIR = PACKAGE_DIR / "models"
CLIPS_DIR = PACKAGE_DIR / "clips"


def astute_home() -> Path:
    """The user's Astute folder (caches); ``ASTUTE_HOME`` overrides ``~/.cache/astute``."""
    home = Path(os.environ.get("ASTUTE_HOME") or Path.home() / ".cache" / "astute")
    home.mkdir(parents=True, exist_ok=True)
    return home


def shared_data() -> Path:
    """The read-only data folder: ``ASTUTE_DATA``, else ``../shared/data`` from the current folder (the project
    root, where the Makefile, CI and the docs run every command)."""
    return Path(os.environ.get("ASTUTE_DATA") or Path.cwd().parent / "shared" / "data")
