"""`python -m lstm_core bench`: how fast the engine is on this machine, against NumPy's own matmuls.

Measured in one run:
  - NumPy's matmul throughput for every shape a training step uses (float32), and a large square
    product for reference;
  - char-LM training steps (forward + BPTT + Adam) at (V=65, H=256, T=60, B=32) and
    (V=65, H=128, T=60, B=16): ms/step, characters/s, achieved GFLOP/s, and that as a fraction of
    the matmul peak, where the peak is what the same matmuls, at the same shapes and counts,
    achieve alone (so 1.0 would mean everything besides the matmuls were free);
  - the text page's training (H=128, T=60, B=32, dropout 0.2, with its held-out scoring and
    samples) run the page's way, in a worker process, against the same steps run in-process;
  - what a training step costs with each cell (LSTM, GRU, RNN) at the same sizes: char-LM steps
    at the two sizes above and the echo task at the notebook's sizes (ms per training window),
    measured in turns so the machine's other work falls on each alike;
  - sampling speed at H=256 (characters/s).
Timings are the best of several repeats (the least disturbed by other work on the machine).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .cells import DEFAULT_CELL, NAMES, cell_kind
from .echo import EchoConfig
from .model import Model, ModelConfig
from .sampling import generate
from .training import EchoTrainer, TextSettings, TextTrainer
from .training_process import TrainingProcess

TARGETS = {
    "fraction_of_matmul_peak_H256": 0.6,
    "echo_window_ms": 0.3,
    "sampling_chars_per_s_H256": 20000,
    "worker_fraction_of_core_H128": 0.8,
}


def best_time(fn: Callable[[], object], repeat: int = 5, number: int = 1, warmup: int = 1) -> float:
    """The best of `repeat` runs of `number` calls, in seconds per call."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def matmul_seconds(m: int, k: int, n: int, transpose_a: bool = False, quick: bool = False) -> float:
    """Seconds for one float32 (m, k) @ (k, n) product, written into an existing array."""
    rng = np.random.default_rng(0)
    a = rng.random((k, m) if transpose_a else (m, k), dtype=np.float32)
    a = a.T if transpose_a else a
    b = rng.random((k, n), dtype=np.float32)
    out = np.empty((m, n), np.float32)
    number = max(1, int(2e8 / (2 * m * k * n))) if not quick else 1
    return best_time(lambda: np.matmul(a, b, out=out), repeat=3 if quick else 7, number=number)


def charlm_matmuls(
    V: int, H: int, T: int, B: int
) -> list[tuple[str, tuple[int, int, int], int, bool]]:
    """Every matmul of one training step: (what, (m, k, n), how many, first operand transposed)."""
    N = T * B
    return [
        ("forward, one step: h_{t-1} W_h", (B, H, 4 * H), T, False),
        ("backward, one step: da W_h^T", (B, 4 * H, H), T, False),
        ("dW_h = Σ_t h_{t-1}^T da_t", (H, N, 4 * H), 1, True),
        ("dW_x = onehot^T da", (V, N, 4 * H), 1, True),
        ("head forward", (N, H, V), 1, False),
        ("head backward: dW_y", (H, N, V), 1, True),
        ("head backward: dh", (N, V, H), 1, False),
    ]


def charlm_model(V: int, H: int, cell: str = DEFAULT_CELL) -> Model:
    """A fresh one-layer character model over V made-up characters."""
    vocab = tuple(chr(0x21 + k) for k in range(V))
    return Model.create(ModelConfig("char-lm", cell, V, H, 1, V, vocab=vocab), seed=0)


def charlm_trainer(V: int, H: int, T: int, B: int, quick: bool, cell: str = DEFAULT_CELL):
    """The text trainer a char-LM step is measured with: Adam, no dropout, no clipping."""
    ids = np.random.default_rng(1).integers(0, V, 200_000 if not quick else 20_000)
    settings = TextSettings(T, B, optimizer="adam", learning_rate=2e-3, dropout=0.0, clip_norm=0.0)
    return TextTrainer(charlm_model(V, H, cell), ids, settings)


def echo_trainer(cell: str) -> EchoTrainer:
    """The notebook's echo settings with a model of `cell`, past its first 200 windows."""
    config = EchoConfig()
    model = Model.create(
        replace(config.model_config(), cell=cell),
        np.random.default_rng(config.seed),
        forget_bias=config.forget_bias,
    )
    trainer = EchoTrainer(config, model)
    for _ in trainer.run(200):
        pass
    return trainer


def in_turns(steps: dict[str, Callable[[], object]], rounds: int, **timing) -> dict[str, float]:
    """The best seconds per call of each function, measured in turns over `rounds` rounds, so a
    burst of other work on the machine falls on all of them alike."""
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for name, fn in steps.items():
            best[name] = min(best[name], best_time(fn, **timing))
    return best


