"""Training in time slices: bounded histories, several trainers together, the sweep."""

import numpy as np
import pytest

from lstm_core import EchoConfig
from lstm_core.live import EchoSweep, History, echo_run


def test_history_stays_bounded_and_keeps_the_mean():
    h = History(capacity=8)
    values = np.arange(1000, dtype=float)
    for k, v in enumerate(values):
        h.add(k, v)
    x, y = h.arrays()
    assert len(h) <= 9 and len(x) == len(y) == len(h)  # 8 full points and maybe one partial
    assert np.all(np.diff(x) > 0) and x[-1] == 999  # the chart reaches the latest step
    assert h.per_point >= 1000 // 8
    stride = h.per_point  # every full point is the mean of exactly its raw values
    for k in range(h.n):
        assert y[k] == pytest.approx(values[k * stride : (k + 1) * stride].mean())
        assert x[k] == (k + 1) * stride - 1
    assert y[-1] == pytest.approx(values[h.n * stride :].mean())
    assert h.smoothed().shape == y.shape
    with pytest.raises(ValueError):
        History(capacity=5)


def test_a_live_run_trains_both_cells_on_the_same_data():
    run = echo_run(EchoConfig(total_series_length=3000, num_epochs=2), ("rnn", "lstm"))
    first_batches = {n: tr.next_batch()[0].copy() for n, tr in run.trainers.items()}
    np.testing.assert_array_equal(first_batches["rnn"], first_batches["lstm"])
    done = run.advance(0.05)
    assert done > 0 and all(len(run.losses[n]) for n in run.trainers)
    while not run.finished:
        run.advance(0.05)
    assert not run.running and all(tr.status == "done" for tr in run.trainers.values())
    assert all(
        len(run.accuracy[n]) >= 2 for n in run.trainers
    )  # measured along the way and at the end
    assert run.problems() == []


def test_a_live_run_reports_divergence():
    run = echo_run(EchoConfig(learning_rate=1e4, num_epochs=1), ("lstm",))
    run.running = True
    while not run.finished:
        run.advance(0.05)
    (problem,) = run.problems()
    assert (
        "learning rate" in str(problem)
        and problem.code == "diverged"
        and problem.params["learning_rate"] == 1e4
    )


def test_the_sweep_covers_every_echo_step_for_both_cells():
    sweep = EchoSweep(EchoConfig(total_series_length=7500), echo_steps=(1, 2, 20), epochs=2)
    assert sweep.progress == 0.0 and sweep.current() == ("rnn", 1)
    sweep.running = True
    while not sweep.done:
        before = sweep.progress
        sweep.advance(0.02)
        assert sweep.progress >= before
    assert not sweep.running and sweep.progress == 1.0
    assert set(sweep.results["rnn"]) == set(sweep.results["lstm"]) == {1, 2, 20}
    assert sweep.results["lstm"][1] > 0.9  # an echo of one step is easy
    assert sweep.results["lstm"][20] < 0.65  # beyond the window of 15: chance


def test_the_pages_lstm_reaches_99_percent_from_the_notebooks_defaults():
    """What the echo page runs when Train is pressed with the defaults, through the core."""
    run = echo_run(EchoConfig(), ("lstm",))
    run.running = True
    while run.running and (
        not len(run.accuracy["lstm"]) or run.accuracy["lstm"].arrays()[1][-1] < 0.99
    ):
        run.advance(0.1)
    assert run.accuracy["lstm"].arrays()[1][-1] >= 0.99
    assert run.trainers["lstm"].epoch <= 3
