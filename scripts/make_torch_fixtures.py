"""Write tests/fixtures/torch_parity.npz: what PyTorch computes, for tests that run without it.

    python scripts/make_torch_fixtures.py            (needs `pip install torch`; never a dependency)

For every cell (torch.nn.RNN, GRU, LSTM), 1 and 2 layers, and two cases (a char-LM: one-hot
characters in, next character out; the echo task: one bit in as a float, two classes out), in
float64: PyTorch's own initial weights (torch.manual_seed) times SCALE, a batch of inputs and targets, the
head's probabilities, the mean cross-entropy, every parameter's gradient, and greedy outputs (a
char-LM's 10 characters generated from a prime, argmax fed back, with the distribution each was
picked from; an echo model's argmax at every step). tests/test_torch_parity.py rebuilds each model from those weights and compares. The file
records the PyTorch version that made it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "torch_parity.npz"
CELLS = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}
VOCAB = "abcdef"
B, T, H = 3, 8, 5  # batch rows, steps, units
GENERATE = 10  # greedy characters after the prime
SCALE = 3.0  # times PyTorch's initial weights


def case(cell: str, layers: int, kind: str, seed: int) -> dict[str, np.ndarray]:
    torch.manual_seed(seed)
    V = len(VOCAB) if kind == "char-lm" else 2
    D = V if kind == "char-lm" else 1
    rnn = CELLS[cell](D, H, layers).double()
    head = torch.nn.Linear(H, V).double()
    with torch.no_grad():  # PyTorch's draw, widened: greedy text then wanders instead of
        for p in (*rnn.parameters(), *head.parameters()):  # repeating one character
            p.mul_(SCALE)
    rng = np.random.default_rng(seed)
    inputs = rng.integers(0, V, (B, T))
    if kind == "char-lm":
        targets = rng.integers(0, V, (B, T))
    else:  # the echo task's targets: the input two steps earlier (0 before the start)
        targets = np.concatenate([np.zeros((B, 2), int), inputs[:, :-2]], axis=1)
    weights = {f"{cell}.{k}": v.detach().numpy().copy() for k, v in rnn.state_dict().items()}
    weights |= {f"head.{k}": v.detach().numpy().copy() for k, v in head.state_dict().items()}

    def encode(ids: np.ndarray) -> torch.Tensor:  # (B, T) ints -> time-major (T, B, D)
        x = torch.from_numpy(np.ascontiguousarray(ids.T))
        if kind == "char-lm":
            return torch.nn.functional.one_hot(x, V).double()
        return x[:, :, None].double()

    logits = head(rnn(encode(inputs))[0])  # (T, B, V)
    y = torch.from_numpy(np.ascontiguousarray(targets.T))
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
    loss.backward()
    grads = {f"{cell}.{k}": p.grad.numpy().copy() for k, p in rnn.named_parameters()}
    grads |= {f"head.{k}": p.grad.numpy().copy() for k, p in head.named_parameters()}
    with torch.no_grad():
        probs = torch.softmax(logits, -1).numpy()
        if kind == "char-lm":  # prime with row 0's first half, then argmax fed back
            prime = inputs[0, : T // 2]
            out, state = rnn(encode(prime[None, :]))
            greedy, greedy_probs = [], []
            for _ in range(GENERATE):
                step_logits = head(out[-1, 0])
                greedy.append(int(step_logits.argmax()))
                greedy_probs.append(torch.softmax(step_logits, -1).numpy())
                out, state = rnn(encode(np.array([[greedy[-1]]])), state)
        else:  # the echo model's answer at every step
            prime = np.zeros(0, int)
            greedy = probs.argmax(-1).T.reshape(-1).tolist()
            greedy_probs = [probs.max(-1).T.reshape(-1)]
    meta = {"cell": cell, "layers": layers, "kind": kind, "hidden": H, "vocab": VOCAB}
    arrays = {"meta": np.array(json.dumps(meta)), "inputs": inputs, "targets": targets}
    arrays |= {"probs": probs, "loss": np.array(loss.item()), "prime": prime}
    arrays |= {"greedy": np.array(greedy), "greedy_probs": np.array(greedy_probs)}
    arrays |= {f"weight:{k}": v for k, v in weights.items()}
    arrays |= {f"grad:{k}": v for k, v in grads.items()}
    return arrays


def main() -> int:
    torch.set_num_threads(1)
    arrays = {"torch_version": np.array(torch.__version__)}
    seed = 0
    for cell in CELLS:
        for layers in (1, 2):
            for kind in ("char-lm", "echo"):
                seed += 1
                name = f"{cell}-{layers}-{kind}"
                arrays |= {f"{name}/{k}": v for k, v in case(cell, layers, kind, seed).items()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes) with PyTorch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
