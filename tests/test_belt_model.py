"""The belt's own model (samples/belt_h32.npz, trained on samples/belt.txt): what samples/README.md
says of its units, measured on generated text it never saw, against the same network untrained;
and the belt page, opened on it, leading with those units."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT
from test_app import assert_clean, open_app
from test_belt import chart

import lstm_core
from lstm_core import Model
from lstm_core.analysis import leading_units, rank_over_texts, text_property
from lstm_core.belt_corpus import belt_inputs
from lstm_core.inputs import prepare_input
from ui import models, samples
from ui.i18n import LANGUAGES, catalog, t

PATH = ROOT / "samples" / samples.BELT_MODELS["belt"]
UNSEEN = 4242  # a corpus seed other than the training text's 1931

# (language, fact): the best single unit's |r| on c at least, and the untrained network's best
# (seeds 0-4) at most. Measured: English quotes 0.64 against 0.18-0.23, Spanish quotes 0.80
# against 0.19-0.27, English brackets 0.46 against 0.12-0.19, Spanish brackets 0.58 against
# 0.16-0.21 (samples/README.md). Short of the 0.9: see the README.
CLAIMS = {
    ("en", "quotes"): (0.58, 0.30),
    ("es", "quotes"): (0.72, 0.33),
    ("en", "parens"): (0.40, 0.25),
    ("es", "parens"): (0.52, 0.28),
}


@pytest.fixture(scope="module")
def model() -> Model:
    return lstm_core.load_checkpoint(PATH)


@pytest.fixture(scope="module")
def unseen() -> dict[str, list[str]]:
    """Page-sized inputs of unseen text, by language (the Spanish scenes have no " the ")."""
    texts = belt_inputs(UNSEEN, 40_000)
    return {
        "en": [x for x in texts if " the " in x],
        "es": [x for x in texts if " the " not in x],
    }


def best(model: Model, texts: list[str], fact: str) -> float:
    ranking = rank_over_texts(model, texts, fact)
    return float(abs(ranking.r[ranking.order[0]]))


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "fact"), sorted(CLAIMS))
def test_single_units_follow_the_facts_and_untrained_ones_do_not(model, unseen, lang, fact):
    least, untrained_most = CLAIMS[lang, fact]
    texts = unseen[lang]
    assert len(texts) > 20
    assert best(model, texts, fact) >= least
    for seed in range(5):
        twin = Model.create(model.config, seed=seed)
        assert best(twin, texts, fact) <= untrained_most, seed


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_on_the_belt_model_leads_with_those_units(model, lang):
    """Its example in the page's language, the facts-first order: the page names the unit on top
    and its r, the very numbers the engine finds on that example."""
    example = models.belt_example(model, "belt", lang)
    seq = prepare_input(model, example, limit=400)
    assert not seq.dropped and len(seq.tokens) == len(example)  # the example is all it reads
    layer = model.run(seq.ids).layers[0]
    props = {name: text_property(example, name) for name in ("quotes", "parens")}
    _, leaders = leading_units(layer.c[1:, 0], layer.h[1:, 0], props)
    assert [name for name, _, _ in leaders] == ["quotes", "parens"]  # both facts vary in it
    at = open_app("belt", lang=lang, belt_model="belt")
    assert_clean(at)
    head = catalog(lang)["belt.leaders"].split("{")[0]
    (line,) = [m.value for m in at.markdown if m.value.startswith(head)]
    value = t("belt.track_c", lang=lang)
    for name, unit, r in leaders:
        prop = t(f"belt.property_{name}", lang=lang)
        assert t("belt.leader", lang=lang, unit=unit, prop=prop, r=r, value=value) in line
    assert at.session_state["belt_unit"] == leaders[0][1]  # "One unit" opens on it
    assert np.isfinite([r for _, _, r in leaders]).all()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_unit_on_top_is_blue_before_the_quotation_pale_through_it_blue_after(model, lang):
    """What the page ("where to look") and lesson step 4 say of the example: the row of the unit
    that leads the heatmaps (drawn under the quotation's grey bar, on its own scale) is blue
    through the line before the quotation, pale through most of it from its first words, blue
    again soon after it closes, and sinks through the brackets. Measured (unit 26, c):
    English -2.61 before (after its first ten steps: the belt starts at 0), -0.61 inside (74%
    of it above -1), -1.76 after, -3.1 in the note; Spanish -2.59, -0.11 (94%), -2.76, -4.3 to
    -5.8."""
    example = models.belt_example(model, "belt", lang)
    seq = prepare_input(model, example, limit=400)
    layer = model.run(seq.ids).layers[0]
    quotes, depth = (text_property(example, name) for name in ("quotes", "parens"))
    _, leaders = leading_units(layer.c[1:, 0], layer.h[1:, 0], {"quotes": quotes, "parens": depth})
    c = layer.c[1:, 0, leaders[0][1]]
    opens = int(np.argmax(quotes > 0))
    closes = len(quotes) - int(np.argmax(quotes[::-1] > 0))  # one past the quotation's end
    note = int(np.argmax(depth > 0))
    assert 30 < opens < closes < note  # a line told, the quotation, a line told, the note
    said, before, after = c[opens:closes], c[10:opens], c[closes:note]
    assert said.mean() > before.mean() + 1.5
    assert (said > -1).mean() > 0.6  # pale through most of it
    assert said.mean() > after.mean() + 0.8
    assert c[depth > 0].mean() < after.mean() - 0.5  # it sinks through the brackets
    # on its own scale (the page's), blue a fifth of the way to full blue or more, pale near 0
    # (measured: English -0.46 and -0.11, Spanish -0.27 and -0.01: the note's -9.5 sets its scale)
    scale = np.abs(c).max()
    assert before.mean() / scale < -0.2 and abs(said.mean()) / scale < 0.15


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_draws_the_facts_above_the_heatmaps_and_says_where_to_look(model, lang):
    """At its default the page draws the quotation and the brackets above the heatmaps, each
    with the unit that follows it under it (the units the guide names), and its guide says what
    the example shows; a text of one's own gets the guide without the example's sentence."""
    at = open_app("belt", lang=lang)
    assert_clean(at)
    example = models.belt_example(model, "belt", lang)
    layer = model.run(prepare_input(model, example, limit=400).ids).layers[0]
    props = {name: text_property(example, name) for name in ("quotes", "parens")}
    _, leaders = leading_units(layer.c[1:, 0], layer.h[1:, 0], props)
    overview = chart(at, "belt_overview")
    titles = [a["text"] for a in overview["layout"]["annotations"]]
    value = t("belt.track_c", lang=lang)
    for name, unit, r in leaders:
        prop = t(f"belt.property_{name}", lang=lang)
        assert t("belt.fact_row", lang=lang, prop=prop, unit=unit, r=r, value=value) in titles
    assert overview["layout"]["yaxis"]["ticktext"] == [str(u) for _, u, _ in leaders]
    bars = "; ".join(t(f"belt.bar_{name}", lang=lang) for name in ("quotes", "parens"))
    guide = t("belt.where_to_look", lang=lang, value=value, bars=bars)
    here = t("belt.where_to_look_belt", lang=lang, unit=leaders[0][1])
    assert any(m.value == f"{guide} {here}" for m in at.markdown)
    at.text_area(key="belt_text").set_value('He said, "Marta Counts The Rope." ' * 3).run()
    only_quotes = t(
        "belt.where_to_look", lang=lang, value=value, bars=t("belt.bar_quotes", lang=lang)
    )
    assert any(m.value == only_quotes for m in at.markdown)  # no brackets: one bar, said so
    assert not any(here in m.value for m in at.markdown)
