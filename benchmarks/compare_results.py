"""Compare two benchmark JSON files, ignoring what depends on the machine (speed, time, fps, memory, threads,
the command line).

Usage: python benchmarks/compare_results.py benchmarks/results/bundled.json /tmp/bundled.json
Exit status 0 when everything else is equal, 1 with one line per difference otherwise.
"""

from __future__ import annotations

import json
import sys
from typing import Any

MACHINE_SECTIONS = {"speed", "command", "threads", "model_size_mb"}
MACHINE_PREFIXES = ("fps", "memory", "latency", "elapsed", "wall")
"""Keys that measure the machine. Lead times are not among them: they are counted in video frames."""


def machine_dependent(key: str) -> bool:
    key = key.lower()
    return key in MACHINE_SECTIONS or key.startswith(MACHINE_PREFIXES)


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if machine_dependent(str(key)):
                continue
            if key not in a or key not in b:
                out.append(f"{where}/{key}: only in {'second' if key not in a else 'first'}")
            else:
                out += differences(a[key], b[key], f"{where}/{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def main(first: str, second: str) -> int:
    found = differences(*(json.loads(open(p, encoding="utf-8").read()) for p in (first, second)))
    print("\n".join(found) if found else "same apart from machine-dependent fields")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
