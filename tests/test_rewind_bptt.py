"""The BPTT page's training-time slider, headless: the pair's history keeps its budget and the
same steps for both; at the last kept step the maps are the trained pair's, at an earlier one
the pair's as it was; the link points at a step (garbage, or a step without a history: one
warning)."""

from __future__ import annotations

import numpy as np
import pytest
from test_app import assert_clean, open_app, url
from test_rewind_pages import array, chart, time_slider

from lstm_core.bptt import adjusted, check_pairs, gradient_flow
from lstm_core.budget import BPTT_HISTORY
from lstm_core.history import model_at
from ui import bptt_models
from ui.figures import bptt as figs
from ui.i18n import LANGUAGES, t

SLIDER = "bptt_at_step"
SETTINGS = {"bptt_steps": 100, "bptt_hidden": 16, "bptt_length": 40, "bptt_echo_step": 3}
LABELS = dict.fromkeys(("rnn_h", "lstm_h", "lstm_c", "k_axis", "t_axis", "colorbar"), "")
LABELS |= {"hover": "%{z}", "cut_hover": "%{z}"}


def heat_of(pair: dict, seed: int = 0) -> np.ndarray:
    """The first panel of the page's heat maps, computed here for `pair` (the page's defaults
    otherwise: no scale, no forget shift, no truncation)."""
    lstm = adjusted(pair["lstm"])
    rnn = adjusted(pair["rnn"])
    inputs, targets = bptt_models.sequence("echo", lstm, 40, 3, seed)
    keep = check_pairs(len(inputs), None)
    flows = {
        "rnn": gradient_flow(rnn, inputs, targets, None, keep),
        "lstm": gradient_flow(lstm, inputs, targets, None, keep),
    }
    panels = {"rnn_h": flows["rnn"].dh, "lstm_h": flows["lstm"].dh, "lstm_c": flows["lstm"].dc}
    return np.asarray(figs.flow_heatmaps(panels, 15, LABELS).data[0].z, np.float32)


def test_the_pairs_history_keeps_its_budget_and_the_same_steps():
    bptt_models.pair("echo", 16, 100, 3, 0)  # trained to 100 steps (cached, shared)
    kept = bptt_models.rewindable("echo", 16, 100, 3, 0)
    rnn, gru, lstm = kept["rnn"].history, kept["gru"].history, kept["lstm"].history
    assert rnn.steps == gru.steps == lstm.steps and rnn.steps[0] == 0 and rnn.steps[-1] == 100
    assert rnn.nbytes + gru.nbytes + lstm.nbytes <= BPTT_HISTORY  # the three share the budget
    np.testing.assert_array_equal(lstm.weights[-1], kept["lstm"].flat.astype(np.float32))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_slider_shows_the_gradient_maps_at_a_training_step(lang):
    at = open_app("bptt", lang=lang, **SETTINGS)
    assert_clean(at)
    slider = time_slider(at, SLIDER)
    assert slider.value == 100 and url(at).get(SLIDER) is None  # the pair as trained
    assert not at.info or all("step" not in i.value for i in at.info)
    pair = bptt_models.pair("echo", 16, 100, 3, 0).models
    live = heat_of(pair)
    np.testing.assert_array_equal(array(chart(at, "bptt_heatmaps")["data"][0]["z"]), live)

    time_slider(at, SLIDER).set_value(4).run()
    assert_clean(at)
    assert url(at)[SLIDER] == "4"
    kept = bptt_models.rewindable("echo", 16, 100, 3, 0)
    then = {n: model_at(m, m.history, m.history.steps.index(4)) for n, m in kept.items()}
    early = heat_of(then)
    shown = array(chart(at, "bptt_heatmaps")["data"][0]["z"])
    np.testing.assert_array_equal(shown, early)
    assert not np.array_equal(shown, live, equal_nan=True)
    said = t("rewind.bptt_at", lang=lang, step=4, steps=100)
    assert any(i.value == said for i in at.info)


def test_a_link_opens_the_page_at_a_training_step():
    at = open_app("bptt", bptt_at_step=7, **SETTINGS)
    assert_clean(at)
    assert time_slider(at, SLIDER).value == 7 and not at.warning


@pytest.mark.parametrize(
    "query",
    [
        {"bptt_at_step": "abc", **SETTINGS},
        {"bptt_at_step": "-3", **SETTINGS},
        {"bptt_at_step": "40"},
    ],
)
def test_garbage_or_an_untrained_pair_gives_one_warning(query):
    at = open_app("bptt", **query)  # the last: no training steps chosen, so no history
    assert_clean(at)
    assert len(at.warning) == 1 and SLIDER in at.warning[0].value
