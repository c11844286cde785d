"""How fast the text page's training-time slider answers on the server, at H=128.

    python scripts/rewind_check.py                 # the logbook's 128-unit model, 300 characters
    python scripts/rewind_check.py --hidden 256 --chars 300 --rounds 3

What a move of the slider makes the server do (ui/rewind_text.py, in its fragment): the model at
the new kept step writes --chars characters after a seed text of --chars characters and scores
the held-out text (lstm_core/rewind.written_at), the top-5 figure at a position of what it wrote
and the unit-over-training figure (its rows computed once, when the view opens: timed apart)
are built and encoded as st.plotly_chart sends them. Each kept step is visited once per round,
never from a cache. The history is the page's own size (budget.TEXT_HISTORY): the model's
weights at each kept step are the logbook sample's with noise added (the time of a move does not
depend on the values). This is a measurement to rerun, not a test: it prints what it saw.
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


def main() -> None:
    import plotly.io as pio

    from ui.figures import rewind as rewind_figs
    from ui.figures import text as text_figs

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--chars", type=int, default=300)
    ap.add_argument("--steps", type=int, default=5000, help="training steps the history spans")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    blas.set_threads(1)  # as the server runs (ui/frame.py)

    text = (ROOT / "samples" / "logbook.txt").read_text(encoding="utf-8").lower()
    _, held_out = split_held_out(text)
    model = load_checkpoint(ROOT / "samples" / "logbook_h128.npz")
    if args.hidden != model.config.hidden_size:
        cfg = model.config
        config = ModelConfig("char-lm", "lstm", cfg.input_size, args.hidden, 1, cfg.output_size,
                             vocab=cfg.vocab, lowercase=True)  # fmt: skip
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
    ms = sorted(1000 * t for t in times)
    p90 = ms[int(0.9 * (len(ms) - 1))]
    print(
        f"a move of the slider ({len(ms)} moves): median {statistics.median(ms):.0f} ms, "
        f"90th percentile {p90:.0f} ms, slowest {ms[-1]:.0f} ms (target: under 300 ms)"
    )


if __name__ == "__main__":
    main()
