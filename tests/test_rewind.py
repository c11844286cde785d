"""Going back in training time (issue 21): the text worker's history reaches the page exactly, a
checkpoint carries it, and the slider's last kept step is the live model to the last digit."""

from __future__ import annotations

import io
import time
from dataclasses import asdict
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import wait_for
from test_worker import SETTINGS

from lstm_core import (
    Model,
    ModelConfig,
    TextSettings,
    TextTrainer,
    Vocabulary,
    checkpoint_bytes,
    load_checkpoint,
)
from lstm_core.history import WeightHistory, model_at
from lstm_core.rewind import (
    LENGTH,
    held_out_bits,
    liveliest_unit,
    rows,
    unit_over_time,
    write,
    written_at,
)
from lstm_core.text import bits_per_character
from lstm_core.training_process import HistoryMirror
from lstm_core.worker import HELD_OUT_SCORED, read_frame
from ui.generation import Generation

TEXT = "the keeper climbs the stairs. the lamp is lit. the sea is grey. " * 50
HELD_OUT = "the stairs are cold and the lamp is lit again. " * 100


def char_model(hidden: int = 16, seed: int = 0) -> tuple[Model, np.ndarray]:
    vocab = Vocabulary.from_text(TEXT + HELD_OUT)
    config = ModelConfig("char-lm", "lstm", len(vocab), hidden, 1, len(vocab), vocab=vocab.chars)
    return Model.create(config, seed=seed), vocab.encode(TEXT)


def trained(steps: int = 120, hidden: int = 16) -> TextTrainer:
    model, ids = char_model(hidden)
    trainer = TextTrainer(model, ids, TextSettings(20, 8, 0.01, "adam", 0.0, seed=3))
    trainer.keep_history()
    for _ in trainer.run(steps):
        pass
    trainer.model.history = trainer.history
    return trainer


# ==================================================================================== the engine
def test_the_last_kept_moment_writes_scores_and_lights_up_as_the_live_model():
    trainer = trained()
    model, history = trainer.model, trainer.history
    last = len(history) - 1
    assert history.steps[-1] == trainer.steps_done  # the last moment is now
    moment = written_at(model, history, last, "the ", 500, 0.7, None, 4, HELD_OUT)
    live = Generation(model.copy(), "the ", 500, 0.7, None, 4)
    live.advance(500)
    assert len(moment.written.text) == LENGTH  # at most LENGTH: a prefix of what the page writes
    assert moment.written.text == live.text[:LENGTH]
    np.testing.assert_array_equal(moment.written.raw, live.raw[:LENGTH])  # the top-5's numbers
    assert moment.bits == bits_per_character(model, HELD_OUT[:HELD_OUT_SCORED])[0]
    ids = Vocabulary(model.config.vocab).encode("the lamp is lit. the keeper is cold.")
    unit = liveliest_unit(model, ids)
    drawn, grid = unit_over_time(model, history, ids, unit)
    np.testing.assert_array_equal(grid[-1], model.run(ids[None, :]).layers[0].h[1:, 0, unit])
    assert drawn[0] == 0 and drawn[-1] == last


def test_an_earlier_moment_is_the_model_as_it_was_then():
    trainer = trained()
    model, history = trainer.model, trainer.history
    first = written_at(model, history, 0, "the ", 200, 0.7, None, 4, HELD_OUT)
    untrained, _ = char_model()  # the same draw the trainer started from
    assert first.step == 0
    then = write(untrained, "the ", 200, 0.7, None, 4)
    assert first.written.text == then.text
    np.testing.assert_array_equal(first.written.raw, then.raw)
    assert first.bits == held_out_bits(untrained, HELD_OUT)
    last = written_at(model, history, len(history) - 1, "the ", 200, 0.7, None, 4, HELD_OUT)
    # measured over model seeds 0-4 (trainer seed = model seed): untrained 4.32-4.43 bits
    # (log2 V = 4.32), after 120 steps 3.28-3.86, each at least 0.5 lower than where it began
    assert first.bits > 4.2 and last.bits < first.bits - 0.3


