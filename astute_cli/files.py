"""Files written whole or not at all, and the image files of a folder."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


def iter_images(folder: str | Path) -> Iterator[Path]:
    """Image files under ``folder`` (recursively), sorted."""
    yield from sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


@contextmanager
def atomic_path(path: str | Path, prefix: str | None = None, suffix: str = ".tmp",
                ordinary_mode: bool = False) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; renamed onto ``path`` when the block ends without an error.

    Readers of ``path`` see the old file or the whole new one, never half of one; the temporary file never
    outlives the block.

    Args:
        path: the file to make or replace.
        prefix, suffix: the temporary file's name parts (default prefix: ``.<name>.``).
        ordinary_mode: give the file the umask's permissions (mkstemp makes 0600 files).
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=prefix if prefix is not None else f".{path.name}.", suffix=suffix,
                                dir=path.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        if ordinary_mode:
            os.chmod(temp, 0o666 & ~current_umask())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_json_atomic(path: str | Path, data: dict) -> None:
    """Write JSON (UTF-8, indent 2) to a temporary file beside ``path`` and rename it into place."""
    with atomic_path(path, ordinary_mode=True) as temp, open(temp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)


def current_umask() -> int:
    """The process umask (reading it needs setting it; this puts it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
