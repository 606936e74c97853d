"""Each false alert of some drives, with its track's first and last box before the alert: how far it moved and how
much it grew. Run on the validation drives only (seed 9400), with the wait off:

    ASTUTE_THREADS=1 .venv/bin/python benchmarks/experiments/still-wait-v1/false_alerts.py /tmp/cv/rain /tmp/cv/night
"""

import sys
from contextlib import closing
from pathlib import Path

import numpy as np

from astute_cli import batch
from astute_cli.eval.clips import _match_alert
from astute_cli.labels.clips import load_clip_labels
from astute_cli.pipeline import run_stages
from astute_cli.source import frames


def main(folders: list[str]) -> None:
    for folder in folders:
        for path in sorted(Path(folder).glob("*.labels.json")):
            labels = load_clip_labels(path)
            settings = batch.Settings(threads=1, lang="en")
            detector, tracker, announcer, schedule = batch.build_stages(settings, labels.fps)
            boxes: dict[int, list] = {}
            alerts = []
            with closing(frames(labels.video_path())) as source:
                for index, _, found, new in run_stages(source, detector, tracker, announcer, schedule):
                    if found is not None and found.track_id is not None:
                        for box, track in zip(found.xyxy, found.track_id, strict=True):
                            boxes.setdefault(int(track), []).append((index, box))
                    alerts += new
            matched: set[int] = set()
            for alert in sorted(alerts, key=lambda a: a.frame_index):
                sign = _match_alert(alert, labels, matched, round(0.5 * labels.fps))
                if sign is not None:
                    matched.add(sign.id)
                    continue
                seen = [box for index, box in boxes.get(alert.track_id, []) if index <= alert.frame_index]
                first, last = seen[0], seen[-1]
                moved = float(np.abs((last[:2] + last[2:]) - (first[:2] + first[2:])).max()) / 2
                print(f"{path.name}: {alert.text!r} at frame {alert.frame_index}, {len(seen)} views, moved "
                      f"{moved:.1f} px ({moved / (last[2] - last[0]):.2f} of its width), grew "
                      f"{(last[2] - last[0]) / (first[2] - first[0]):.2f} times", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
