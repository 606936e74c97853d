"""What the driver hears under each condition (issue 16): the same random drives rendered under clear, dusk, night,
winter, rain, fog and glare (``astute make-clips --conditions``), run through ``astute annotate``'s own loop and
defaults (``realtime.clip_quality``, its "after" row: INT8, 5 scans a second, every 3rd whole, focus looks). Per
condition: sign recall (an alert with the right kind), value accuracy, false alerts per minute, duplicates, wrong
kinds and lead time; the gap to the clear drives is the condition's own, since the drives are the same.

    .venv/bin/python benchmarks/condition_drives.py --folder /tmp/cd --threads 1 --conditions clear,night,winter,fog \\
        --json benchmarks/results/condition-drives.json
    .venv/bin/python benchmarks/condition_drives.py --folder /tmp/cd --threads 1 --conditions dusk,rain,glare \\
        --json benchmarks/results/condition-drives.json      # a second process, adding to the same JSON

The drives (``--drives 8 --seed 9300`` by default: ``scenarios.random_specs``) are written under ``--folder``
once and reused; they are test drives, nothing is trained, tuned or chosen on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from astute_cli.synth import scenarios
from astute_cli.synth.conditions import CONDITIONS, parse_conditions

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import realtime  # noqa: E402

DEFAULTS = "after: INT8, 5 scans/s, every 3rd whole, focus"
"""``realtime.SETTINGS``' row of ``astute annotate``'s defaults."""


def drives(folder: Path, condition: str, n: int, seed: int) -> list[Path]:
    """The label files of the ``n`` drives under ``condition``, rendered first where missing."""
    specs = scenarios.random_specs(n, seed, (condition,))
    out = folder / condition
    missing = [s for s in specs if not (out / f"{s.name}.labels.json").is_file()]
    if missing:
        started = time.perf_counter()
        scenarios.make_clips(out, missing)
        print(f"{condition}: {len(missing)} drives rendered in {time.perf_counter() - started:.0f} s", flush=True)
    return [out / f"{s.name}.labels.json" for s in specs]


def table(rows: dict[str, dict]) -> str:
    """Markdown: one row per condition, recall's gap to the clear drives."""
    clear = rows.get("clear", {}).get("sign_recall")
    lines = ["| condition | signs | sign recall | gap to clear | value accuracy | false alerts / min | duplicates | "
             "wrong kind | median lead, s |", "|---|---|---|---|---|---|---|---|---|"]
    for name in [c for c in CONDITIONS if c in rows]:
        r = rows[name]
        gap = "" if clear is None or name == "clear" else f"{r['sign_recall'] - clear:+.3f}"
        value = "–" if r["value_accuracy"] is None else f"{r['value_accuracy']:.2f}"
        lead = "–" if r["lead_time_s_median"] is None else f"{r['lead_time_s_median']:.2f}"
        lines.append(f"| {name} | {r['signs']} | {r['sign_recall']:.3f} | {gap} | {value} | "
                     f"{r['false_alerts_per_min']:.2f} | {r['duplicate_alerts']} | {r['wrong_kind_alerts']} | {lead} |")
    return "\n".join(lines)


def save(path: Path, condition: str, row: dict, meta: dict, command: str) -> None:
    """Add one condition's row to the JSON at ``path`` (read again first: two processes may add to it)."""
    report = json.loads(path.read_text()) if path.is_file() else {"results": {}, "commands": []}
    report |= meta
    if command not in report["commands"]:
        report["commands"].append(command)
    report["results"][condition] = row
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=ROOT / "datasets" / "condition-drives")
    parser.add_argument("--conditions", default=",".join(CONDITIONS))
    parser.add_argument("--drives", type=int, default=8)
    parser.add_argument("--seed", type=int, default=9300)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    meta = {"drives": args.drives, "seed": args.seed, "setting": DEFAULTS}
    command = "python benchmarks/condition_drives.py " + " ".join(sys.argv[1:] if argv is None else argv)
    rows = {}
    for condition in parse_conditions(args.conditions):
        clips = drives(args.folder, condition, args.drives, args.seed)
        started = time.perf_counter()
        rows[condition] = row = realtime.clip_quality(clips, args.threads, args.folder / "cache", [DEFAULTS])[DEFAULTS]
        print(f"{condition}: recall {row['sign_recall']:.3f} on {row['signs']} signs, "
              f"{row['false_alerts_per_min']:.2f} false alerts/min ({time.perf_counter() - started:.0f} s)", flush=True)
        if args.json:  # after every condition: a long run keeps what it measured
            save(args.json, condition, row, meta, command)
    print(table(json.loads(args.json.read_text())["results"] if args.json else rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
