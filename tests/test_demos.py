"""Every sentence the echo and BPTT pages say about a preset's outcome, kept true.

Each preset of lstm_core/demos.py is trained through lstm_core (never through a page) at seeds
0-4, and each of its claims is checked: the pages write their sentences from those same records,
with the same numbers, so a preset changed there is checked here. The echo presets train in
`lstm_core.live.echo_run`, the very loop the page drives in slices, and its accuracy points are
the ones the page's chart draws: "stays at chance" is checked on every one of them.

The spread measured at seeds 0-4 is written beside each test (accuracy on 10,000 fresh bits at
the end; "chart": the points the page draws). Times are CPU seconds, measured on the shared
2-core machine at load 6-11; the timing test below runs only on a quiet machine.
"""

from __future__ import annotations

import os
import time

import pytest

from lstm_core import Model, ModelConfig, blas
from lstm_core.bptt import (
    SCALE_LIMIT,
    adjusted,
    clip_effect,
    decay_by_distance,
    echo_sequence,
    find_explosion,
    gradient_flow,
    reach,
)
from lstm_core.cells import SIDE_BY_SIDE
from lstm_core.demos import BPTT_PRESET, ECHO_PRESETS, PAGE_SHARE, bptt_echo_score
from lstm_core.echo import bit_trace, echo_accuracy, memory_curve
from lstm_core.live import echo_run

SEEDS = range(5)


@pytest.fixture(scope="module", autouse=True)
def one_blas_thread():
    """As the app server computes (ui/frame.py): these small products are fastest on one thread."""
    before = blas.set_threads(1)
    yield
    if before is not None:
        blas.set_threads(before)


def train_preset(name: str, seed: int) -> tuple[dict, float]:
    """Every claim of an echo preset, trained as the page trains it: the claims about the same
    settings (the RNN's and the LSTM's) side by side in one run, as the page's comparison does.
    Returns claim -> (accuracy on fresh data at the end, the accuracies the page's chart shows),
    and the most CPU seconds one run took (the page trains one run at a time)."""
    preset = ECHO_PRESETS[name]
    runs: dict = {}
    for claim in preset.claims:
        config = preset.claim_config(claim, seed)
        same = tuple((k, v) for k, v in config.as_dict().items() if k != "cell")
        runs.setdefault(same, (config, []))[1].append(claim)
    results, longest = {}, 0.0
    for config, claims in runs.values():
        run = echo_run(config, [claim.cell for claim in claims])
        start = time.process_time()
        run.advance(float("inf"))  # to the last epoch, evaluating as the page does
        longest = max(longest, time.process_time() - start)
        for claim in claims:
            trainer = run.trainers[claim.cell]
            assert trainer.status == "done", trainer.message
            shown = run.accuracy[claim.cell].arrays()[1]
            results[claim] = (echo_accuracy(trainer.model, trainer.config), shown, trainer)
    return results, longest


