"""The `astute` command line: parse, build the stages, call the library, print with Rich.

Each command is a few lines over a library function; errors the user can fix are one red line
and a non-zero exit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Astute: Russian road-sign recognition in dashcam video, offline, with spoken alerts.")
console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one red error line and return the Exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


# --- annotate (issue 5) ---

# --- synth (issue 6) ---

# --- train (issue 6) ---

# --- export (issue 3) ---

# --- benchmark (issue 2) ---

# --- fetch (issue 4) ---
