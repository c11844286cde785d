"""A model's history: dense early, within its budget, the first and last kept, saved exactly."""

import io

import numpy as np
import pytest

from lstm_core import CheckpointError, EchoConfig, EchoTrainer, checkpoint_bytes, load_checkpoint
from lstm_core.history import MAX_MOMENTS, WeightHistory


def filled(budget: int, steps: int, size: int = 100) -> WeightHistory:
    history = WeightHistory(budget=budget)
    for step in range(steps + 1):
        history.offer(step, np.full(size, step, np.float32))
    return history


@pytest.mark.parametrize(("moments", "steps"), [(5, 50), (40, 20_000), (12, 3), (400, 100)])
def test_thinning_keeps_the_budget_the_first_and_the_last(moments, steps):
    history = filled(moments * 400, steps)
    assert history.nbytes <= moments * 400
    assert history.steps[0] == 0 and history.steps[-1] == steps
    assert history.steps == sorted(set(history.steps))
    for step, w in zip(history.steps, history.weights, strict=True):
        assert (w == step).all()  # each moment holds the weights of its own step


def test_early_learning_is_dense_and_later_spread_evenly_in_log_steps():
    history = filled(40 * 400, 20_000)
    steps = np.array(history.steps)
    assert (steps < 100).sum() >= 10 and (steps > 10_000).sum() <= 4
    gaps = np.diff(np.log1p(steps[3:]))
    assert gaps.max() < 4 * np.median(gaps)  # no hole much larger than the typical one


def test_never_more_moments_than_the_cap_however_small_the_model():
    history = filled(10**9, 5000, size=2)
    assert len(history) <= MAX_MOMENTS


def test_a_history_saved_with_its_model_loads_exactly():
    trainer = EchoTrainer(EchoConfig(total_series_length=2000, num_epochs=2))
    history = WeightHistory()
    while not trainer.finished:
        trainer.step()
        history.offer(trainer.steps_done, trainer.model.flat)
    trainer.model.history = history
    loaded = load_checkpoint(checkpoint_bytes(trainer.model))
    assert loaded.history.steps == history.steps
    for a, b in zip(loaded.history.weights, history.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.history.weights[-1], loaded.flat)  # the last is now


def test_a_checkpoint_without_history_has_none_and_a_damaged_one_is_refused():
    trainer = EchoTrainer(EchoConfig(total_series_length=2000, num_epochs=1))
    trainer.step()
    assert load_checkpoint(checkpoint_bytes(trainer.model)).history is None
    history = WeightHistory()
    history.offer(1, trainer.model.flat)
    history.offer(2, trainer.model.flat)
    trainer.model.history = history
    data = checkpoint_bytes(trainer.model)
    with np.load(io.BytesIO(data)) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["history.steps"] = np.array([2, 1])  # not increasing
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(CheckpointError, match="history"):
        load_checkpoint(buf.getvalue())


def test_a_trainer_keeps_its_history_and_the_last_moment_is_the_live_model():
    from lstm_core.history import model_at, unit_over_training

    trainer = EchoTrainer(EchoConfig(total_series_length=3000, num_epochs=3, state_size=6))
    history = trainer.keep_history()
    for _ in trainer.run(300):
        pass
    assert history.steps[0] == 0 and history.steps[-1] == trainer.steps_done
    bits = np.random.default_rng(0).integers(0, 2, (1, 40))
    live = trainer.model.run(bits)
    then = model_at(trainer.model, history, len(history) - 1).run(bits)
    np.testing.assert_array_equal(then.probs, live.probs)  # the slider's last moment is now
    grid = unit_over_training(trainer.model, history, bits[0], layer=0, unit=2)
    assert grid.shape == (len(history), 40)
    np.testing.assert_array_equal(grid[-1], live.layers[0].c[1:, 0, 2])
    assert not np.array_equal(grid[0], grid[-1])  # the unit changed as it learned