def check(results: dict) -> None:
    for claim, (final, shown, _) in results.items():
        what = f"{claim.cell} {dict(claim.changes)}: {final:.4f} at the end, chart {shown.round(3)}"
        assert claim.holds(final), what
        if claim.at_most < 1.0:  # "stays at chance": never above it on the page's chart either
            assert shown.max() <= claim.at_most, what
        if claim.at_least > 0.0:  # "reaches": the page's last point and metric show it too
            assert shown[-1] >= claim.at_least, what


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_the_notebooks_lstm_passes_99_percent_within_its_first_epoch(seed):
    # measured at seeds 0-4: 0.9993-0.9999 after the first epoch (666 windows), 0.3 s each
    results, _ = train_preset("notebook", seed)
    check(results)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_rnn_vs_lstm_the_rnn_stays_at_chance_and_the_lstm_passes_99_percent(seed):
    # measured at seeds 0-4 (60 epochs of 50 windows, both cells): RNN 0.493-0.559 at the end,
    # 0.51-0.563 at most on the chart (seeds 5-9 too stayed at chance); LSTM 0.9972-0.9994 at
    # the end, 0.998-0.999 on the chart's last point; 16-21 s of CPU for the pair at load 8-11
    results, _ = train_preset("rnn_vs_lstm", seed)
    check(results)
    # and "Watch a bit travel" shows it: the bit the answer needs comes back from the LSTM's
    # state and flipping it flips the answer 20 steps later; in the RNN's it is gone
    # (measured at seeds 0-4: LSTM read back 0.996-0.999, its answer moved by 0.998-1.000;
    # RNN 0.497-0.555 and 0.000-0.088)
    for claim, (*_, trainer) in results.items():
        k = trainer.config.echo_step
        read = memory_curve(trainer.model, trainer.config, k, seed=seed + 777)[k]  # as the page
        turned = bit_trace(trainer.model, k, seed=seed)
        moved = abs(turned.answer_change[turned.flipped + k])
        if claim.cell == "lstm":
            assert read >= 0.9 and moved >= 0.5, (read, moved)
        else:
            assert read <= 0.6 and moved <= 0.25, (read, moved)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_three_cells_the_rnn_stays_at_chance_and_both_gated_cells_pass_99_percent(seed):
    # measured at seeds 0-4 (30 epochs of 66 windows, the three side by side): RNN 0.493-0.505
    # at the end, 0.511-0.586 at most on the chart; GRU 0.9980-1.0000 (0.998-1.0 on the chart's
    # last point); LSTM 0.9995-1.0000; 16 s of CPU for the three at load 1-2. At echo_step 20
    # (the pair's recipe, 60 epochs) the GRU ended at 0.887-0.997, below 99% at three seeds of
    # five: hence the shorter echo
    results, _ = train_preset("three_cells", seed)
    assert {claim.cell for claim in results} == {"rnn", "gru", "lstm"}
    check(results)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_truncation_a_short_window_stays_at_chance_and_the_cure_passes_99_percent(seed):
    # measured at seeds 0-4: windows of 15 for 20 epochs, 0.493-0.507 at the end, at most
    # 0.552 on the chart; the cure (the RNN vs LSTM preset's LSTM) 0.9972-0.9994; 13-14 s
    results, _ = train_preset("truncation", seed)
    check(results)


def bptt_pair(seed: int) -> dict:
    """The BPTT preset's pair, trained as the page trains it (lstm_core/bptt_pair.py's PairTraining steps
    each trainer of lstm_core.demos.bptt_echo_trainer up to the preset's steps)."""
    steps = BPTT_PRESET.values["bptt_steps"]
    pair = {}
    for cell in ("rnn", "lstm"):
        trainer = BPTT_PRESET.trainer(cell, seed)
        for _ in trainer.run(steps):
            pass
        assert trainer.steps_done == steps, trainer.message
        pair[cell] = trainer.model
    return pair


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_bptt_preset_the_lstm_learns_the_echo_and_its_belt_carries_the_gradient(seed):
    # measured at seeds 0-4 (3000 steps each): RNN 0.491-0.510, LSTM 0.9940-0.9995; the RNN's
    # gradient below 1/1000 after 3-10 steps, the LSTM's along c never within the 60 steps;
    # 15-17 s of CPU for the pair at load 8-11
    v = BPTT_PRESET.values
    k, T = v["bptt_echo_step"], v["bptt_length"]
    pair = bptt_pair(seed)
    for cell, model in pair.items():
        score = bptt_echo_score(model, k)
        assert BPTT_PRESET.score(cell).holds(score), (cell, score)
    x, y = echo_sequence(T, k, seed)  # the page's sequence (lstm_core.bptt_pair.sequence)
    flows = {cell: gradient_flow(model, x, y) for cell, model in pair.items()}
    maps = {"rnn_h": flows["rnn"].dh, "lstm_h": flows["lstm"].dh, "lstm_c": flows["lstm"].dc}
    for panel in ("rnn_h", "lstm_c"):
        at_most, at_least = BPTT_PRESET.reach(panel)
        steps = reach(decay_by_distance(maps[panel]))  # None: over the whole sequence
        if at_most is not None:
            assert steps is not None and steps <= at_most, (panel, steps)
        if at_least is not None:
            assert steps is None or steps >= at_least, (panel, steps)


def engine_seconds(config, cells, windows: int = 100) -> float:
    """CPU seconds the engine needs for a whole run of `config` for each of `cells`, as the
    page's loop runs it (with its accuracy checks), from the time of `windows` windows: every
    window of a run costs the same."""
    run = echo_run(config, cells)
    for _ in range(10):  # warm up: the workspace's buffers are allocated on the first windows
        run.step()
    start = time.process_time()
    for _ in range(windows):
        run.step()
    per_window = (time.process_time() - start) / windows
    check = time.process_time()
    for trainer in run.trainers.values():
        echo_accuracy(trainer.model, config, length=5000)
    checks = (time.process_time() - check) * (config.num_epochs * config.windows_per_epoch)
    return per_window * config.num_epochs * config.windows_per_epoch + checks / run.eval_every