def bench_charlm(V: int, H: int, T: int, B: int, quick: bool = False) -> dict:
    trainer = charlm_trainer(V, H, T, B, quick)
    step = best_time(trainer.step, repeat=3 if quick else 7, number=2 if quick else 5, warmup=2)
    shapes = charlm_matmuls(V, H, T, B)
    flops = sum(2 * m * k * n * count for _, (m, k, n), count, _ in shapes)
    mm_time = 0.0
    detail = []
    for what, (m, k, n), count, trans in shapes:
        s = matmul_seconds(m, k, n, trans, quick)
        mm_time += s * count
        detail.append(
            {"matmul": what, "shape": [m, k, n], "count": count, "gflops": 2 * m * k * n / s / 1e9}
        )
    peak = flops / mm_time
    achieved = flops / step
    return {
        "V": V,
        "H": H,
        "T": T,
        "B": B,
        "ms_per_step": step * 1e3,
        "chars_per_s": T * B / step,
        "gflop_per_step": flops / 1e9,
        "achieved_gflops": achieved / 1e9,
        "matmul_peak_gflops": peak / 1e9,
        "fraction_of_peak": achieved / peak,
        "matmul_only_ms": mm_time * 1e3,
        "matmuls": detail,
    }


def bench_cells(quick: bool = False) -> dict:
    """A training step of each cell at the same sizes: char-LM steps (forward + BPTT + Adam,
    float32, one layer) and echo windows, ms each, and each as a fraction of the LSTM's."""
    rounds = 1 if quick else 3
    rows = []
    for V, H, T, B in ((65, 256, 60, 32), (65, 128, 60, 16)):
        steps = {cell: charlm_trainer(V, H, T, B, quick, cell).step for cell in NAMES}
        seconds = in_turns(steps, rounds, repeat=2 if quick else 3, number=2 if quick else 3)
        rows.append({"V": V, "H": H, "T": T, "B": B, **_per_cell(seconds)})
    steps = {cell: echo_trainer(cell).step for cell in NAMES}
    seconds = in_turns(steps, rounds, repeat=2 if quick else 3, number=100 if quick else 300)
    return {"charlm": rows, "echo": _per_cell(seconds)}


def _per_cell(seconds: dict[str, float]) -> dict:
    base = seconds[DEFAULT_CELL]
    return {
        "ms": {cell: s * 1e3 for cell, s in seconds.items()},
        "of_" + DEFAULT_CELL: {cell: s / base for cell, s in seconds.items()},
    }


def bench_sampling(H: int = 256, V: int = 65, quick: bool = False) -> dict:
    vocab = tuple(chr(0x21 + k) for k in range(V))
    model = charlm_model(V, H)
    n = 500 if quick else 4000

    def run() -> None:
        for _ in generate(model, vocab[0] * 10, n, temperature=1.0, seed=0):
            pass

    seconds = best_time(run, repeat=3)
    return {"H": H, "chars_per_s": n / seconds}


def bench_worker(V: int = 65, H: int = 128, T: int = 60, B: int = 32, quick: bool = False) -> dict:
    """Characters/s of the text page's training: in-process steps, then a worker process."""

    vocab = tuple(chr(0x21 + k) for k in range(V))
    model = charlm_model(V, H)
    rng = np.random.default_rng(1)
    ids = rng.integers(0, V, 200_000)
    held_out = "".join(vocab[k] for k in rng.integers(0, V, 20_000))
    settings = TextSettings(T, B)  # the text page's settings at this size
    trainer = TextTrainer(model.copy(), ids, settings)
    step = best_time(trainer.step, repeat=3 if quick else 7, number=2 if quick else 5, warmup=2)
    seconds = 2.0 if quick else 8.0
    # as the page runs it for a student training alone: up to two BLAS threads, its choice
    worker = TrainingProcess(model, ids, held_out, settings, vocab[0] * 8, 0.7, threads=2)
    try:
        worker.train()
        started = time.monotonic() + 60.0  # a loaded machine may take seconds to start it
        while worker.steps == 0 and worker.alive and time.monotonic() < started:
            time.sleep(0.05)  # the window starts at its first step: its rate, not its start-up
            worker.ping()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.25)
            worker.ping()
        worker.pause()
        snap = worker.snapshot()
        threads = worker.threads
    finally:
        worker.stop()
    worker_rate = snap["characters"] / snap["seconds"] if snap["seconds"] else 0.0
    core_rate = T * B / step
    return {
        "V": V,
        "H": H,
        "T": T,
        "B": B,
        "core_chars_per_s": core_rate,
        "worker_chars_per_s": worker_rate,
        "fraction": worker_rate / core_rate,
        "worker_steps": snap["steps"],
        "worker_threads": threads,
    }


