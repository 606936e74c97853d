"""The `astute` command line: parse, build the stages, call the library, print with Rich.

Each command is a few lines over a library function; errors the user can fix are one red line and a non-zero
exit. ``common`` holds the app and what every command shares; ``annotate`` and ``tools`` register their
commands on it when imported here.
"""

from __future__ import annotations

from astute_cli.cli import annotate, tools
from astute_cli.cli.common import app

__all__ = ["annotate", "app", "tools"]
