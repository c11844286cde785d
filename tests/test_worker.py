"""The training worker process: its frames, its commands, and how it stops."""

from __future__ import annotations

import io
import time
from dataclasses import replace

import numpy as np
import pytest
from conftest import wait_for

from lstm_core import Model, ModelConfig, Vocabulary
from lstm_core.training import TextSettings
from lstm_core.training_process import TrainingProcess
from lstm_core.worker import read_frame, write_frame

TEXT = "the lamp is lit. the keeper climbs the stairs. " * 60
SETTINGS = TextSettings(seq_length=20, batch_size=8, learning_rate=0.01, dropout=0.0, seed=3)


@pytest.fixture
def setup():
    vocab = Vocabulary.from_text(TEXT)
    model = Model.create(
        ModelConfig("char-lm", "lstm", len(vocab), 16, 1, len(vocab), vocab=vocab.chars), seed=0
    )
    return model, vocab.encode(TEXT)


@pytest.fixture
def worker(setup):
    model, ids = setup
    proc = TrainingProcess(
        model, ids, TEXT[-300:], SETTINGS, "the ", 0.7, eval_every=20, sample_every=40
    )
    yield proc
    proc.stop()


def test_frames_round_trip_and_a_cut_stream_ends_cleanly():
    buf = io.BytesIO()
    write_frame(buf, {"cmd": "init", "n": 3}, b"\x00\x01\x02")
    write_frame(buf, {"cmd": "ping"})
    data = buf.getvalue()
    stream = io.BytesIO(data)
    assert read_frame(stream) == ({"cmd": "init", "n": 3}, b"\x00\x01\x02")
    assert read_frame(stream) == ({"cmd": "ping"}, b"")
    assert read_frame(stream) is None
    assert read_frame(io.BytesIO(data[:-4])) is not None  # the first frame is whole
    cut = io.BytesIO(data[:10])
    assert read_frame(cut) is None


def test_the_worker_trains_reports_and_pauses(worker, setup):
    model, _ = setup
    worker.train()
    assert wait_for(lambda: worker.steps >= 60 and len(worker.bpc) >= 2 and worker.samples)
    worker.pause()  # returns once the worker's last report is in
    assert worker.status == "paused"
    snap = worker.snapshot()
    steps_x, losses = snap["loss"]
    assert snap["steps"] >= 60 and steps_x[-1] == snap["steps"]
    assert losses[-5:].mean() < losses[:5].mean() - 0.5  # it learns
    assert snap["characters"] == snap["steps"] * 20 * 8
    assert snap["seconds"] > 0
    step, sample = snap["samples"][-1]
    assert step % 40 == 0 and len(sample) == 160 and set(sample) <= set(model.config.vocab)
    trained = worker.weights()
    assert trained is not None and not np.allclose(trained.flat, model.flat)
    time.sleep(0.3)  # paused means paused
    assert worker.snapshot()["steps"] == snap["steps"]
    again = worker.weights()
    np.testing.assert_array_equal(again.flat, trained.flat)


def test_new_settings_apply_from_the_current_weights(worker):
    worker.set_settings(replace(SETTINGS, seq_length=10, batch_size=4))
    worker.train()
    assert wait_for(lambda: worker.steps >= 10)
    worker.pause()
    snap = worker.snapshot()
    assert snap["characters"] == snap["steps"] * 10 * 4


def test_impossible_settings_are_refused_with_a_message(worker):
    worker.set_settings(replace(SETTINGS, seq_length=10_000))
    assert wait_for(lambda: worker.message and "10000" in worker.message["text"])
    worker.train()  # the old settings still hold
    assert wait_for(lambda: worker.steps >= 5)


def test_a_huge_learning_rate_stops_training_and_keeps_the_last_good_weights(setup):
    model, ids = setup
    proc = TrainingProcess(
        model, ids, "", replace(SETTINGS, learning_rate=1e6, optimizer="sgd"), "the ", 0.7
    )
    try:
        proc.train()
        assert wait_for(lambda: proc.status == "diverged")
        assert proc.message["code"] == "diverged" and "learning rate" in proc.message["text"]
        kept = proc.weights()
        assert kept is not None and np.isfinite(kept.flat).all()
        proc.train()  # refused: it stays stopped
        assert wait_for(lambda: proc.status == "diverged", timeout=2)
    finally:
        proc.stop()