def test_the_figure_draws_at_most_its_rows_with_the_first_and_last():
    assert rows(5) == [0, 1, 2, 3, 4]
    drawn = rows(400, 64)
    assert len(drawn) == 64 and drawn[0] == 0 and drawn[-1] == 399
    assert drawn == sorted(set(drawn))


# ==================================================================================== worker -> page
def worker_frames(monkeypatch, budget_moments: int | None, steps: int):
    """A worker run in this process: trained `steps` steps, paused, asked for its weights. Returns
    the worker, the model it started from and the frames it wrote."""
    import lstm_core.budget as budget
    import lstm_core.worker as worker

    model, ids = char_model()
    if budget_moments is not None:  # a small budget: the worker thins what it sent already
        monkeypatch.setattr(budget, "TEXT_HISTORY", budget_moments * 4 * model.flat.size)
    ckpt = checkpoint_bytes(model)
    init = {
        "checkpoint_bytes": len(ckpt),
        "held_out": "",
        "prime": "the ",
        "temperature": 0.7,
        "eval_every": 10**9,
        "sample_every": 10**9,
        "settings": asdict(SETTINGS),
    }
    out = io.BytesIO()
    payload = ckpt + np.asarray(ids, np.int32).tobytes()
    w = worker._Worker(worker.Start.from_dict(init), payload, out)
    # The worker's clock reads its step count: every burst trains exactly one step and reports it,
    # however fast or loaded the machine (a 20 ms burst on a quiet one trained all 150 steps in so
    # few bursts that nothing sent was ever thinned).
    clock = SimpleNamespace(monotonic=lambda: float(w.steps), perf_counter=time.perf_counter)
    monkeypatch.setattr(worker, "time", clock)
    monkeypatch.setattr(worker, "BURST", 0.5)
    w.command({"cmd": "train"})
    while w.steps < steps:
        w.burst()
    w.command({"cmd": "pause"})
    w.command({"cmd": "weights"})
    out.seek(0)
    return w, model, list(iter(lambda: read_frame(out), None))


class Reported:
    """What BackgroundText reads of a TrainingProcess's history: the mirror, as frames built it."""

    def __init__(self, mirror: HistoryMirror) -> None:
        self.mirror = mirror

    def moments(self):
        return list(self.mirror.steps), list(self.mirror.weights)


def page_history(model, frames):
    """The page's side: the mirror fed every progress frame, the weights frame saved as on Pause,
    and BackgroundText's history of the two."""
    from ui.background import BackgroundText

    mirror, sent = HistoryMirror(model), 0
    bg = BackgroundText(model.copy(), np.zeros(50, np.intp), "", TextSettings())
    for header, payload in frames:
        if header["type"] == "progress":
            mirror.take(header["history"]["kept"], header["history"]["new"], payload)
            sent += len(header["history"]["new"])
        else:
            bg.take_weights(load_checkpoint(payload), header["steps"])
    bg.worker = Reported(mirror)
    return bg.history(), sent, bg


@pytest.mark.parametrize("budget_moments", [None, 12])
def test_the_history_reaches_the_page_exactly_and_thinned_as_the_worker_thins(
    monkeypatch, budget_moments
):
    w, model, frames = worker_frames(monkeypatch, budget_moments, 150)
    history, sent, bg = page_history(model, frames)
    try:
        assert history.steps == w.history.steps  # the same moments...
        for a, b in zip(history.weights, w.history.weights, strict=True):
            np.testing.assert_array_equal(a, b)  # ...to the bit
        assert history.steps[0] == 0 and history.steps[-1] == w.steps >= 150
        np.testing.assert_array_equal(history.weights[0], model.flat)  # untrained, as it began
        np.testing.assert_array_equal(history.weights[-1], bg.model.flat)  # the paused model
        assert sent == len(set(sent_steps(frames)))  # each moment crossed the pipe once
        if budget_moments:
            assert len(history) <= budget_moments and sent > len(history)  # thinned on both sides
    finally:
        bg.worker = None


