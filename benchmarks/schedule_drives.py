"""Random drives at 25 and 30 fps for choosing the real-time schedule (issue 17): ``astute make-clips``' random
drives (``scenarios.random_specs``), each given 25 or 30 fps, the rates where the schedule skips frames. Not
committed: written to a folder and measured with ``realtime.py --clips``.

    .venv/bin/python benchmarks/schedule_drives.py /tmp/sched-drives 12 5000
    .venv/bin/python benchmarks/realtime.py --skip-speed --threads 1 --clips /tmp/sched-drives --cache /tmp/rtcache-d \\
        --quality-settings "INT8, every frame;after;INT8, 5 scans/s, every 2nd whole, focus" --json OUT.json
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np

from astute_cli.synth import scenarios


def main(out: str, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    specs = []
    for spec in scenarios.random_specs(n, seed):
        fps = float(rng.choice([25.0, 30.0]))
        name = f"drive_{spec.seed:05d}_{spec.speed_kmh:g}kmh_{fps:g}fps_{spec.resolution_wh[1]}p"
        specs.append(replace(spec, fps=fps, name=name))
    scenarios.make_clips(out, specs)
    print("\n".join(spec.name for spec in specs))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
