"""The page "Backpropagation through time" headless, in both languages: every control, the
truncation toggle, clipping, the gradient check, the URL."""

import pytest
from test_app import assert_clean, charts, open_app, url

from ui.i18n import LANGUAGES


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("task", ["echo", "text"])
def test_the_page_draws_both_models(lang, task):
    at = open_app("bptt", lang=lang, bptt_task=task)
    assert_clean(at)
    assert len(at.latex) == 4  # equations 7-10
    heat, decay, clip = charts(at)
    assert [d["type"] for d in heat["data"]] == ["heatmap"] * 3
    assert len(decay["data"]) == 3 and len(clip["data"]) == 3
    assert not at.error


def test_settings_go_to_the_url_and_come_back():
    at = open_app("bptt", bptt_length=40, bptt_hidden=16, bptt_scale=0.5, bptt_forget=2, bptt_window=10,
                  bptt_echo_step=5, bptt_steps=100)  # fmt: skip
    assert_clean(at)
    mirrored = url(at)
    for key, value in {"bptt_length": "40", "bptt_hidden": "16", "bptt_scale": "0.5", "bptt_forget": "2",
                       "bptt_window": "10", "bptt_echo_step": "5", "bptt_steps": "100"}.items():  # fmt: skip
        assert mirrored[key] == value, (key, mirrored)
    heat = charts(at)[0]
    assert (
        len(heat["layout"]["shapes"]) == 3 * 3
    )  # windows of 10 in 40 steps: 3 cut regions a panel


def test_a_window_as_long_as_the_echo_says_it_cannot_learn():
    at = open_app("bptt", bptt_echo_step=20, bptt_window=15)
    assert any("cannot learn the echo" in m.value for m in at.markdown)
    at = open_app("bptt", lang="es", bptt_echo_step=3, bptt_window=15)
    assert any("20 %" in m.value or "20%" in m.value for m in at.markdown)


def test_truncation_toggle_zeroes_what_is_cut():
    at = open_app("bptt", bptt_length=40, bptt_window=10)
    before = charts(at)[0]["data"][0]["z"]
    at.toggle(key="bptt_truncated").set_value(True).run()
    assert_clean(at)
    after = charts(at)[0]["data"][0]["z"]
    assert before != after


def test_make_it_explode_then_clip():
    at = open_app("bptt")
    assert at.info  # nothing to clip at scale 1
    at.button(key="bptt_explode").click().run()
    assert_clean(at)
    assert at.slider(key="bptt_scale").value > 1
    assert not at.info
    norm = float(at.metric[3].value)
    assert norm > 50


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_gradient_check_passes_and_is_forgotten_when_the_model_changes(lang):
    at = open_app("bptt", lang=lang, bptt_hidden=8, bptt_length=30)
    at.button(key="bptt_gradcheck").click().run()
    assert_clean(at)
    assert len(at.success) == 1 and not at.error
    values = [float(m.value) for m in at.metric[-2:]]
    assert max(values) < 1e-6
    at.slider(key="bptt_hidden").set_value(10).run()
    assert not at.success  # the check was for the previous models


def test_garbage_in_the_url_is_a_warning():
    at = open_app("bptt", bptt_task="lstm", bptt_length="-5", bptt_scale="huge", bptt_steps="7")
    assert_clean(at)
    assert len(at.warning) >= 4
    assert at.radio(key="bptt_task").value == "echo"