def test_the_worker_pauses_when_nobody_asks(setup, monkeypatch):
    model, ids = setup
    monkeypatch.setenv("LSTM_LAB_IDLE_PAUSE", "0.5")
    proc = TrainingProcess(model, ids, "", SETTINGS, "the ", 0.7)
    try:
        proc.train()
        assert wait_for(
            lambda: proc.status == "paused" and proc.message["code"] == "idle", timeout=10
        )
    finally:
        proc.stop()


def test_the_worker_exits_when_its_page_goes_away(setup):
    model, ids = setup
    proc = TrainingProcess(model, ids, "", SETTINGS, "the ", 0.7)
    proc.train()
    assert wait_for(lambda: proc.steps > 0)
    proc.proc.stdin.close()  # what the page's process dying looks like from the worker
    proc.proc.wait(timeout=10)
    assert wait_for(lambda: proc.status == "paused" and proc.message["code"] == "lost")


def test_a_killed_worker_is_noticed(setup):
    model, ids = setup
    proc = TrainingProcess(model, ids, "", SETTINGS, "the ", 0.7)
    proc.train()
    assert wait_for(lambda: proc.steps > 0)
    proc.proc.kill()
    assert wait_for(
        lambda: not proc.alive and proc.status == "paused" and proc.message["code"] == "lost"
    )
    assert proc.weights(timeout=1) is None
    proc.stop()  # harmless on a dead worker


def test_an_unwatched_worker_saves_its_weights_before_it_could_go(setup, monkeypatch):
    from ui.background import BackgroundText

    model, ids = setup
    monkeypatch.setenv("LSTM_LAB_IDLE_PAUSE", "0.5")
    settings = SETTINGS
    bg = BackgroundText(model.copy(), ids, "", settings)
    try:
        bg.start()
        assert wait_for(
            lambda: bg.worker.message is not None and bg.worker.message["code"] == "idle"
        )
        assert wait_for(lambda: bg.worker.saved is not None)
        steps = bg.worker.saved[0]
        bg.worker.proc.kill()  # it goes away before anyone asked for the weights
        assert wait_for(lambda: not bg.worker.alive)
        bg.sync()
        assert bg.saved_steps == steps > 0 and not np.allclose(bg.model.flat, model.flat)
        bg.start()  # a new worker, from the saved weights
        assert wait_for(lambda: bg.worker.steps > 0)
    finally:
        bg.close()


def test_a_worker_that_exited_idle_is_resumed_where_it_stopped(setup, monkeypatch):
    from ui.background import BackgroundText

    model, ids = setup
    monkeypatch.setenv("LSTM_LAB_IDLE_PAUSE", "0.5")
    monkeypatch.setenv("LSTM_LAB_IDLE_EXIT", "1.5")
    bg = BackgroundText(model.copy(), ids, "", SETTINGS)
    try:
        bg.start()
        first = bg.worker
        assert (
            wait_for(lambda: not first.alive) and first.drain()
        )  # trained, paused unwatched, saved, exited
        steps, points = first.steps, len(first.losses)
        assert steps > 0 and first.saved is not None and first.saved[0] == steps
        bg.start()
        assert bg.worker is not first and bg.worker.alive
        assert wait_for(lambda: bg.worker.steps > steps + 5)
        snap = bg.snapshot()
        x, _ = snap["loss"]
        assert (
            x[0] <= bg.worker.losses.per_point and x[-1] == snap["steps"]
        )  # one curve, from the start
        assert (np.diff(x) > 0).all() and bg.worker.losses.n * bg.worker.losses.per_point >= points
    finally:
        bg.close()


# ==================================================================================== BLAS threads
class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def threads(monkeypatch):
    """A _Threads whose clock the test moves and whose thread switches are only recorded."""
    import lstm_core.worker as worker

    clock, switches = Clock(), []
    monkeypatch.setattr(worker.time, "monotonic", clock)
    monkeypatch.setattr(worker.blas, "set_threads", switches.append)
    return worker._Threads(2), clock, switches


def run_bursts(tuner, clock, seconds_per_step: dict, bursts: int) -> list[int]:
    used = []
    for _ in range(bursts):
        n = tuner.pick()
        tuner.record(n, [seconds_per_step[n]] * 5)
        used.append(n)
        clock.now += 0.1  # a burst
    return used


