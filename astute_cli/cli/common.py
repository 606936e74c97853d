"""What every command shares: the Typer app, one-line errors, plain-text output and parse-time range checks."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Astute: Russian road-sign recognition in dashcam video, offline, with spoken alerts.")
console = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one red error line and return the Exit to raise."""
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def say(text: str) -> None:
    """Print a line of plain text (paths and names as they are, never read as Rich markup) to stderr."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def in_range(option: str, low: float | None = None, high: float | None = None, *, low_open: bool = False,
             high_open: bool = False):
    """A parse-time check of a numeric option (a Typer callback): out of range (or NaN) gives one red line naming
    the option and exit 2, before anything runs."""
    text = " and ".join(part for part in (
        None if low is None else f"{'>' if low_open else '≥'} {low:g}",
        None if high is None else f"{'<' if high_open else '≤'} {high:g}") if part)

    def check(value: float | None) -> float | None:
        if value is None:
            return value
        ok = value == value  # NaN is never in range
        if low is not None:
            ok = ok and (value > low if low_open else value >= low)
        if high is not None:
            ok = ok and (value < high if high_open else value <= high)
        if not ok:
            raise fail(f"invalid value for {option}: {value:g} (must be {text})", 2)
        return value

    return check
