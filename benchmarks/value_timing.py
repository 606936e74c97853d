"""When to say a sign's number: speaking early against speaking wrong.

Replays the detector's cached output on the labelled clips (``astute benchmark --cache``) through the tracker
and the announcer for every setting of the value vote (``value_votes``: readings of the winning number,
``value_share``: its share of the reading weight, ``value_wait``: views of a sure kind to wait for the number
before the sign is said without it, -1 never; ``value_min_width_px``: the box width from which readings vote and
the wait counts) and records the first alert's value accuracy, the median lead time of the first alerts, wrong-kind
alerts and alerts said without a number. Choose on drives made for it (``astute make-clips DIR --count N``), and
check the choice on the committed clips.

    .venv/bin/python benchmarks/values_before_after.py --eval-fps 5 --boxes /tmp/vboxes --cache /tmp/vcache5 ...
    .venv/bin/python benchmarks/value_timing.py --eval-fps 5 --cache /tmp/vcache5 \
        --json benchmarks/results/value-timing.json --chart benchmarks/results/value_timing.png
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

from astute_cli.announcer import Announcer
from astute_cli.detector import load_detector
from astute_cli.eval.clips import evaluate_clips, find_clip_labels
from astute_cli.tracker import Tracker

VOTES = (1, 2, 3, 4)
SHARES = (0.5, 0.6, 0.7, 0.8, 0.9)
WAITS = (-1, 2, 4, 8)
MIN_WIDTHS = (0.0, 20.0, 22.0, 24.0)
SAY_WIDTHS = (0.0,)
MIN_CONFIDENCES = (0.0,)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("annotations"))
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--no-reader", action="store_true")
    parser.add_argument("--eval-fps", type=float, default=None, help="as the cache was made (default: all frames)")
    parser.add_argument("--votes", default="", help="comma-separated value_votes to try (default: VOTES)")
    parser.add_argument("--shares", default="", help="value_share values (default: SHARES)")
    parser.add_argument("--waits", default="", help="value_wait values (default: WAITS)")
    parser.add_argument("--min-widths", default="", help="value_min_width_px values (default: MIN_WIDTHS)")
    parser.add_argument("--say-widths", default="", help="value_say_width_px values (default: SAY_WIDTHS)")
    parser.add_argument("--min-confidences", default="", help="value_min_confidence values (default: "
                        "MIN_CONFIDENCES)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--chart", type=Path)
    args = parser.parse_args()
    detector = load_detector(None, threads=1, reader=False if args.no_reader else None)
    paths = find_clip_labels(args.data)
    rows = []
    grid = [_ints(args.votes) or VOTES, _floats(args.shares) or SHARES, _ints(args.waits) or WAITS,
            _floats(args.min_widths) or MIN_WIDTHS, _floats(args.say_widths) or SAY_WIDTHS,
            _floats(args.min_confidences) or MIN_CONFIDENCES]
    for votes, share, wait, min_width, say_width, min_conf in itertools.product(*grid):
        def stages(labels, fps, votes=votes, share=share, wait=wait, min_width=min_width, say_width=say_width,
                   min_conf=min_conf):
            return Tracker(fps=fps), Announcer(labels, fps=fps, lang="en", value_votes=votes, value_share=share,
                                               value_wait=wait, value_min_width_px=min_width,
                                               value_say_width_px=say_width, value_min_confidence=min_conf)

        metrics = evaluate_clips(detector, paths, stages, eval_fps=args.eval_fps, cache_dir=args.cache)
        valued = [s for s in metrics.per_sign if s["value_right"] is not None]
        rows.append({"value_votes": votes, "value_share": share, "value_wait": wait, "value_min_width_px": min_width,
                     "value_say_width_px": say_width, "value_min_confidence": min_conf,
                     "value_accuracy": metrics.value_accuracy, "valued_signs": len(valued),
                     "lead_time_s_median": metrics.lead_time_s_median, "sign_recall": metrics.sign_recall,
                     "wrong_kind_alerts": metrics.wrong_kind_alerts, "false_alerts": metrics.false_alerts,
                     "duplicate_alerts": metrics.duplicate_alerts})
        print(json.dumps(rows[-1]))
    result = {"command": " ".join(["benchmarks/value_timing.py", *sys.argv[1:]]),
              "reader": None if detector.reader is None else "bundled", "rows": rows}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if args.chart:
        chart(rows, args.chart)
    return 0


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(",") if v.strip())


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split(",") if v.strip())


def chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for wait, marker in zip(WAITS, "os^D", strict=True):
        group = [r for r in rows if r["value_wait"] == wait and r["value_accuracy"] is not None]
        ax.scatter([r["lead_time_s_median"] for r in group], [r["value_accuracy"] for r in group], marker=marker,
                   label=f"value_wait={wait}", alpha=0.7)
    ax.set_xlabel("median lead time of the first alert, s")
    ax.set_ylabel("first-alert value accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    raise SystemExit(main())
