"""Reading a trace: text properties, ranking units, ordering units, the belt's flows."""

import time

import numpy as np
import pytest
from conftest import random_batch, small_model
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_core.analysis import (
    CHAR_CLASSES,
    REGEX_PROBLEMS,
    PropertyError,
    belt_flow,
    classes_in,
    compile_pattern,
    correlations,
    inside_quotes,
    lagged,
    leading_units,
    order_units,
    paren_depth,
    rank_units,
    regex_matches,
    since_newline,
    text_property,
    word_position,
)


def test_properties_of_a_text():
    text = 'he said "hi (there)" and\nleft'
    q = inside_quotes(text)
    assert "".join(ch for ch, v in zip(text, q, strict=True) if v) == '"hi (there)"'
    assert paren_depth(text)[text.index("t")] == 1 and paren_depth(text)[-1] == 0
    wp = word_position(text)
    assert wp[0] == 0 and wp[1] == 1 and wp[2] == -1  # "he", then a space
    nl = since_newline(text)
    assert nl[text.index("\n")] == 0 and nl[text.index("\n") + 1] == 1 and nl[0] == 1
    assert regex_matches(text, r"\(.*?\)").sum() == len("(there)")


def test_typographic_quotes_and_nested_parentheses():
    assert inside_quotes("a “b” c").tolist() == [0, 0, 1, 1, 1, 0, 0]
    assert inside_quotes("«x» y").tolist() == [1, 1, 1, 0, 0]
    assert paren_depth("((a)b)").tolist() == [1, 2, 2, 2, 1, 1]


@pytest.mark.parametrize("cls", CHAR_CLASSES)
def test_every_character_class(cls):
    values = text_property("Año 1: ¡sí! (Ok)", "char_class", cls)
    assert values.shape == (16,) and set(np.unique(values)) <= {0.0, 1.0} and values.sum() > 0


@pytest.mark.parametrize(
    "pattern, reason",
    [
        ("(", "not a valid regular expression"),
        ("", "empty"),
        ("(a+)+$", "repetition inside repetition"),
        ("(a|aa)*b", "repetition inside repetition"),
        (r"(\w+\s?)+$", "repetition inside repetition"),
        ("x" * 300, "longer than"),
    ],
)
def test_bad_regular_expressions_get_one_line(pattern, reason):
    with pytest.raises(PropertyError, match=reason) as info:
        compile_pattern(pattern)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "pattern, code, at",
    [
        ("[abc", "regex_invalid_set", 1),
        ("x(ab", "regex_invalid_group", 2),
        ("ab)", "regex_invalid_unbalanced", 3),
        ("*a", "regex_invalid_nothing_to_repeat", 1),
        ("a**", "regex_invalid_multiple_repeat", 3),
        (r"\q", "regex_invalid_escape", 1),
        ("[z-a]", "regex_invalid_range", 2),
        ("a{2,1}", "regex_invalid", 3),
        ("(?<=a+)b", "regex_invalid_somewhere", None),
    ],
)
def test_the_usual_regex_mistakes_have_codes_the_app_can_translate(pattern, code, at):
    """Python's message is English; the code and the character (counted from 1) are not."""
    with pytest.raises(PropertyError) as info:
        compile_pattern(pattern)
    assert info.value.code == code and info.value.params["at"] == at


def test_every_regex_mistake_is_said_in_both_languages():
    from ui.i18n import LANGUAGES, catalog

    codes = {"regex_invalid", "regex_invalid_somewhere"} | {
        f"regex_invalid_{c}" for c in REGEX_PROBLEMS.values()
    }
    for lang in LANGUAGES:
        assert codes <= {k.split(".", 1)[1] for k in catalog(lang) if k.startswith("errors.")}, lang


def test_only_the_character_classes_an_alphabet_has():
    assert "uppercase" not in classes_in("abc .,\n") and "digit" not in classes_in("abc")
    assert classes_in("Ab1 ,") == CHAR_CLASSES  # every class occurs
    assert classes_in("") == ()


def test_harmless_regular_expressions_pass_and_run_fast():
    for pattern in (r'"[^"]*"', r"\d+", "[aeiou]", r"\bthe\b", "(ab)+", r"a{2,5}", r"(?i)keeper"):
        compile_pattern(pattern)
    t0 = time.perf_counter()
    regex_matches("a" * 400 + "b", r'"[^"]*"')
    assert time.perf_counter() - t0 < 1.0


@settings(max_examples=200, deadline=2000)
@given(st.text(max_size=30))
def test_any_pattern_compiles_or_fails_with_one_line(pattern):
    try:
        compiled = compile_pattern(pattern)
    except PropertyError as exc:
        assert "\n" not in str(exc)
    else:
        regex_matches('the keeper said: "why?" (1931)\n' * 8, compiled.pattern)


