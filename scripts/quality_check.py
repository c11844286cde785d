"""Quality at equal steps: LSTM Lab and PyTorch train the same character LSTM on the same text.

    python scripts/quality_check.py --text novel.txt [--steps 800] [--hidden 128] [--seeds 0 1 2]

Both sides see exactly the same windows (drawn by one NumPy generator per seed), train with the
same settings (Adam 2e-3, clipping by norm at 5, no dropout, windows of 60, batches of 32) from
their own initialisation, and are scored the same way: PyTorch's trained weights are read into an
LSTM Lab model and both are scored by `lstm_core.bits_per_character` on the held-out tail (the
last tenth of the text, never trained on). --swap-init trains each side from the other's initial
weights too, which tells an initialisation's share from a trainer's. PyTorch is needed here (it is
never a dependency of the app: pip install torch).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core import (
    Model,
    ModelConfig,
    TextSettings,
    TextTrainer,
    bits_per_character,
    prepare_corpus,
)
from lstm_core.checkpoint import from_state_dict, to_state_dict
from lstm_core.text import sample_windows

T, B, LR, CLIP = 60, 32, 2e-3, 5.0


def torch_modules(V: int, H: int, seed: int):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.LSTM(V, H), nn.Linear(H, V)


def as_model(lstm, head, config: ModelConfig) -> Model:
    """PyTorch modules -> an LSTM Lab model with the same weights."""
    weights = {f"lstm.{k}": v.detach().double().numpy() for k, v in lstm.state_dict().items()}
    weights |= {f"head.{k}": v.detach().double().numpy() for k, v in head.state_dict().items()}
    return Model(config, from_state_dict(config, weights))


def load_into(lstm, head, model: Model) -> None:
    """An LSTM Lab model's weights -> PyTorch modules (the bias all in bias_ih)."""
    import torch

    sd = {
        k: torch.from_numpy(np.ascontiguousarray(v))
        for k, v in to_state_dict(model.config, model.flat).items()
    }
    lstm.load_state_dict({k[len("lstm.") :]: v for k, v in sd.items() if k.startswith("lstm.")})
    head.load_state_dict({k[len("head.") :]: v for k, v in sd.items() if k.startswith("head.")})


def train_torch(lstm, head, ids: np.ndarray, steps: int, seed: int) -> None:
    import torch
    from torch import nn

    V = head.out_features
    params = [*lstm.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=LR)
    rng = np.random.default_rng(seed)  # the very windows TextTrainer draws with this seed
    for _ in range(steps):
        x, y = (torch.from_numpy(a.astype(np.int64)) for a in sample_windows(ids, T, B, rng))
        inputs = nn.functional.one_hot(x, V).float()
        out, _ = lstm(inputs)
        loss = nn.functional.cross_entropy(head(out).reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()


def train_ours(model: Model, ids: np.ndarray, steps: int, seed: int) -> Model:
    trainer = TextTrainer(model, ids, TextSettings(T, B, LR, "adam", 0.0, CLIP, seed))
    for _ in trainer.run(steps):
        pass
    return trainer.model


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    ap.add_argument("--text", required=True, help="a UTF-8 text file")
    ap.add_argument("--steps", type=int, default=800, help="training steps on each side")
    ap.add_argument("--hidden", type=int, default=128, help="units of the LSTM layer")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="one run per seed")
    ap.add_argument("--lowercase", action="store_true", help="lowercase the text first")
    ap.add_argument(
        "--swap-init", action="store_true", help="also train each side from the other's start"
    )
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        print("PyTorch is needed for this comparison: pip install torch", file=sys.stderr)
        return 2
    torch.set_num_threads(2)
    text, vocab = prepare_corpus(Path(args.text).read_text(encoding="utf-8"), args.lowercase)
    cut = len(text) - len(text) // 10
    train, held_out = text[:cut], text[cut:]
    ids = vocab.encode(train)
    V, H = len(vocab), args.hidden
    config = ModelConfig("char-lm", "lstm", V, H, 1, V, vocab=vocab.chars, lowercase=args.lowercase)
    print(
        f"{len(train):,} characters to train on, {len(held_out):,} held out; V={V}, H={H}, {args.steps} steps of {B}×{T}"
    )
    rows = {
        "LSTM Lab": [],
        "PyTorch": [],
        "LSTM Lab from PyTorch's start": [],
        "PyTorch from LSTM Lab's start": [],
    }
    for seed in args.seeds:
        ours_start = Model.create(config, seed=seed)
        lstm, head = torch_modules(V, H, seed)
        torch_start = as_model(lstm, head, config).astype(np.float32)
        ours = train_ours(ours_start.copy(), ids, args.steps, seed)
        rows["LSTM Lab"].append(bits_per_character(ours, held_out)[0])
        train_torch(lstm, head, ids, args.steps, seed)
        rows["PyTorch"].append(bits_per_character(as_model(lstm, head, config), held_out)[0])
        if args.swap_init:
            swapped = train_ours(torch_start, ids, args.steps, seed)
            rows["LSTM Lab from PyTorch's start"].append(bits_per_character(swapped, held_out)[0])
            lstm2, head2 = torch_modules(V, H, seed)
            load_into(lstm2, head2, ours_start)
            train_torch(lstm2, head2, ids, args.steps, seed)
            rows["PyTorch from LSTM Lab's start"].append(
                bits_per_character(as_model(lstm2, head2, config), held_out)[0]
            )
        print(f"seed {seed}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in rows.items() if v))
    print("held-out bits per character, mean over seeds:")
    for name, values in rows.items():
        if values:
            print(
                f"  {name:<32} {statistics.mean(values):.3f}  ({' / '.join(f'{v:.3f}' for v in values)})"
            )
    ratio = statistics.mean(rows["LSTM Lab"]) / statistics.mean(rows["PyTorch"])
    print(f"LSTM Lab / PyTorch: {ratio:.4f} ({(ratio - 1) * 100:+.1f}%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