def sent_steps(frames) -> list[int]:
    return [
        s for header, _ in frames if header["type"] == "progress" for s in header["history"]["new"]
    ]


def test_a_frame_the_page_cannot_read_changes_nothing():
    model, _ = char_model()
    mirror = HistoryMirror(model)
    mirror.take([0], [0], b"\x00" * 12)  # not one moment's bytes
    assert mirror.steps == [] and mirror.weights == []


# ==================================================================================== checkpoint -> page
def test_a_downloaded_checkpoint_carries_the_history_and_loads_it_exactly():
    from ui.background import BackgroundText

    trainer = trained(80)
    bg = BackgroundText(trainer.model, np.zeros(50, np.intp), "", TextSettings())
    loaded = load_checkpoint(checkpoint_bytes(bg.model_copy()))  # what the download button gives
    assert loaded.history.steps == trainer.history.steps
    for a, b in zip(loaded.history.weights, trainer.history.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    again = BackgroundText(loaded, np.zeros(50, np.intp), "", TextSettings())
    assert again.history() is loaded.history and again.saved_steps == 80  # an upload: rewindable


def test_a_full_text_history_at_128_units_fits_the_upload_limit():
    """budget.TEXT_HISTORY: a checkpoint carrying a full history of a 128-unit model (the
    sample's 49 characters) stays under the 20 MB the server takes; weights that compress worst
    (noise, not trained weights) are used."""
    from lstm_core.budget import TEXT_HISTORY

    vocab = tuple("abcdefghijklmnopqrstuvwxyz0123456789 .,;:!?'\"()-\n")  # 49, as the sample
    config = ModelConfig("char-lm", "lstm", len(vocab), 128, 1, len(vocab), vocab=vocab)
    model = Model.create(config, seed=0)
    history, rng = WeightHistory(budget=TEXT_HISTORY), np.random.default_rng(0)
    for step in range(0, 3000, 7):
        history.offer(step, rng.standard_normal(model.flat.size, dtype=np.float32) * 0.1)
    model.history = history
    assert history.nbytes <= TEXT_HISTORY and len(history) >= 35
    assert len(checkpoint_bytes(model)) < 20 * 10**6


# ==================================================================================== a real worker
def test_the_page_keeps_the_history_through_pause_and_a_new_worker(monkeypatch):
    from lstm_core.budget import TEXT_HISTORY
    from ui.background import BackgroundText

    model, ids = char_model()
    monkeypatch.setenv("LSTM_LAB_IDLE_PAUSE", "0.6")
    monkeypatch.setenv("LSTM_LAB_IDLE_EXIT", "1.5")
    bg = BackgroundText(model.copy(), ids, HELD_OUT, SETTINGS)
    try:
        bg.start()
        assert wait_for(lambda: len(bg.worker.moments()[0]) >= 12)  # moments arrive while it trains
        first = bg.worker
        assert wait_for(lambda: not first.alive) and first.drain()  # paused unwatched, exited
        bg.start()  # a new worker, from the weights and the history saved on the page
        assert wait_for(lambda: bg.worker.steps > first.steps + 20)
        bg.pause()
        history = bg.history()
        assert bg.model.history.steps == history.steps  # what a download carries
        assert history.steps[0] == 0 and history.steps[-1] == bg.saved_steps == bg.worker.steps
        assert (np.diff(history.steps) > 0).all() and history.nbytes <= TEXT_HISTORY
        np.testing.assert_array_equal(model_at(bg.model, history, 0).flat, model.flat)
        np.testing.assert_array_equal(history.weights[-1], bg.model.flat)
        replay = WeightHistory(budget=history.budget)  # the first worker's part, as kept there
        for step in range(first.steps + 1):
            replay.offer(step, np.zeros(model.flat.size, np.float32))
        assert [s for s in history.steps if s <= first.steps] == replay.steps
    finally:
        bg.close()
