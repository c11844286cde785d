"""What the text page says about its curves and its inspector, checked through the engine.

The page says: (1) the training curve is measured with dropout on and on windows that start from
an empty memory, the held-out curve with every unit on and its text read in one go, which is why
the held-out curve can sit below the training curve; (2) "overfitting" when the held-out curve
climbs while the training curve falls (the Spanish default, a 3.5 KB story with a new model,
does that within a few hundred steps); (3) the inspector opens where the model was least sure.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from conftest import ROOT, small_model

from lstm_core import Model, ModelConfig, Vocabulary, load_checkpoint, read_text
from lstm_core.sampling import generate, least_confident
from lstm_core.text import (
    BITS_PER_NAT,
    bits_per_character,
    overfitting,
    sample_windows,
    split_held_out,
)
from lstm_core.training import TextSettings, TextTrainer
from lstm_core.training_process import TrainingProcess
from lstm_core.worker import HELD_OUT_SCORED

SCORED_EVERY = inspect.signature(TrainingProcess).parameters["eval_every"].default  # the page's

SAMPLES = ROOT / "samples"


def windows_bpc(model: Model, ids: np.ndarray, dropout: float, seed: int, batches: int = 4):
    """Bits per character on random training windows, as the trainer scores a batch: each window
    of 60 from an empty memory, dropout drawn as in training (0: every unit on)."""
    rng = np.random.default_rng(seed)
    total = []
    for _ in range(batches):
        x, y = sample_windows(ids, 60, 32, rng)
        probs = model.forward(x, None, dropout, rng).probs
        p = probs[np.arange(60)[:, None], np.arange(32)[None, :], y]
        total.append(-np.log2(np.maximum(p, 1e-30)).mean())
    return float(np.mean(total))


# ==================================================================================== the curves
def test_dropout_and_empty_memories_put_the_training_curve_above_the_held_out_one():
    """The logbook sample (the English default) at the page's 20% dropout, windows drawn with
    seeds 0-4. Measured: windows with dropout 0.43-0.46 bits per character, the same windows with
    every unit on 0.38-0.39, the training text read in one go 0.31, the held-out text 0.37. So
    the held-out curve sits below the training curve (by 0.07-0.09), and without the two
    handicaps the order is the usual one (held-out above training by 0.06): the gap is the
    measurement's, not a model that does better on text it has not seen."""
    model = load_checkpoint(SAMPLES / "logbook_h128.npz")
    text = read_text(SAMPLES / "logbook.txt").text.lower()
    body, held = split_held_out(text)
    ids = Vocabulary(model.config.vocab).encode(body).astype(np.intp)
    read_in_one_go = bits_per_character(model, body[:HELD_OUT_SCORED])[0]
    held_out = bits_per_character(model, held[:HELD_OUT_SCORED])[0]
    assert held_out > read_in_one_go + 0.02  # measured alike, the held-out text is the harder
    for seed in range(5):
        with_dropout = windows_bpc(model, ids, 0.2, seed)
        all_units = windows_bpc(model, ids, 0.0, seed)
        assert with_dropout > all_units + 0.03, seed  # dropout raises the training score
        assert all_units > read_in_one_go + 0.03, seed  # so do windows from an empty memory
        assert held_out < with_dropout - 0.02, seed  # together: held-out below the training curve


# ==================================================================================== overfitting
def curves(held: list[float], train_bits: list[float], every: int = 100):
    """A held-out curve scored every `every` steps and a training loss (nats) at every step,
    falling linearly from one value of train_bits to the next between scorings."""
    steps = np.arange(1, every * len(held) + 1)
    knots = np.arange(0, every * len(held) + 1, every)
    train = np.interp(steps, knots, [train_bits[0], *train_bits]) / BITS_PER_NAT
    return np.arange(every, every * len(held) + 1, every), np.array(held), steps, train


def test_overfitting_is_the_held_out_curve_climbing_while_training_falls():
    found = overfitting(*curves([4.0, 3.4, 3.5, 3.7], [4.2, 3.3, 2.8, 2.4]))
    assert found is not None
    assert (found.best_step, found.last_step) == (200, 400)
    assert found.best_bpc == pytest.approx(3.4) and found.last_bpc == pytest.approx(3.7)
    assert found.train_now < found.train_then - 0.3  # in bits, as the message says them