def test_ranking_finds_the_unit_that_was_built_to_track_the_property(rng):
    """A constructed trace: unit 7 follows the property (plus noise), unit 2 follows its negative."""
    text = 'outside "inside the quote" outside again "and inside" end'
    prop = inside_quotes(text)
    T, H = len(text), 12
    values = rng.standard_normal((T, H)) * 0.5
    values[:, 7] = 2.0 * prop + 0.1 * rng.standard_normal(T)
    values[:, 2] = -prop + 0.3 * rng.standard_normal(T)
    values[:, 5] = 3.0  # a flat unit: r = 0, never an error
    ranking = rank_units(values, prop)
    assert ranking.order[0] == 7 and ranking.order[1] == 2
    assert ranking.r[7] > 0.95 and ranking.r[2] < -0.7 and ranking.r[5] == 0.0
    np.testing.assert_allclose(ranking.r[7], np.corrcoef(values[:, 7], prop)[0, 1])
    with pytest.raises(ValueError):
        correlations(values[:-1], prop)


def test_the_units_that_follow_the_facts_lead_the_order(rng):
    """Each fact's best unit comes first, in the facts' order, a unit never twice; a fact the
    input does not vary is skipped; the other units follow, each once."""
    text = 'a "quote (with [a remark]) here" and (more) text'
    quotes, parens = inside_quotes(text), paren_depth(text)
    T, H = len(text), 9
    values = rng.standard_normal((T, H)) * 0.3
    values[:, 6] = quotes + 0.05 * rng.standard_normal(T)
    values[:, 3] = -parens + 0.05 * rng.standard_normal(T)
    order, leaders = leading_units(
        values, values, {"quotes": quotes, "flat": np.zeros(T), "parens": parens}
    )
    assert [(name, unit) for name, unit, _ in leaders] == [("quotes", 6), ("parens", 3)]
    assert leaders[0][2] > 0.95 and leaders[1][2] < -0.95  # the sign is kept
    assert list(order[:2]) == [6, 3] and sorted(order) == list(range(H))
    # the same fact twice: its second-best unit, not the same one again
    _, twice = leading_units(values, values, {"a": quotes, "b": quotes})
    assert twice[0][1] == 6 and twice[1][1] != 6
    order, none = leading_units(values, values, {})
    assert none == [] and sorted(order) == list(range(H))


def test_the_trained_echo_model_holds_the_bit_waiting_to_be_echoed():
    """On the real echo LSTM, some unit follows x_{t-3} closely."""
    from lstm_core import EchoConfig, EchoTrainer

    trainer = EchoTrainer(EchoConfig(num_epochs=3, seed=0))
    trainer.train_until(0.99)
    bits = np.random.default_rng(5).integers(0, 2, (1, 200))
    trace = trainer.model.run(bits)
    ranking = rank_units(trace.layers[0].c[1:, 0], lagged(bits[0], 3))
    assert abs(ranking.r[ranking.order[0]]) > 0.7


def test_lagged_bits():
    assert lagged(np.array([1, 0, 1, 1]), 2).tolist() == [0, 0, 1, 0]
    assert lagged(np.array([1, 0, 1]), 0).tolist() == [1, 0, 1]
    assert lagged(np.array([1, 0]), 5).tolist() == [0, 0]


def test_unit_orders(rng):
    T = 60
    base = rng.standard_normal((T, 3))
    # units 0, 3, 6 follow base[:, 0]; 1, 4, 7 follow base[:, 1]; 2, 5, 8 follow base[:, 2]
    values = np.stack(
        [base[:, k % 3] * (1 + 0.1 * k) + 0.01 * rng.standard_normal(T) for k in range(9)], axis=1
    )
    values[:, 8] *= 10  # the most active unit
    assert order_units(values, "index").tolist() == list(range(9))
    assert order_units(values, "activity")[0] == 8
    order = order_units(values, "cluster")
    assert sorted(order.tolist()) == list(range(9))
    groups = [order.tolist().index(k) for k in range(9)]
    for g in range(3):  # each family of three sits together
        positions = sorted(groups[g::3])
        assert positions[-1] - positions[0] == 2
    with pytest.raises(ValueError):
        order_units(values, "alphabetical")


def test_belt_flow_balances():
    model = small_model("char-lm", "lstm", 1, hidden=4, seed=2)
    x, _ = random_batch(model, B=2, T=9)
    layer = model.run(x).layers[0]
    for unit in range(4):
        fl = belt_flow(layer, 1, unit)
        np.testing.assert_allclose(fl.c_prev - fl.removed + fl.added, fl.c, atol=1e-12)
        np.testing.assert_allclose(fl.kept + fl.removed, fl.c_prev, atol=1e-12)
        np.testing.assert_allclose(fl.c_prev[1:], fl.c[:-1])