def test_the_worker_keeps_two_threads_when_they_are_faster(threads):
    tuner, clock, switches = threads
    used = run_bursts(tuner, clock, {1: 0.020, 2: 0.015}, 200)  # 20 s of bursts
    assert used[:2] == [1, 2]  # both measured first
    assert used[2:].count(2) > 0.9 * len(used[2:])  # then mostly two
    assert 1 in used[2:]  # with a try of one now and then, in case the machine got busier
    assert switches[0] == 1 and tuner.now in (1, 2)


def test_the_worker_falls_back_to_one_thread_and_tries_two_less_and_less_often(threads):
    tuner, clock, _ = threads
    used = run_bursts(tuner, clock, {1: 0.020, 2: 0.200}, 1200)  # a busy machine, 120 s
    tries = [k for k, n in enumerate(used) if n == 2]
    gaps = np.diff(tries)
    assert used.count(1) > 0.97 * len(used)
    assert gaps[-1] > gaps[0] and gaps[-1] <= 600 + 1  # backing off, up to a minute


def test_the_page_can_keep_a_worker_on_one_thread(threads):
    tuner, clock, _ = threads
    tuner.allow(1)  # a class trains at once
    assert set(run_bursts(tuner, clock, {1: 0.020, 2: 0.001}, 100)) == {1}


def test_a_worker_reports_the_threads_it_uses(setup):
    model, ids = setup
    proc = TrainingProcess(model, ids, TEXT[-300:], SETTINGS, "the ", 0.7, threads=2)
    try:
        proc.train()
        assert wait_for(lambda: proc.steps >= 20)
        proc.allow_threads(1)
        steps = proc.steps
        assert wait_for(lambda: proc.steps > steps + 10 and proc.threads == 1)
    finally:
        proc.stop()


# ---------------------------------------------------------------- the memory budget (issue 16)
def test_settings_over_the_budget_train_nothing_and_say_which_to_lower(setup):
    model, ids = setup
    huge = replace(SETTINGS, seq_length=2000, batch_size=4000)  # about 13 GB of activations
    proc = TrainingProcess(model, ids, "", huge, "the ", 0.7)
    try:
        proc.train()
        assert wait_for(lambda: proc.message is not None)
        assert proc.status == "paused" and proc.steps == 0
        assert proc.message["code"] == "budget_training_window", proc.message
        assert "batch size or the window" in proc.message["text"]
        proc.set_settings(SETTINGS)  # within the budget: it trains
        proc.train()
        assert wait_for(lambda: proc.steps > 0)
        proc.pause()
        proc.set_settings(huge)  # refused again; the settings it trains with stay
        assert wait_for(lambda: proc.message is not None and "budget" in proc.message["code"])
        steps = proc.steps
        proc.train()
        assert wait_for(lambda: proc.steps > steps)
    finally:
        proc.stop()


def test_the_operating_system_limit_stops_a_worker_whose_estimate_was_wrong(setup):
    """Settings under the estimate's budget, but a worker capped at 400 MB of address space:
    the allocation fails inside the worker, which says so and keeps answering."""
    model, ids = setup
    big = replace(SETTINGS, seq_length=2000, batch_size=200)  # about 700 MB: under the budget
    proc = TrainingProcess(model, ids, "", big, "the ", 0.7, address_space=400 * 2**20)
    try:
        proc.train()
        assert wait_for(lambda: proc.message is not None, timeout=20)
        assert proc.message["code"] == "worker_memory", proc.message
        assert proc.alive
        kept = proc.weights()
        assert kept is not None and np.array_equal(kept.flat, model.flat)
    finally:
        proc.stop()


def test_the_page_refuses_over_the_budget_without_starting_a_worker(setup):
    from ui.background import BackgroundText

    model, ids = setup
    bg = BackgroundText(model, ids, "", TextSettings(seq_length=2000, batch_size=4000))
    bg.start()
    assert bg.worker is None and not bg.running
    assert bg.message["code"] == "budget_training_window"
    bg.apply(TextSettings(seq_length=20, batch_size=8), 0.7)
    assert not bg.message  # new settings: asked again at the next Train
    try:
        bg.start()
        assert bg.worker is not None and wait_for(lambda: bg.worker.steps > 0)
    finally:
        bg.close()
