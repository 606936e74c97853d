"""A PNG bar chart of recall and lead time by sign size, drawn with OpenCV."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from astute_cli.eval.results import CLIP_SIZE_BUCKETS, BenchmarkResult


def save_chart(results: list[BenchmarkResult], path: str | Path) -> Path | None:
    """PNG bar chart (drawn with OpenCV): sign recall and lead time by sign size, one colour per model."""
    import cv2

    with_clips = [r for r in results if r.clips is not None and r.clips.by_size]
    if not with_clips:
        return None
    buckets = [b[0] for b in CLIP_SIZE_BUCKETS]
    width, height, margin = 1000, 460, 60
    image = np.full((height, width, 3), 255, np.uint8)
    colours = [(200, 120, 40), (40, 140, 230), (60, 170, 60), (60, 60, 200), (150, 80, 160)]
    panels = (("sign recall by max sign width (px)", "sign_recall", 1.0),
              ("lead time s (bars) and earliest possible (line)", "lead_time_s_median",
               max([v.get("earliest_lead_s_median") or 0 for r in with_clips for v in r.clips.by_size.values()]
                   + [v.get("lead_time_s_median") or 0 for r in with_clips for v in r.clips.by_size.values()]
                   + [0.1])))
    panel_w = (width - 3 * margin) // 2
    for p, (title, key, top) in enumerate(panels):
        x0, y0, y1 = margin + p * (panel_w + margin), margin, height - margin
        cv2.putText(image, title, (x0, y0 - 25), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.line(image, (x0, y1), (x0 + panel_w, y1), (0, 0, 0), 1)
        cv2.line(image, (x0, y0), (x0, y1), (0, 0, 0), 1)
        cv2.putText(image, f"{top:.2g}", (x0 - 45, y0 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
        slot = panel_w / len(buckets)
        for b, bucket in enumerate(buckets):
            cv2.putText(image, bucket, (int(x0 + b * slot + slot / 3), y1 + 20), cv2.FONT_HERSHEY_SIMPLEX,
                        0.45, (0, 0, 0), 1, cv2.LINE_AA)
            bar_w = slot * 0.8 / len(with_clips)
            for m, r in enumerate(with_clips):
                cell = r.clips.by_size.get(bucket)
                if not cell:
                    continue
                value = cell.get(key) or 0.0
                bx = int(x0 + b * slot + slot * 0.1 + m * bar_w)
                by = int(y1 - (y1 - y0) * min(value / top, 1.0))
                cv2.rectangle(image, (bx, by), (int(bx + bar_w - 2), y1), colours[m % len(colours)], -1)
                if key == "lead_time_s_median" and cell.get("earliest_lead_s_median"):
                    ey = int(y1 - (y1 - y0) * min(cell["earliest_lead_s_median"] / top, 1.0))
                    cv2.line(image, (bx, ey), (int(bx + bar_w - 2), ey), (0, 0, 0), 2)
    for m, r in enumerate(with_clips):
        cv2.putText(image, Path(r.model).name, (margin + 200 * m, height - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    colours[m % len(colours)], 1, cv2.LINE_AA)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)
    return path
