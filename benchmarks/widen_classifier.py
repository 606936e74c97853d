"""Widen a trained classifier's head to a larger class list, keeping what it learned of the classes it knew.

    python benchmarks/widen_classifier.py benchmarks/experiments/cls-v4/weights/best.pt datasets/cls-l10l11 \
        -o runs/cls-v4-wide.pt

The new class list is the sorted class folders of ``DATA/train`` (ultralytics' order). Each known class keeps its
row of the final linear layer (weights and bias, looked up by name); a new class gets a small random row and the
mean bias of the old ones. Fine-tuning from the result starts from cls-v4's accuracy on the old classes instead of
a fresh head (ultralytics would re-initialise a head whose size changed).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path)
    parser.add_argument("data", type=Path, help="classifier set whose train/ class folders give the new class list")
    parser.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args()
    print(widen(args.weights, args.data, args.out))


if __name__ == "__main__":
    main()
