"""How fast the text page's (or the echo page's) training-time slider answers on the server.

    python scripts/rewind_check.py                 # the logbook's 128-unit model, 300 characters
    python scripts/rewind_check.py --hidden 256 --chars 300 --rounds 3
    python scripts/rewind_check.py --page echo     # the RNN vs LSTM preset's pair (64 units)
    python scripts/rewind_check.py --page echo --hidden 4 --steps 20000

What a move of the slider makes the server do (ui/rewind_text.py, in its fragment): the model at
the new kept step writes --chars characters after a seed text of --chars characters and scores
the held-out text (lstm_core/rewind.written_at), the top-5 figure at a position of what it wrote
and the unit-over-training figure (its rows computed once, when the view opens: timed apart)
are built and encoded as st.plotly_chart sends them. Each kept step is visited once per round,
never from a cache. The history is the page's own size (budget.TEXT_HISTORY): the model's
weights at each kept step are the logbook sample's with noise added (the time of a move does not
depend on the values). This is a measurement to rerun, not a test: it prints what it saw.

--page echo: what a move makes the echo page do (ui/rewind_echo.py, in its fragment), for both
models of the RNN vs LSTM preset (its window of 60 steps, 16 series, echo_step 20; --hidden
changes the units): each model at the new kept step reads the live view's window from the state
carried into it (rewind_echo.view_at) and is scored on 5,000 fresh bits, and the bars, the state
and the carry figure are built and encoded. The carry figure's rows (a readout per kept step)
are computed once, when training pauses: timed apart. The histories share budget.ECHO_HISTORY.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lstm_core import Model, ModelConfig, blas, load_checkpoint  # noqa: E402
from lstm_core.budget import TEXT_HISTORY  # noqa: E402
from lstm_core.explain import top_predictions  # noqa: E402
from lstm_core.history import WeightHistory  # noqa: E402
from lstm_core.rewind import liveliest_unit, unit_over_time, written_at  # noqa: E402
from lstm_core.text import Vocabulary, split_held_out  # noqa: E402


def history_of(model: Model, steps: int, seed: int = 0) -> WeightHistory:
    """A history of `steps` training steps within the text page's budget (noisy weights)."""
    rng = np.random.default_rng(seed)
    history = WeightHistory(budget=TEXT_HISTORY)
    noise = rng.standard_normal(model.flat.size).astype(np.float32)
    for step in range(steps + 1):
        history.offer(step, model.flat + noise * (0.01 / (1 + step)))
    return history


def report(times: list[float]) -> None:
    ms = sorted(1000 * t for t in times)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    print(
        f"a move of the slider ({len(ms)} moves): median {statistics.median(ms):.0f} ms, "
        f"90th percentile {p90:.0f} ms, slowest {ms[-1]:.0f} ms (target: under 300 ms)"
    )


