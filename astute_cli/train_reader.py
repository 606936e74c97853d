"""Train the value reader (a tiny CRNN with CTC) on freshly drawn synthetic crops, and export it to ONNX.

Tooling (needs the ``train`` extra: torch); the runtime side is ``astute_cli.reader``. Every batch is new: crops are
drawn by ``synth.values`` in a worker process while the model trains, so the model never sees a crop twice and never
sees a held-out value.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from astute_cli import reader
from astute_cli.synth import values

VALIDATE_EVERY = 200
"""Steps between validations (the log's lines, the checkpoint, and the kind weights of ``ReaderSpec.balance``)."""


@dataclass
class ReaderSpec:
    """One training run of the value reader.

    Attributes:
        out: folder for the log, the checkpoint and ``reader.onnx``.
        minutes: wall-clock budget of training (more: better, to a point).
        batch: crops per step.
        lr: peak learning rate of the one-cycle schedule.
        channels: widths of the four conv stages (wider: more accurate and slower, bigger file).
        hidden: GRU units per direction.
        reuse: steps taken on each drawn batch (drawing costs as much CPU as a step; the second pass shifts the
            crops by a pixel or two).
        seed: seeds the data and the weights.
        threads: torch threads of the training process (the data worker uses one more core).
        workers: data processes.
        val_size: fixed validation crops (a seed of their own; held-out values excluded like training).
        init: a ``reader.pt`` of the same shape to go on from (a second budget on top of a first run).
        balance: share of the crops drawn by kind in proportion to how often the reader misses that kind on the
            validation crops (refreshed at each validation); the rest are drawn alike. 0: every kind alike.
    """

    out: Path
    minutes: float = 35.0
    batch: int = 64
    lr: float = 3e-3
    channels: tuple[int, int, int, int] = (16, 32, 48, 64)
    hidden: int = 48
    reuse: int = 2
    seed: int = 0
    threads: int = 1
    workers: int = 1
    val_size: int = 1000
    init: Path | None = None
    balance: float = 0.0
    held_out: tuple[str, ...] = field(default=values.HELD_OUT)


def build_model(n_classes: int, channels: tuple[int, int, int, int] = (32, 64, 96, 128), hidden: int = 64):
    """The CRNN: (N, 1, 32, W) grey crops -> (N, W/4, n_classes) logits (class 0 = CTC blank)."""
    import torch
    from torch import nn

    c1, c2, c3, c4 = channels

    def block(cin: int, cout: int) -> list[nn.Module]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    class CRNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                *block(1, c1), nn.MaxPool2d(2),  # 16 x W/2
                *block(c1, c2), nn.MaxPool2d(2),  # 8 x W/4
                *block(c2, c3), *block(c3, c3), nn.MaxPool2d((2, 1)),  # 4 x W/4
                *block(c3, c4), nn.MaxPool2d((4, 1)),  # 1 x W/4
            )
            self.rnn = nn.GRU(c4, hidden, batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * hidden, n_classes)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            f = self.features(x).squeeze(2).permute(0, 2, 1)  # N, T, C
            return self.head(self.rnn(f)[0])

    return CRNN()


