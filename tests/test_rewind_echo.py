"""Going back in training time on the echo task (lstm_core/rewind_echo.py): the run's histories
keep their budget, the same steps for both models and the first and last steps; the view at the
last kept step is the live model's; the carry figure's numbers are a direct readout's."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lstm_core.budget import ECHO_HISTORY
from lstm_core.demos import ECHO_PRESETS, NOTEBOOK
from lstm_core.echo import echo_data
from lstm_core.history import WeightHistory, model_at, shared_budgets
from lstm_core.live import echo_run
from lstm_core.rewind_echo import (
    CARRY_LENGTH,
    CARRY_SEED,
    carry_lags,
    carry_over_training,
    view_at,
    window_view,
)
from ui.figures import rewind as rewind_figs
from ui.i18n import number_style

PRESET = ECHO_PRESETS["rnn_vs_lstm"].config("lstm")  # the largest pair the page trains


def trained_run(config=NOTEBOOK, cells=("rnn", "lstm"), steps: int = 120):
    run = echo_run(replace(config, total_series_length=3000), cells)
    while min(tr.steps_done for tr in run.trainers.values()) < steps:
        run.step()
    return run


def test_the_pairs_histories_share_the_budget_and_keep_the_same_steps():
    run = echo_run(PRESET, ("rnn", "lstm"))
    histories = [tr.history for tr in run.trainers.values()]
    assert sum(h.budget for h in histories) <= ECHO_HISTORY
    # equal capacity in moments, different sizes in bytes: the RNN is a quarter of the LSTM
    sizes = [tr.model.flat.size * 4 for tr in run.trainers.values()]
    assert len({h.capacity(s) for h, s in zip(histories, sizes, strict=True)}) == 1
    assert sizes[0] < sizes[1]
    # a long training, offered without the cost of training: never over budget; and at a
    # quarter of the budget (fewer moments than the log-spaced steps due), thinned to capacity
    quarter = shared_budgets([tr.model for tr in run.trainers.values()], ECHO_HISTORY // 4)
    tight = [WeightHistory(budget=b) for b in quarter]
    rng = np.random.default_rng(0)
    flats = [rng.standard_normal(s // 4).astype(np.float32) for s in sizes]
    for step in range(0, 60_001, 7):
        for h, flat in zip(histories + tight, flats + flats, strict=True):
            h.offer(step, flat)
            assert h.nbytes <= h.budget
    for a, b in (histories, tight):
        assert a.steps == b.steps  # both follow one slider
        assert a.steps[0] == 0 and a.steps[-1] == 59_997  # the first and the last are kept
        assert len(a) <= a.capacity(sizes[0])
    assert len(tight[0]) == tight[0].capacity(sizes[0]) == 24  # thinned
    assert len(histories[0]) > len(tight[0])
    assert sum(h.nbytes for h in histories) <= ECHO_HISTORY


def test_shared_budgets_give_every_model_the_same_moments():
    run = echo_run(NOTEBOOK, ("rnn", "lstm"))
    models = [tr.model for tr in run.trainers.values()]
    budgets = shared_budgets(models, 10_000)
    moments = {b // (m.flat.size * 4) for b, m in zip(budgets, models, strict=True)}
    assert len(moments) == 1 and sum(budgets) <= 10_000


def test_a_trained_run_keeps_its_first_and_latest_step_at_the_same_steps():
    run = trained_run(steps=150)
    rnn, lstm = (tr.history for tr in run.trainers.values())
    assert rnn.steps == lstm.steps
    assert rnn.steps[0] == 0 and rnn.steps[-1] == run.trainers["rnn"].steps_done
    for tr in run.trainers.values():
        np.testing.assert_array_equal(tr.history.weights[-1], tr.model.flat.astype(np.float32))


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_the_view_at_the_last_kept_step_is_the_live_models_view(cell):
    run = trained_run(cells=(cell,), steps=90)
    tr = run.trainers[cell]
    last = len(tr.history) - 1
    then = view_at(tr.model, tr.history, last, tr.last_input())
    live = window_view(tr.model, *tr.last_input())
    for a, b in zip(then, live, strict=True):
        np.testing.assert_array_equal(a, b)  # the same numbers, not close ones
    x, y, state = tr.last_input()
    np.testing.assert_array_equal(then.x, x[:, :, 0])
    np.testing.assert_array_equal(then.y, y)
    h0, c0 = state[0]  # the state carried in (layer 0): c for an LSTM, h for an RNN
    start = c0 if cell == "lstm" else h0
    np.testing.assert_array_equal(then.state[0], start)
    earlier = view_at(tr.model, tr.history, 0, tr.last_input())  # the untrained weights
    assert not np.array_equal(earlier.state, live.state)
    untrained = window_view(model_at(tr.model, tr.history, 0), *tr.last_input())
    np.testing.assert_array_equal(earlier.state, untrained.state)


def readout(model, config, max_lag: int) -> np.ndarray:
    """How well the bit read d steps ago is read back from the state, written out directly: the
    state after every step from a zero start, a least-squares readout per distance fitted on the
    even rows and scored on the odd ones (numpy.linalg.lstsq, one distance at a time)."""
    rows = max(2, config.batch_size + config.batch_size % 2)
    cfg = replace(
        config, batch_size=rows, total_series_length=max(CARRY_LENGTH, rows * 8 * (max_lag + 1))
    )
    x, _ = echo_data(cfg, np.random.default_rng(CARRY_SEED))
    layer = model.forward(x.T[:, :, None].astype(model.dtype)).layers[0]
    state = np.asarray(layer.h[1:], np.float64)
    if layer.c is not None:
        state = np.concatenate([state, np.asarray(layer.c[1:], np.float64)], axis=-1)
    out = []
    for d in range(max_lag + 1):
        fit_x, fit_y, test_x, test_y = [], [], [], []
        for b in range(rows):
            for t in range(max_lag, x.shape[1]):
                features = np.append(state[t, b], 1.0)
                (fit_x if b % 2 == 0 else test_x).append(features)
                (fit_y if b % 2 == 0 else test_y).append(float(x[b, t - d]))
        A, F = np.array(fit_x), np.array(fit_y)
        w = np.linalg.solve(A.T @ A + 1e-3 * np.eye(A.shape[1]), A.T @ F)
        out.append(np.mean((np.array(test_x) @ w > 0.5) == (np.array(test_y) > 0.5)))
    return np.array(out)


def test_the_carry_figures_numbers_are_a_direct_readouts():
    config = replace(NOTEBOOK, total_series_length=3000)
    run = trained_run(config, cells=("lstm",), steps=1000)
    tr = run.trainers["lstm"]
    lags = carry_lags(config.echo_step)
    moments = [0, len(tr.history) - 1]
    drawn, grid = carry_over_training(tr.model, tr.history, tr.config, lags, moments)
    assert drawn == moments and grid.shape == (2, lags + 1)
    for row, j in enumerate(moments):
        direct = readout(model_at(tr.model, tr.history, j), tr.config, lags)
        np.testing.assert_allclose(grid[row], direct, atol=2e-3)  # a flip or two of float32 ties
    assert grid[1, config.echo_step] > 0.9  # the trained LSTM carries the bit its answer needs
    assert grid[0, config.echo_step] < grid[1, config.echo_step] - 0.2  # it learned to
    labels = {
        "lstm": "LSTM",
        "distance": "d",
        "step": "step",
        "hover": "%{y} %{x} %{text}",
        "answer": "framed",
        **number_style("es"),
    }
    steps = [tr.history.steps[j] for j in drawn]
    fig = rewind_figs.carry_over_training({"lstm": grid}, {"lstm": steps}, 3, {"lstm": 1}, labels)
    heat = fig.data[0]
    np.testing.assert_array_equal(np.asarray(heat.z), grid.astype(np.float32))
    assert heat.text[1][config.echo_step].endswith(" %")  # Spanish: "99 %"
    assert list(heat.y) == ["0", f"{steps[1]:,}".replace(",", ".")]  # Spanish: 1.000
    framed, outlined = fig.layout.shapes
    assert (framed.x0, framed.x1) == (2.5, 3.5) and framed.line.dash == "dash"  # d = echo_step
    assert (outlined.y0, outlined.y1) == (0.5, 1.5)  # the slider's row
