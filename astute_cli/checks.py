"""Checks made before any work starts: outputs that would destroy an input or each other, folders that cannot take
a file."""

from __future__ import annotations

import os
from pathlib import Path


def same_file(a: str | Path, b: str | Path) -> bool:
    """True when two paths name one file: equal once resolved (symlinks, ``./``, ``..``) or hard links of it."""
    a, b = Path(a), Path(b)
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


def check_output_file(path: str | Path, what: str) -> None:
    """ValueError naming the problem when ``path`` cannot become a new file: a folder, or a missing or read-only
    folder around it."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a folder: give a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"Folder of the {what.lower()} does not exist: {str(folder)!r}")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"Folder of the {what.lower()} is not writable: {str(folder)!r}")


def check_outputs(inputs: dict[str, Path], outputs: dict[str, Path]) -> None:
    """Refuse outputs that would overwrite an input or each other, or that cannot be written.

    Args:
        inputs: name → path of each file read (``{"input video": video}``).
        outputs: name → path of each file written (``{"Output video": out, "Events file": events}``).
    """
    refuse_same_files(inputs, outputs)
    for what, path in outputs.items():
        check_output_file(path, what)


def refuse_same_files(inputs: dict[str, Path], outputs: dict[str, Path]) -> None:
    """ValueError when an output is one of the inputs, or two outputs are one file (arguments as
    :func:`check_outputs`)."""
    for what, path in outputs.items():
        for source, input_path in inputs.items():
            if same_file(path, input_path):
                raise ValueError(f"{what} {str(path)!r} is the {source}: it would be overwritten; "
                                 f"choose another name")
    names = list(outputs)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            if same_file(outputs[first], outputs[second]):
                raise ValueError(f"{first} and {second.lower()} are the same file: {str(outputs[second])!r}")
