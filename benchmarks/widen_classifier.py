"""Widen a trained classifier's head to a larger class list, keeping what it learned of the classes it knew.

    python benchmarks/widen_classifier.py benchmarks/experiments/cls-v4/weights/best.pt datasets/cls-l10l11 \
        -o runs/cls-v4-wide.pt

The new class list is the sorted class folders of ``DATA/train`` (ultralytics' order). Each known class keeps its
row of the final linear layer (weights and bias, looked up by name); a new class gets a small random row and the
mean bias of the old ones. Fine-tuning from the result starts from cls-v4's accuracy on the old classes instead of
a fresh head (ultralytics would re-initialise a head whose size changed).

``--fit-new`` then learns only the new rows, on the frozen network's features of ``DATA``'s crops (every other
weight, the old rows included, stays as it was): the new classes are added without the old ones moving, so nothing
the model did before can get worse except where a new class now wins.

    python benchmarks/widen_classifier.py benchmarks/experiments/cls-v7/weights/best.pt datasets/cls-v12mix \
        -o runs/cls-v13.pt --fit-new
"""

from __future__ import annotations

import argparse
from pathlib import Path


def widen(weights: Path, data: Path, out: Path, seed: int = 0) -> dict:
    import torch

    from astute_cli.train import offline_env

    offline_env()
    ckpt = torch.load(weights, map_location="cpu", weights_only=False)
    model = (ckpt.get("ema") or ckpt["model"]).float()
    old = {str(name): index for index, name in model.names.items()}
    new = sorted(p.name for p in (data / "train").iterdir() if p.is_dir())
    head = model.model[-1].linear
    generator = torch.Generator().manual_seed(seed)
    wide = torch.nn.Linear(head.in_features, len(new))
    with torch.no_grad():
        wide.weight.copy_(torch.randn(len(new), head.in_features, generator=generator) * head.weight.std() * 0.5)
        wide.bias.fill_(float(head.bias.mean()))
        for row, name in enumerate(new):
            if name in old:
                wide.weight[row] = head.weight[old[name]]
                wide.bias[row] = head.bias[old[name]]
    model.model[-1].linear = wide
    model.names = dict(enumerate(new))
    model.nc = len(new)
    model.yaml["nc"] = len(new)
    ckpt.update(model=model.half(), ema=None, optimizer=None, updates=None)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, out)
    added = [name for name in new if name not in old]
    dropped = [name for name in old if name not in new]
    return {"classes": len(new), "kept": len(new) - len(added), "added": added, "dropped": dropped}


def features(model, folder: Path, names: list[str], batch: int = 256):
    """(N, C) inputs of the final linear layer for every crop under ``folder/<class>/``, and (N,) class indices."""
    import cv2
    import torch

    from astute_cli.detector import _to_blob

    grabbed = []
    hook = model.model[-1].linear.register_forward_hook(lambda _m, args, _out: grabbed.append(args[0].detach()))
    files = [(f, names.index(d.name)) for d in sorted(folder.iterdir()) if d.is_dir() for f in sorted(d.glob("*.jpg"))]
    size = int(model.args.get("imgsz", 64)) if isinstance(getattr(model, "args", None), dict) else 64
    model.eval()
    with torch.no_grad():
        for i in range(0, len(files), batch):
            images = [cv2.resize(cv2.imread(str(f)), (size, size), interpolation=cv2.INTER_AREA)
                      for f, _ in files[i:i + batch]]
            model(torch.from_numpy(_to_blob(images)))
    hook.remove()
    return torch.cat(grabbed), torch.tensor([c for _, c in files])


def fit_new(weights: Path, data: Path, out: Path, added: list[str], epochs: int = 40, seed: int = 0) -> dict:
    """Learn the rows of the ``added`` classes on the frozen features of ``data/train`` (softmax over every class,
    every other row fixed), keeping the epoch best on ``data/val``; save the model to ``out``."""
    if epochs < 1:
        raise ValueError("--epochs must be at least 1")
    import torch

    torch.manual_seed(seed)
    ckpt = torch.load(weights, map_location="cpu", weights_only=False)
    model = (ckpt.get("ema") or ckpt["model"]).float()
    names = [model.names[i] for i in range(len(model.names))]
    new = torch.tensor([name in added for name in names])
    head = model.model[-1].linear
    x, y = features(model, data / "train", names)
    vx, vy = features(model, data / "val", names)
    weight, bias = head.weight.detach().clone(), head.bias.detach().clone()
    rows = torch.nn.Parameter(weight[new].clone()), torch.nn.Parameter(bias[new].clone())
    optimiser = torch.optim.AdamW(rows, lr=1e-3, weight_decay=1e-3)

    def logits(f):
        w, b = weight.clone(), bias.clone()
        w[new], b[new] = rows
        return f @ w.T + b

    def scores() -> tuple[float, float]:
        with torch.no_grad():
            hit = logits(vx).argmax(1) == vy
        is_new = new[vy]
        return float(hit[is_new].float().mean()), float(hit[~is_new].float().mean())

    before = scores()
    best = (-1.0, None, 0)
    for epoch in range(epochs):
        for idx in torch.randperm(len(x)).split(256):
            loss = torch.nn.functional.cross_entropy(logits(x[idx]), y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        new_acc, old_acc = scores()
        if new_acc + old_acc > best[0]:
            best = (new_acc + old_acc, (rows[0].detach().clone(), rows[1].detach().clone()), epoch + 1)
    with torch.no_grad():
        head.weight[new], head.bias[new] = best[1]
    model.names = dict(enumerate(names))
    ckpt.update(model=model.half(), ema=None, optimizer=None, updates=None)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, out)
    rows[0].data, rows[1].data = best[1]
    after = scores()
    return {"fitted": [n for n, is_new in zip(names, new.tolist(), strict=True) if is_new], "epoch": best[2],
            "val top-1 new / old classes, before": [round(v, 4) for v in before],
            "after": [round(v, 4) for v in after], "train crops": len(x), "val crops": len(vx)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path)
    parser.add_argument("data", type=Path, help="classifier set whose train/ class folders give the new class list")
    parser.add_argument("-o", "--out", type=Path, required=True)
    parser.add_argument("--fit-new", action="store_true",
                        help="then learn only the new classes' rows on the frozen network's features of DATA")
    parser.add_argument("--epochs", type=int, default=40, help="--fit-new: passes over DATA/train's features")
    args = parser.parse_args()
    report = widen(args.weights, args.data, args.out)
    print(report)
    if args.fit_new:
        print(fit_new(args.out, args.data, args.out, report["added"], args.epochs))


if __name__ == "__main__":
    main()