def run_benchmark(quick: bool = False) -> dict:
    """Everything above, as one dict (the --json output)."""
    square = matmul_seconds(1024, 1024, 1024, quick=quick)
    results = {
        "numpy": np.__version__,
        "square_matmul_gflops": 2 * 1024**3 / square / 1e9,
        "charlm": [bench_charlm(65, 256, 60, 32, quick), bench_charlm(65, 128, 60, 16, quick)],
        "worker": bench_worker(quick=quick),
        "cells": bench_cells(quick),
        "sampling": bench_sampling(quick=quick),
    }
    results["echo"] = [  # the echo windows of the comparison, as every cell's own figure
        {"cell": cell, "ms_per_window": ms} for cell, ms in results["cells"]["echo"]["ms"].items()
    ]
    big = results["charlm"][0]
    results["targets"] = {
        "fraction_of_matmul_peak_H256": {
            "target": TARGETS["fraction_of_matmul_peak_H256"],
            "measured": big["fraction_of_peak"],
            "met": big["fraction_of_peak"] >= TARGETS["fraction_of_matmul_peak_H256"],
        },
        "echo_window_ms": {
            "target": TARGETS["echo_window_ms"],
            "measured": results["echo"][0]["ms_per_window"],
            "met": results["echo"][0]["ms_per_window"] <= TARGETS["echo_window_ms"],
        },
        "sampling_chars_per_s_H256": {
            "target": TARGETS["sampling_chars_per_s_H256"],
            "measured": results["sampling"]["chars_per_s"],
            "met": results["sampling"]["chars_per_s"] >= TARGETS["sampling_chars_per_s_H256"],
        },
        "worker_fraction_of_core_H128": {
            "target": TARGETS["worker_fraction_of_core_H128"],
            "measured": results["worker"]["fraction"],
            "met": results["worker"]["fraction"] >= TARGETS["worker_fraction_of_core_H128"],
        },
    }
    return results


def format_cells(cells: dict) -> list[str]:
    """The per-cell comparison: ms per step, and each as a multiple of the LSTM's."""
    of = "of_" + DEFAULT_CELL

    def row(figures: dict, digits: int) -> str:
        return ", ".join(
            f"{cell_kind(c).title} {ms:.{digits}f} ms ({figures[of][c]:.2f})"
            for c, ms in figures["ms"].items()
        )

    lines = [
        f"a training step with each cell, the same sizes, measured in turns (x the "
        f"{cell_kind(DEFAULT_CELL).title}'s time in brackets):"
    ]
    for c in cells["charlm"]:
        lines.append(f"  char-LM, V={c['V']} H={c['H']} T={c['T']} B={c['B']}: {row(c, 2)}")
    lines.append(f"  echo task, notebook sizes, per window: {row(cells['echo'], 3)}")
    widths = ", ".join(f"{cell_kind(c).title} {cell_kind(c).width}H" for c in NAMES)
    lines.append(f"  (the columns every step multiplies by: {widths})")
    return lines


def format_report(r: dict) -> str:
    lines = [
        f"NumPy {r['numpy']}; a 1024³ float32 matmul runs at {r['square_matmul_gflops']:.0f} GFLOP/s",
        "",
    ]
    lines.append("char-LM training step (forward + BPTT + Adam), float32, one LSTM layer")
    for c in r["charlm"]:
        lines.append(
            f"  V={c['V']} H={c['H']} T={c['T']} B={c['B']}: {c['ms_per_step']:.2f} ms/step, "
            f"{c['chars_per_s']:,.0f} chars/s, {c['achieved_gflops']:.0f} GFLOP/s achieved of "
            f"{c['matmul_peak_gflops']:.0f} matmul peak = {c['fraction_of_peak']:.2f} "
            f"(its matmuls alone: {c['matmul_only_ms']:.2f} ms)"
        )
        for m in c["matmuls"]:
            shape = "x".join(map(str, m["shape"]))
            lines.append(
                f"      {m['matmul']:<32} {shape:>16} ×{m['count']:<3} {m['gflops']:6.0f} GFLOP/s"
            )
    lines.append("")
    lines += format_cells(r["cells"])
    lines.append(
        f"sampling at H={r['sampling']['H']}: {r['sampling']['chars_per_s']:,.0f} characters/s"
    )
    w = r["worker"]
    lines.append(
        f"text page training (H={w['H']}, T={w['T']}, B={w['B']}, dropout 0.2) in a worker process: "
        f"{w['worker_chars_per_s']:,.0f} chars/s, {w['fraction']:.2f} of the same steps in-process "
        f"({w['core_chars_per_s']:,.0f} chars/s); it ended on {w['worker_threads']} BLAS thread(s)"
    )
    lines.append("")
    lines.append("targets on a 2-core machine:")
    for name, t in r["targets"].items():
        mark = "met" if t["met"] else "NOT met"
        lines.append(f"  {name}: {t['measured']:.3g} (target {t['target']:g}) {mark}")
    return "\n".join(lines)
