"""Generation: state carried from the prime, temperature, top-k, seeds, and what each step yields."""

import numpy as np
import pytest
from conftest import small_model

from lstm_core import LSTMStep, TextError, generate, generate_text, reshape_distribution


def text_model(seed=0):
    return small_model("char-lm", "lstm", 2, hidden=8, seed=seed)


def test_temperature_zero_is_greedy_and_deterministic():
    model = text_model()
    a = generate_text(model, "abc", 40, temperature=0, seed=1)
    b = generate_text(model, "abc", 40, temperature=0, seed=2)
    assert a == b and len(a) == 40
    for s in generate(model, "abc", 10, temperature=0):
        assert s.index == int(np.argmax(s.raw_probs))
        assert s.probs[s.index] == 1.0


def test_seed_makes_sampling_reproducible():
    model = text_model()
    assert generate_text(model, "ab", 60, seed=7) == generate_text(model, "ab", 60, seed=7)
    runs = {generate_text(model, "ab", 60, seed=s) for s in range(5)}
    assert len(runs) > 1


def test_top_k_one_is_greedy():
    model = text_model()
    assert generate_text(model, "dead", 30, top_k=1, seed=3) == generate_text(
        model, "dead", 30, temperature=0
    )


def test_state_is_carried_not_re_read():
    """The distributions yielded step by step equal one forward pass over prime + continuation."""
    model = text_model(seed=4)
    prime = "abcab"
    steps = list(generate(model, prime, 25, seed=0))
    full = prime + "".join(s.char for s in steps)
    ids = np.array([model.config.vocab.index(ch) for ch in full])
    probs = model.run(ids[None, :]).probs[:, 0]
    for k, s in enumerate(steps):
        np.testing.assert_allclose(s.raw_probs, probs[len(prime) - 1 + k], atol=1e-10)


def test_each_step_yields_its_records():
    model = text_model()
    s = next(iter(generate(model, "a", 3, seed=0)))
    assert len(s.steps) == 2 and all(isinstance(r, LSTMStep) for r in s.steps)
    assert s.steps[0].h.shape == (1, 8)
    assert abs(s.probs.sum() - 1) < 1e-6 and abs(s.raw_probs.sum() - 1) < 1e-6
    later = list(generate(model, "a", 3, seed=0))
    assert later[1].steps[0].h is not later[2].steps[0].h  # records are not overwritten


def test_sampling_follows_the_distribution():
    """With no recurrence the distribution is fixed: frequencies must match it."""
    model = small_model("char-lm", "lstm", 1, hidden=4, seed=9)
    model.p["W0"][:] = 0.0  # output no longer depends on the input or the state
    n = 6000
    draws = list(generate(model, "a", n, seed=1))
    p = draws[0].probs
    freq = np.bincount([d.index for d in draws], minlength=len(p)) / n
    assert np.abs(freq - p).max() < 4 * np.sqrt(p.max() / n)


def test_temperature_sharpens_and_flattens():
    logits = np.array([2.0, 1.0, 0.0, -1.0])

    def entropy(p):
        return -(p * np.log(p)).sum()

    cold, normal, hot = (reshape_distribution(logits, t) for t in (0.5, 1.0, 2.0))
    assert entropy(cold) < entropy(normal) < entropy(hot)
    np.testing.assert_allclose(normal, np.exp(logits) / np.exp(logits).sum())
    top2 = reshape_distribution(logits, 1.0, top_k=2)
    assert (top2 > 0).sum() == 2 and abs(top2.sum() - 1) < 1e-12


def test_bad_generation_requests():
    model = text_model()
    with pytest.raises(TextError, match="'z'"):
        list(generate(model, "abz", 5))
    with pytest.raises(TextError, match="empty"):
        list(generate(model, "", 5))
    with pytest.raises(ValueError, match="temperature"):
        list(generate(model, "a", 5, temperature=-1))
    with pytest.raises(ValueError, match="top_k"):
        list(generate(model, "a", 5, top_k=0))
    echo = small_model("echo")
    with pytest.raises(ValueError, match="character model"):
        list(generate(echo, "a", 5))


def test_lowercase_model_lowercases_the_prime():
    model = text_model().with_config(lowercase=True)
    assert len(generate_text(model, "ABC", 5, seed=0)) == 5
