"""`python -m lstm_core bench --against torch`: the same training steps here and in PyTorch.

Each measurement runs in a fresh process of its own (one engine, one thread count, one size), the
two engines taking turns, so neither warms the other's caches or fights it for the cores; a
round repeats every measurement, and the report gives the range over rounds. The ratio is taken
per round, from that round's two measurements of a size, which run back to back; its median
over rounds decides whether a target is met. PyTorch is never a
dependency: when it cannot be imported, only LSTM Lab's side runs, and the report says so.

The steps, on both sides:
  - char-LM: one-hot characters (V=65) in, an LSTM layer of H units, a linear head, mean
    cross-entropy over T=60 positions of B=32 random windows, BPTT, clipping by norm at 5, Adam
    (2e-3), no dropout: the median of 20 steps after 5 of warm-up;
  - echo: the notebook's sizes (1 bit in, 4 units, windows of 15, batch 5, Adagrad 0.3, the
    state carried from window to window): the median time of a training window.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
import time

import numpy as np

from . import blas
from .echo import EchoConfig
from .model import Model, ModelConfig
from .training import EchoTrainer, TextSettings, TextTrainer

V, T, B = 65, 60, 32
WARMUP, STEPS = 5, 20
ECHO_WINDOWS = 300
CHARLM = ((32, 2), (128, 2), (256, 2), (512, 2), (128, 1), (256, 1))  # (hidden, threads)
TARGETS = {  # PyTorch's time / LSTM Lab's time, at least
    (32, 2): 1.0,
    (128, 2): 1.0,
    (256, 2): 0.8,
    (256, 1): 1.0,
    "echo": 2.0,
}


def torch_available() -> bool:
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a broken or blocked install counts as missing
        return False


# ------------------------------------------------------------------------------ one side
def _median_seconds(step, n: int, warmup: int) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _ours(task: str, H: int, threads: int) -> dict:
    blas.set_threads(threads)
    if task == "echo":
        trainer = EchoTrainer(EchoConfig())
        seconds = _median_seconds(trainer.step, ECHO_WINDOWS, 50)
    else:
        vocab = tuple(chr(0x21 + k) for k in range(V))
        model = Model.create(ModelConfig("char-lm", "lstm", V, H, 1, V, vocab=vocab), seed=0)
        ids = np.random.default_rng(1).integers(0, V, 200_000)
        trainer = TextTrainer(
            model, ids, TextSettings(T, B, 2e-3, "adam", dropout=0.0, clip_norm=5.0)
        )
        seconds = _median_seconds(trainer.step, STEPS, WARMUP)
    return {"seconds": seconds, "libraries": blas.describe()}


def _torch(task: str, H: int, threads: int) -> dict:
    import torch  # optional: never a dependency (torch_available says whether it is there)
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if task == "echo":
        lstm, head = nn.LSTM(1, 4), nn.Linear(4, 2)
        params = [*lstm.parameters(), *head.parameters()]
        opt = torch.optim.Adagrad(params, lr=0.3)
        rng = np.random.default_rng(0)
        bits = torch.from_numpy((rng.random((50_000 // 5, 5)) < 0.5).astype(np.float32))
        target = torch.roll(bits, 3, 0).long()
        state = [None, 0]

        def step() -> None:
            k = state[1] % (bits.shape[0] // 15)
            x = bits[k * 15 : (k + 1) * 15, :, None]
            y = target[k * 15 : (k + 1) * 15]
            out, (h, c) = lstm(x, state[0])
            loss = nn.functional.cross_entropy(head(out).reshape(-1, 2), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            state[0], state[1] = (h.detach(), c.detach()), state[1] + 1

        seconds = _median_seconds(step, ECHO_WINDOWS, 50)
    else:
        lstm, head = nn.LSTM(V, H), nn.Linear(H, V)
        params = [*lstm.parameters(), *head.parameters()]
        opt = torch.optim.Adam(params, lr=2e-3)
        ids = torch.from_numpy(np.random.default_rng(1).integers(0, V, 200_000))
        gen = torch.Generator().manual_seed(0)

        def step() -> None:
            starts = torch.randint(0, len(ids) - T - 1, (B,), generator=gen)
            rows = starts[None, :] + torch.arange(T + 1)[:, None]  # (T + 1, B), time-major
            window = ids[rows]
            x = nn.functional.one_hot(window[:-1], V).float()
            out, _ = lstm(x)
            loss = nn.functional.cross_entropy(head(out).reshape(-1, V), window[1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()

        seconds = _median_seconds(step, STEPS, WARMUP)
    blas_info = next(
        (
            part.split("=", 1)[1]
            for part in torch.__config__.show().split(", ")
            if "BLAS_INFO=" in part
        ),
        "?",
    )
    libraries = [
        {
            "library": f"{blas_info} (torch)",
            "version": None,
            "kernel": torch.backends.cpu.get_cpu_capability(),
            "threads": torch.get_num_threads(),
        }
    ]
    return {"seconds": seconds, "libraries": libraries, "torch": torch.__version__}


def child(argv: list[str]) -> None:
    """Entry point of one measurement process: side task H threads -> one JSON line."""
    side, task, H, threads = argv[0], argv[1], int(argv[2]), int(argv[3])
    run = _torch if side == "torch" else _ours
    print(json.dumps(run(task, H, threads)))


# ------------------------------------------------------------------------------ both sides
def _measure(side: str, task: str, H: int, threads: int) -> dict:
    code = "import sys; from lstm_core.against import child; child(sys.argv[1:])"
    done = subprocess.run(
        [sys.executable, "-c", code, side, task, str(H), str(threads)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {side} measurement failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_against(rounds: int = 2, torch: bool | None = None, configs=CHARLM) -> dict:
    """Every (task, H, threads) measured `rounds` times on each side, sides taking turns."""
    torch = torch_available() if torch is None else torch
    sides = ("ours", "torch") if torch else ("ours",)
    jobs = [("charlm", H, n) for H, n in configs] + [("echo", 4, 1)]
    runs: dict = {job: {side: [] for side in sides} for job in jobs}
    libraries: dict = {}
    for _ in range(rounds):
        for job in jobs:
            for side in sides:
                got = _measure(side, *job)
                runs[job][side].append(got["seconds"])
                libraries.setdefault(side, got["libraries"])
                if got.get("torch"):
                    libraries["torch_version"] = got["torch"]
    rows = []
    for (task, H, n), times in runs.items():
        row = {"task": task, "hidden": H, "threads": n, "ours": times["ours"]}
        if torch:
            row["torch"] = times["torch"]
            # a ratio per round, from its two measurements taken back to back: the machine's
            # own speed drifts, and a pair measured seconds apart shares the same moment of it
            ratios = [p / o for p, o in zip(times["torch"], times["ours"], strict=True)]
            row["ratio"] = (min(ratios), max(ratios))
            row["median_ratio"] = statistics.median(ratios)
            target = TARGETS.get("echo" if task == "echo" else (H, n))
            if target is not None:
                row["target"] = target
                row["met"] = row["median_ratio"] >= target
        rows.append(row)
    return {"torch": torch, "rounds": rounds, "rows": rows, "libraries": libraries}


def _libraries(libs: list[dict]) -> str:
    return (
        ", ".join(
            f"{lib['library']} {lib.get('version') or ''} ({lib.get('kernel') or '?'} kernel)".replace(
                "  ", " "
            )
            for lib in libs
        )
        or "no BLAS found"
    )


def _span(values, scale: float = 1e3, unit: str = " ms") -> str:
    lo, hi = min(values) * scale, max(values) * scale
    digits = 3 if hi < 1 else 2 if hi < 10 else 1
    return f"{lo:.{digits}f}-{hi:.{digits}f}{unit}" if hi - lo > 1e-9 else f"{lo:.{digits}f}{unit}"


def format_against(r: dict) -> str:
    lines = []
    if not r["torch"]:
        lines += [
            "PyTorch is not importable here (it is never a dependency of LSTM Lab;",
            "`pip install torch` on a machine where you want the comparison). LSTM Lab's side only:",
        ]
    else:
        lines.append(
            f"Side by side, each measurement in a process of its own, {r['rounds']} round(s); "
            f"PyTorch {r['libraries'].get('torch_version')}"
        )
    lines.append(f"  LSTM Lab's NumPy: {_libraries(r['libraries'].get('ours', []))}")
    if r["torch"]:
        lines.append(f"  PyTorch's process: {_libraries(r['libraries'].get('torch', []))}")
    lines.append("")
    for row in r["rows"]:
        what = (
            "echo window (notebook sizes)"
            if row["task"] == "echo"
            else f"char-LM step H={row['hidden']:<3} {row['threads']} thread(s)"
        )
        scale, unit = (1e6, " µs") if row["task"] == "echo" else (1e3, " ms")
        text = f"  {what}: LSTM Lab {_span(row['ours'], scale, unit)}"
        if r["torch"]:
            lo, hi = row["ratio"]
            text += (
                f", PyTorch {_span(row['torch'], scale, unit)}, PyTorch/LSTM Lab {lo:.2f}-{hi:.2f}"
                f" (median {row['median_ratio']:.2f})"
            )
            if "target" in row:
                text += f" (target ≥ {row['target']:g}: {'met' if row['met'] else 'NOT met'})"
        lines.append(text)
    return "\n".join(lines)
