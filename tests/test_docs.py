"""Every command has help text and is documented in the README (like sqlite-utils' tests/test_docs.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from astute_cli.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)


def test_there_are_commands():
    assert "annotate" in COMMANDS


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help(name):
    command = next(c for c in app.registered_commands if (c.name or c.callback.__name__) == name)
    assert (command.help or command.callback.__doc__ or "").strip()


@pytest.mark.parametrize("name", COMMANDS)
def test_command_is_in_readme(name):
    assert f"astute {name}" in README


def test_readme_starts_with_the_two_commands():
    head = README.split("```")[1]
    assert "make demo" in head and "make test" in head
    typer.main.get_command(app)  # the app builds