# The project's machine on a normal day: a (32, 512) float32 multiply into an existing array,
# best of 7×2000 calls, 1.4 µs (README, Speed). On 2026-12-04 the same machine ran it in 2.65 µs
# and everything else as slowly (PyTorch's steps too): a preset's promise is for a machine at its
# normal speed, so on such a day the times are not measured, as on a busy one. The tightest
# promise has 15% to spare (three cells: 16.9 s against 19.5), hence 1.15 × 1.4 µs.
SLOW_CALL = 1.6


def numpy_call_microseconds() -> float:
    import timeit

    import numpy as np

    a, b = np.ones((32, 512), np.float32), np.ones((32, 512), np.float32)
    out = np.empty_like(a)
    return min(timeit.repeat(lambda: np.multiply(a, b, out), number=2000, repeat=7)) / 2000 * 1e6


@pytest.mark.slow
def test_the_presets_train_within_the_time_their_notes_promise():
    """The notes promise a preset trains within `seconds` on a server of its own: the echo page
    gives training PAGE_SHARE of the clock, the BPTT page all of it (a progress bar aside; it
    trains an RNN, a GRU and an LSTM).
    Timed only while the machine is quiet: then a run's CPU time is about what it would take
    alone. Measured at load 0.95 a core: the RNN vs LSTM pair 18.7-19.7 s (against 19.5: the
    promise is "about"), the cure's LSTM 15.8 s, the short-window run 7.8 s, the BPTT pair
    17.7 s (against 30). At load 0.4 a core: the three cells 16.3-16.9 s (against 19.5), the
    BPTT page's three 26.8 s (RNN 2.7, GRU 13.5, LSTM 10.6; against 35)."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    if load > 0.75:
        pytest.skip(f"the machine is busy (load {load:.1f} a core): times would say nothing")
    call = numpy_call_microseconds()
    if call > SLOW_CALL:
        pytest.skip(
            f"this machine runs NumPy slowly today ({call:.2f} µs a call, not ≤ {SLOW_CALL})"
        )
    for name in ("rnn_vs_lstm", "three_cells", "truncation"):
        preset = ECHO_PRESETS[name]
        for claim in preset.claims:
            config = preset.claim_config(claim)
            seconds = engine_seconds(config, preset.cells)
            assert seconds <= preset.seconds * PAGE_SHARE, (name, claim, seconds)
    v = BPTT_PRESET.values
    trainers = {cell: BPTT_PRESET.trainer(cell, 0) for cell in SIDE_BY_SIDE}  # as the page does
    start = time.process_time()
    for trainer in trainers.values():
        for _ in trainer.run(100):
            pass
    seconds = (time.process_time() - start) / 100 * v["bptt_steps"]
    assert seconds <= BPTT_PRESET.seconds, seconds


@pytest.mark.parametrize("seed", SEEDS)
def test_make_it_explode_explodes_the_default_untrained_rnn(seed):
    """The page's scale help says an untrained RNN's gradient explodes well above 1, and its
    button finds where: from the page's default (32 untrained units, 60 steps of a 3-step echo)
    the search ends at a scale the slider offers, over ten times the clipping limit.
    (Trained, the preset's RNN does not explode at any scale the page offers, at seeds 0-4:
    the page says so, and does not train larger pairs to look further.)"""
    # measured at seeds 0-4: scales 2.75-4.5, norms 68-468 against the limit of 5
    limit = 5.0  # the page's default clip-by-norm limit
    model = Model.create(ModelConfig("echo", "rnn", 1, 32, 1, 2), seed=seed)
    found = find_explosion(
        lambda units: model,
        lambda length: echo_sequence(length, 3, seed),
        32,
        60,
        limit,
        hiddens=(),
    )
    assert found is not None and 1.0 < found.scale <= SCALE_LIMIT, found
    x, y = echo_sequence(found.length, 3, seed)
    assert clip_effect(adjusted(model, found.scale), x, y, limit, limit).raw_norm > 10 * limit