class _Probs:
    """Wraps the CRNN for export: softmax probabilities, the runtime's input to CTC decoding."""

    @staticmethod
    def wrap(model):
        import torch

        class Export(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return torch.softmax(self.model(x), dim=2)

        return Export()


def _stream(seed: int, batch: int, held_out: tuple[str, ...], weights=None):
    """Endless batches; ``weights`` (a shared array, one per ``values.KINDS``; None: kinds alike) is read at each
    batch, so the training process can steer a data worker it forked."""
    import torch

    class Crops(torch.utils.data.IterableDataset):
        def __iter__(self):
            info = torch.utils.data.get_worker_info()
            rng = np.random.default_rng([seed, info.id if info else 0])
            while True:
                yield _draw(rng, batch, held_out, None if weights is None else list(weights))[:2]

    return Crops()


def _draw(rng: np.random.Generator, n: int, held_out: tuple[str, ...], weights: list[float] | None = None):
    crops, texts, kinds = values.make_batch(n, rng, held_out=held_out, weights=weights)
    return reader.normalise(crops), texts, kinds


def kind_weights(kinds: list[str], right: np.ndarray, balance: float) -> list[float]:
    """How often to draw each of ``values.KINDS``: ``1 - balance`` alike, ``balance`` in proportion to each kind's
    share of the misses (``right``: whether each validation crop of kind ``kinds[i]`` was read right)."""
    n = len(values.KINDS)
    misses = np.array([np.sum(~right[np.array(kinds) == code]) for code in values.KINDS], np.float64)
    spread = misses / misses.sum() if misses.sum() else np.full(n, 1 / n)
    return ((1 - balance) / n + balance * spread).tolist()


def encode(texts: list[str], charset: str = reader.CHARSET) -> tuple[np.ndarray, np.ndarray]:
    """CTC targets: the concatenated class indices (1-based) and each text's length."""
    targets = [charset.index(ch) + 1 for text in texts for ch in text]
    return np.array(targets, np.int64), np.array([len(t) for t in texts], np.int64)


def train_reader(spec: ReaderSpec) -> Path:
    """Train, log to ``out/train.log`` (step, loss, validation exact-match), export ``out/reader.onnx``."""
    import torch

    torch.manual_seed(spec.seed)
    torch.set_num_threads(spec.threads)
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "spec.json").write_text(json.dumps({**asdict(spec), "out": str(spec.out), "init": str(spec.init)}, indent=1))
    model = build_model(len(reader.CHARSET) + 1, spec.channels, spec.hidden)
    if spec.init:
        model.load_state_dict(torch.load(spec.init, map_location="cpu"))
    val_x, val_texts, val_kinds = _draw(np.random.default_rng([spec.seed, 999]), spec.val_size, spec.held_out)
    weights = None  # kinds alike, drawn as before --balance existed (the same stream for the same seed)
    if spec.balance:
        weights = multiprocessing.Array("d", kind_weights(val_kinds, _right(model, val_x, val_texts), spec.balance),
                                        lock=False)
    loader = torch.utils.data.DataLoader(_stream(spec.seed, spec.batch, spec.held_out, weights), batch_size=None,
                                         num_workers=spec.workers, prefetch_factor=8 if spec.workers else None)
    optimiser = torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=1e-4)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    budget_s, start, step, smooth = spec.minutes * 60, time.time(), 0, None
    log = (out / "train.log").open("w")
    for x, texts, again in _reused(loader, spec.reuse):
        elapsed = time.time() - start
        if elapsed > budget_s:
            break
        if again:
            x = np.roll(x, int(np.random.default_rng(step).integers(-2, 3)), axis=3)
        for group in optimiser.param_groups:
            group["lr"] = _schedule(elapsed / budget_s, spec.lr)
        model.train()
        logits = model(torch.from_numpy(np.ascontiguousarray(x)))
        targets, lengths = encode(texts)
        log_probs = logits.log_softmax(2).permute(1, 0, 2)  # T, N, C
        frames = torch.full((len(texts),), log_probs.shape[0], dtype=torch.int64)
        loss = ctc(log_probs, torch.from_numpy(targets), frames, torch.from_numpy(lengths))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        smooth = loss.item() if smooth is None else 0.98 * smooth + 0.02 * loss.item()
        step += 1
        if step % VALIDATE_EVERY == 0:
            right = _right(model, val_x, val_texts)
            if weights is not None:
                weights[:] = kind_weights(val_kinds, right, spec.balance)
            lr = _schedule(elapsed / budget_s, spec.lr)
            drawn = "" if weights is None else " ".join(f"{w:.3f}" for w in weights)
            print(f"step {step} t {elapsed:.0f}s lr {lr:.5f} loss {smooth:.4f} val_exact {right.mean():.4f}"
                  + (f" kinds {drawn}" if drawn else ""), file=log, flush=True)
            torch.save(model.state_dict(), out / "reader.pt")
    print(f"done step {step} val_exact {_right(model, val_x, val_texts).mean():.4f}", file=log, flush=True)
    torch.save(model.state_dict(), out / "reader.pt")
    return export_reader(model, out / "reader.onnx", spec)


def _reused(loader, times: int):
    for x, texts in loader:
        x = x.numpy() if hasattr(x, "numpy") else x
        for i in range(times):
            yield x, texts, i > 0


def _schedule(progress: float, peak: float) -> float:
    """Warm up over the first 5 %, then cosine down to 2 % of the peak."""
    if progress < 0.05:
        return peak * (0.1 + 0.9 * progress / 0.05)
    return peak * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * min(1.0, (progress - 0.05) / 0.95))))


def _right(model, x: np.ndarray, texts: list[str]) -> np.ndarray:
    """Whether each crop's text is read exactly (greedy CTC)."""
    import torch

    model.eval()
    with torch.no_grad():
        probs = torch.cat([model(torch.from_numpy(x[i:i + 256])).softmax(2) for i in range(0, len(x), 256)]).numpy()
    decoded = reader.ctc_decode(probs, reader.CHARSET)
    return np.array([text == want for (text, _), want in zip(decoded, texts, strict=True)])


def export_reader(model, path: Path, spec: ReaderSpec) -> Path:
    """Write the model as ONNX (opset 17, dynamic batch) with its charset, input size and held-out values."""
    import onnx
    import torch

    model.eval()
    h, w = reader.INPUT_HW
    torch.onnx.export(_Probs.wrap(model), torch.zeros(1, 1, h, w), str(path), opset_version=17, dynamo=False,
                      input_names=["crops"], output_names=["probs"],
                      dynamic_axes={"crops": {0: "n"}, "probs": {0: "n"}})
    proto = onnx.load(str(path))
    meta = {"charset": json.dumps(reader.CHARSET, ensure_ascii=False), "input_hw": json.dumps([h, w]),
            "held_out": json.dumps(list(spec.held_out), ensure_ascii=False), "kinds": json.dumps(list(values.KINDS)),
            "name": spec.out.name}
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path