@pytest.mark.parametrize(
    ("held", "train"),
    [
        ([4.0, 3.6, 3.4, 3.3], [4.2, 3.6, 3.2, 3.0]),  # both falling: learning
        ([4.0, 3.4, 3.45, 3.5], [4.2, 3.3, 2.8, 2.4]),  # a rise within the margin
        ([4.0, 3.4, 3.42, 3.8], [4.2, 3.3, 2.8, 2.4]),  # one bad score, not a climb
        ([4.0, 3.4, 3.7, 3.9], [4.2, 3.3, 3.5, 3.8]),  # both climbing: training going wrong
        ([4.0, 3.4], [4.2, 3.3]),  # too early to tell
    ],
)
def test_overfitting_is_not_said_otherwise(held, train):
    assert overfitting(*curves(held, train)) is None


def spanish_default_run(seed: int, steps: int):
    """The Spanish page's default text, a new model at the page's defaults (128 units, windows of
    60, 32 a batch, Adam 0.002, 20% dropout), scored on the held-out tail every 100 steps as
    the page's worker does. Yields (step, what the page would say) at every scoring."""
    text = read_text(SAMPLES / "faro_es.txt").text.lower()
    body, held = split_held_out(text)
    vocab = Vocabulary.from_text(text)
    config = ModelConfig(
        "char-lm", "lstm", len(vocab), 128, 1, len(vocab), vocab=vocab.chars, lowercase=True
    )
    trainer = TextTrainer(
        Model.create(config, seed=seed), vocab.encode(body).astype(np.intp), TextSettings(seed=seed)
    )
    lx, ly, hx, hy = [], [], [], []
    for step in range(1, steps + 1):
        lx.append(step)
        ly.append(trainer.step().loss)
        if step % SCORED_EVERY == 0:
            hx.append(step)
            hy.append(bits_per_character(trainer.model, held[:HELD_OUT_SCORED])[0])
            yield step, overfitting(hx, hy, lx, ly)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_the_spanish_default_story_is_memorised_and_the_page_says_so(seed):
    """Measured, seeds 0-4: the held-out curve is lowest at step 300 (3.38-3.44 bits per
    character) and said to climb at step 500 (seed 3: 600), by then at 3.68-3.96; meanwhile the
    training batches fell by 0.75-0.99 bits. Nothing is said at step 200, while both still fall.
    (About 10 s a seed on an idle 2-core machine.)"""
    said = None
    for step, found in spanish_default_run(seed, 700):
        if step <= 200:
            assert found is None, step
        if found is not None:
            said = found
            break
    assert said is not None, "no overfitting seen in 700 steps"
    assert said.last_step <= 600
    assert said.last_bpc >= said.best_bpc + 0.15
    assert said.train_now <= said.train_then - 0.3


# ==================================================================================== the inspector
def test_least_confident_is_the_row_with_the_weakest_first_choice():
    probs = np.array([[0.999, 0.001], [0.55, 0.45], [0.7, 0.3], [0.55, 0.45]])
    assert least_confident(probs) == 1  # the first of two ties


def test_the_inspector_opens_where_temperature_matters():
    """A written text's least sure position is far less sure than its first one (which a seed
    text ending in a space makes easy): there the first choice has under half the probability."""
    model = load_checkpoint(SAMPLES / "logbook_h128.npz")
    for seed in range(5):
        raw = np.array([s.raw_probs for s in generate(model, "the keeper ", 200, 0.7, None, seed)])
        k = least_confident(raw)
        assert raw[k].max() == raw.max(axis=1).min()
        assert raw[k].max() < 0.5 < np.median(raw.max(axis=1))


def test_least_confident_on_a_tiny_model():
    model = small_model("char-lm", "lstm", 1, hidden=4, seed=0)
    raw = np.array([s.raw_probs for s in generate(model, "ab", 30, 1.0, None, 0)])
    assert raw[least_confident(raw)].max() == raw.max(axis=1).min()
