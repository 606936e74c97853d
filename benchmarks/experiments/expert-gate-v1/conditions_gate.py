"""``benchmarks/conditions.py`` with the expert's sign gate set (needs ``expert_sign_gate.patch`` applied).

    git apply benchmarks/experiments/expert-gate-v1/expert_sign_gate.patch
    ASTUTE_THREADS=1 .venv/bin/python benchmarks/experiments/expert-gate-v1/conditions_gate.py 0.35 \\
        --sets dusk,night,fog,markers-night,rain,glare --json 1.json     # and the other sets in a second process
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import conditions  # noqa: E402

_load = conditions.load_detector


def _gated(*args, **kwargs):
    detector = _load(*args, **kwargs)
    detector.expert_sign_gate = float(sys.argv[1])
    return detector


if __name__ == "__main__":
    conditions.load_detector = _gated
    sys.exit(conditions.main(sys.argv[2:]))
