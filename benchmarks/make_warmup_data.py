"""Quick warm-up detector data (written while the real generator, astute_cli/synth, was not ready yet).

Pastes GOST pictograms (../shared/data/signs/svg) at native dashcam sizes onto the real road frames in
../shared/data/backgrounds and cuts 320x320 native-resolution crops, YOLO format, one class "sign".
Usage: python make_warmup_data.py OUT --n 3000 --seed 0
"""
import argparse
import json
from multiprocessing import Pool
from pathlib import Path

import cairosvg
import cv2
import numpy as np

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EXCLUDE = {"test2.jpg", "straight_lines1.jpg", "challenge2.jpg"}  # frames that show a real (US) sign


def backgrounds():
    out = []
    for p in sorted((DATA / "backgrounds").rglob("*.jpg")):
        if p.name not in EXCLUDE:
            img = cv2.imread(str(p))
            out.append(cv2.resize(img, (1280, 720)))
    cap = cv2.VideoCapture(str(DATA / "backgrounds/udacity-lanelines/test_videos/solidWhiteRight.mp4"))
    i = 0
    while True:
        ok, f = cap.read()
        if not ok:
            break
        if i % 10 == 0:
            out.append(cv2.resize(f, (1280, 720)))
        i += 1
    return out


def pictograms():
    out = []
    for p in sorted((DATA / "signs/svg").glob("*.svg")):
        try:
            png = cairosvg.svg2png(url=str(p), output_width=128)
        except Exception:  # noqa: S112 - a pictogram cairosvg cannot draw is left out
            continue
        img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
        if img is not None and img.ndim == 3 and img.shape[2] == 4:
            out.append(img)
    return out


def paste(frame, sign, x, y, w, rng):
    h = max(4, round(w * sign.shape[0] / sign.shape[1] * rng.uniform(0.9, 1.1)))
    s = cv2.resize(sign, (w, h), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:  # a little yaw: squeeze one side
        d = rng.uniform(0, 0.15) * h
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = np.float32([[0, 0], [w, d], [w, h - d], [0, h]]) if rng.random() < 0.5 else \
            np.float32([[0, d], [w, 0], [w, h], [0, h - d]])
        s = cv2.warpPerspective(s, cv2.getPerspectiveTransform(src, dst), (w, h))
    H, W = frame.shape[:2]
    if x + w > W or y + h > H:
        return None
    rgb = s[:, :, :3].astype(np.float32) * rng.uniform(0.45, 1.15) + rng.uniform(-25, 25)
    a = (s[:, :, 3:4].astype(np.float32) / 255.0)
    roi = frame[y:y + h, x:x + w].astype(np.float32)
    frame[y:y + h, x:x + w] = np.clip(rgb * a + roi * (1 - a), 0, 255).astype(np.uint8)
    ys, xs = np.nonzero(s[:, :, 3] > 64)
    if len(xs) == 0:
        return None
    return x + xs.min(), y + ys.min(), x + xs.max() + 1, y + ys.max() + 1


def make(args):
    i, seed, out, split = args
    rng = np.random.default_rng(seed * 1_000_003 + i)
    frame = BGS[rng.integers(len(BGS))].copy()
    if rng.random() < 0.5:
        frame = frame[:, ::-1].copy()
    boxes = []
    n = 0 if rng.random() < 0.08 else int(rng.integers(1, 5))
    cx0, cy0 = int(rng.uniform(160, 1120)), int(rng.uniform(160, 420))
    for _ in range(n):
        w = int(np.exp(rng.uniform(np.log(10), np.log(110))))
        x = int(np.clip(cx0 + rng.normal(0, 90), 0, 1280 - w - 1))
        y = int(np.clip(cy0 + rng.normal(0, 70), 0, 720 - w * 1.3 - 1))
        if any(not (x + w < b[0] or x > b[2] or y + w < b[1] or y > b[3]) for b in boxes):
            continue
        box = paste(frame, SIGNS[rng.integers(len(SIGNS))], x, y, w, rng)
        if box is not None:
            boxes.append(box)
    if rng.random() < 0.3:
        k = int(rng.integers(1, 3)) * 2 + 1
        frame = cv2.GaussianBlur(frame, (k, k), 0)
    frame = np.clip(frame.astype(np.float32) * rng.uniform(0.6, 1.3) + rng.normal(0, rng.uniform(0, 6), frame.shape),
                    0, 255).astype(np.uint8)
    x0 = int(np.clip(cx0 - 160 + rng.integers(-100, 100), 0, 960))
    y0 = int(np.clip(cy0 - 160 + rng.integers(-100, 100), 0, 400))
    crop = frame[y0:y0 + 320, x0:x0 + 320]
    lines = []
    for b in boxes:
        bx1, by1, bx2, by2 = max(b[0] - x0, 0), max(b[1] - y0, 0), min(b[2] - x0, 320), min(b[3] - y0, 320)
        full = (b[2] - b[0]) * (b[3] - b[1])
        if bx2 - bx1 < 3 or by2 - by1 < 3 or (bx2 - bx1) * (by2 - by1) < 0.6 * full:
            continue
        lines.append(f"0 {(bx1 + bx2) / 640:.6f} {(by1 + by2) / 640:.6f} "
                     f"{(bx2 - bx1) / 320:.6f} {(by2 - by1) / 320:.6f}")
    _ok, enc = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(55, 95))])
    (out / "images" / split / f"{i:06d}.jpg").write_bytes(enc.tobytes())
    (out / "labels" / split / f"{i:06d}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
    return len(lines)


BGS = backgrounds()
SIGNS = pictograms()

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    for split in ("train", "val"):
        (a.out / "images" / split).mkdir(parents=True, exist_ok=True)
        (a.out / "labels" / split).mkdir(parents=True, exist_ok=True)
    n_val = max(50, a.n // 10)
    jobs = [(i, a.seed, a.out, "val" if i < n_val else "train") for i in range(a.n + n_val)]
    with Pool(2) as pool:
        counts = pool.map(make, jobs, chunksize=32)
    (a.out / "data.yaml").write_text(f"path: {a.out.resolve()}\ntrain: images/train\nval: images/val\n"
                                     "names:\n  0: sign\n")
    (a.out / "manifest.json").write_text(json.dumps({"generator": "benchmarks/make_warmup_data.py",
                                                     "n_train": a.n, "n_val": n_val, "seed": a.seed,
                                                     "signs": sum(counts), "pictograms": len(SIGNS),
                                                     "backgrounds": len(BGS), "imgsz": 320}, indent=2))
    print("signs", sum(counts), "pictograms", len(SIGNS), "backgrounds", len(BGS))