def echo_check(args) -> None:
    """The echo page's slider: see the module docstring."""
    from dataclasses import replace

    import plotly.io as pio

    from lstm_core.budget import ECHO_HISTORY
    from lstm_core.demos import ECHO_PRESETS
    from lstm_core.echo import echo_accuracy
    from lstm_core.history import model_at, shared_budgets
    from lstm_core.rewind_echo import carry_at, carry_lags, carry_rows, view_at
    from lstm_core.training import EchoTrainer
    from ui.figures import echo as echo_figs
    from ui.figures import rewind as rewind_figs

    config = ECHO_PRESETS["rnn_vs_lstm"].config("lstm")
    config = replace(config, state_size=args.hidden or config.state_size)
    trainers = {cell: EchoTrainer(replace(config, cell=cell)) for cell in ("rnn", "lstm")}
    budgets = shared_budgets([tr.model for tr in trainers.values()], ECHO_HISTORY)
    rng = np.random.default_rng(0)
    for (_, tr), budget in zip(trainers.items(), budgets, strict=True):
        tr.step()  # a window trained: the live view's input and the state carried into it
        noise = rng.standard_normal(tr.model.flat.size).astype(np.float32)
        tr.history = WeightHistory(budget=budget)
        for step in range(args.steps + 1):
            tr.history.offer(step, tr.model.flat + noise * (0.01 / (1 + step)))
    first = trainers["lstm"].history
    mb = sum(tr.history.nbytes for tr in trainers.values()) / 2**20
    print(f"{config.state_size} units, {len(first)} kept steps each of 2 models ({mb:.1f} MB)")

    lags = carry_lags(config.echo_step)
    started = time.perf_counter()
    grids = {}
    for name, tr in trainers.items():
        drawn = carry_rows(tr.history)
        grids[name] = np.array(
            [carry_at(model_at(tr.model, tr.history, j), tr.config, lags) for j in drawn]
        )
    print(f"carry figure rows, once per pause: {1000 * (time.perf_counter() - started):.0f} ms")

    words = ("input", "target", "prediction", "series", "x", "units", "hover", "step")
    labels = {"rnn": "RNN", "lstm": "LSTM", **{w: w + " {k}" for w in words}}
    carry_labels = {**labels, "distance": "d", "hover": "%{text}", "answer": "framed"}
    carry_labels |= {"decimal": ".", "thousands": ",", "percent": "%"}
    times = []
    for _ in range(args.rounds):
        for index in range(len(first)):
            t0 = time.perf_counter()
            windows, states, chosen = {}, {}, {}
            for name, tr in trainers.items():
                shown = view_at(tr.model, tr.history, index, tr.last_input())
                echo_accuracy(model_at(tr.model, tr.history, index), tr.config, length=5000)
                windows[name] = (shown.x, shown.y, shown.prediction)
                states[name] = (shown.state[:, 0], shown.x[:, 0], shown.y[:, 0], shown.which)
                drawn = carry_rows(tr.history)
                chosen[name] = drawn.index(index) if index in drawn else None
            steps = {n: [first.steps[j] for j in carry_rows(first)] for n in trainers}
            figures = (
                echo_figs.echo_bars(windows, labels),
                echo_figs.window_states(states, labels),
                rewind_figs.carry_over_training(
                    grids, steps, config.echo_step, chosen, carry_labels
                ),
            )
            for fig in figures:
                pio.to_json(fig, validate=False)  # what st.plotly_chart sends
            times.append(time.perf_counter() - t0)
    report(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--page", choices=("text", "echo"), default="text")
    ap.add_argument("--hidden", type=int, default=None, help="units (text: 128, echo: 64)")
    ap.add_argument("--chars", type=int, default=300)
    ap.add_argument("--steps", type=int, default=5000, help="training steps the history spans")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    blas.set_threads(1)  # as the server runs (ui/frame.py)
    if args.page == "echo":
        echo_check(args)
    else:
        text_check(args)


def text_check(args) -> None:
    """The text page's slider: see the module docstring."""
    import plotly.io as pio

    from ui.figures import rewind as rewind_figs
    from ui.figures import text as text_figs

    args.hidden = args.hidden or 128

    text = (ROOT / "samples" / "logbook.txt").read_text(encoding="utf-8").lower()
    _, held_out = split_held_out(text)
    model = load_checkpoint(ROOT / "samples" / "logbook_h128.npz")
    if args.hidden != model.config.hidden_size:
        cfg = model.config
        config = ModelConfig(
            "char-lm",
            "lstm",
            cfg.input_size,
            args.hidden,
            1,
            cfg.output_size,
            vocab=cfg.vocab,
            lowercase=True,
        )
        model = Model.create(config, seed=0)
    history = history_of(model, args.steps)
    seed_text = held_out[: args.chars]
    sentence = Vocabulary(model.config.vocab).encode(held_out[-args.chars :], skip_unknown=True)
    print(f"{model}; history: {history}; seed text and sentence: {args.chars} characters")

    started = time.perf_counter()
    unit = liveliest_unit(model, sentence)
    drawn, grid = unit_over_time(model, history, sentence, unit)
    print(
        f"unit-over-training rows, once per view: {1000 * (time.perf_counter() - started):.0f} ms"
    )

    labels = {"p": "probability", "decimal": ".", "thousands": ",", "percent": "%"}
    heat_labels = {"step": "step", "position": "position", "value": "h", "hover": "%{z}", **labels}
    times = []
    for _ in range(args.rounds):
        for index in range(len(history)):
            t0 = time.perf_counter()
            moment = written_at(
                model, history, index, seed_text, args.chars, 0.7, None, 0, held_out
            )
            pairs = top_predictions(moment.written.raw[0], model.config.vocab, k=5)
            bars = text_figs.next_characters(pairs, moment.written.text[0], labels)
            chosen = drawn.index(index) if index in drawn else None
            steps = [history.steps[j] for j in drawn]
            heat = rewind_figs.unit_over_training(grid, steps, list(sentence), chosen, heat_labels)
            for fig in (bars, heat):
                pio.to_json(fig, validate=False)  # what st.plotly_chart sends
            times.append(time.perf_counter() - t0)
    report(times)


if __name__ == "__main__":
    main()
