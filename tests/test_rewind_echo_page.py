"""The echo page's training-time slider, headless, in both languages: at the last kept step the
live models' numbers, at an earlier one the models as they were (both of a pair at one step),
Play walks the kept steps, and the link points at a step (garbage: one warning)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from test_app import assert_clean, open_app, url
from test_rewind_pages import array, chart, time_slider

from lstm_core.echo import echo_accuracy
from lstm_core.history import model_at
from lstm_core.rewind_echo import carry_rows, view_at, window_view
from ui import rewind as rewind_ui
from ui.i18n import LANGUAGES, num, t

SLIDER = "echo_at_step"


def trained(lang: str = "en", steps: int = 300, **query):
    """The echo page (the notebook's small setup, or `query`'s), trained `steps` and paused."""
    at = open_app("echo", lang=lang, **query)
    assert_clean(at)
    assert not [s for s in at.select_slider if s.key.startswith(SLIDER)]  # nothing kept yet
    at.button(key="echo_train").click().run()
    run = at.session_state["echo.run"]
    for _ in range(300):
        if min(tr.steps_done for tr in run.trainers.values()) >= steps:
            break
        at.run()  # one tick: a training slice
    at.button(key="echo_pause").click().run()
    assert_clean(at)
    return at, run


def bars(at, key: str, model: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The (input, prediction) bar heights of a model's panel in the bars figure."""
    data = chart(at, key)["data"]
    return array(data[3 * model]["y"]), array(data[3 * model + 2]["y"])


def shown_accuracy(at, lang: str, cell: str, step: int) -> str:
    label = t("rewind.echo_accuracy", lang=lang, cell=t(f"echo.cell_{cell}", lang=lang), step=step)
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_slider_ends_at_the_live_model_and_goes_back(lang):
    at, run = trained(lang)
    tr = run.trainers["lstm"]
    history = tr.history
    slider = time_slider(at, SLIDER)
    assert slider.value == history.steps[-1] == tr.steps_done  # the latest: the live model
    assert url(at).get(SLIDER) is None  # the page's own default: not in the link
    live = window_view(tr.model, *tr.last_input())
    rows = 5  # the bars show the first five series
    x, pred = bars(at, "echo_rewind_bars")
    np.testing.assert_array_equal(x, live.x[:, :rows].T.reshape(-1).astype(np.float32))
    np.testing.assert_array_equal(
        pred, (live.prediction[:, :rows].T.reshape(-1) * 0.3).astype(np.float32)
    )
    z = array(chart(at, "echo_rewind_states")["data"][0]["z"])
    np.testing.assert_array_equal(z, live.state[:, 0].T.astype(np.float32))  # series 0
    accuracy = echo_accuracy(tr.model, tr.config, length=5000)
    assert shown_accuracy(at, lang, "lstm", slider.value) == num(accuracy, ".1%", lang)
    carry = chart(at, "echo_rewind_carry")
    assert carry["layout"]["shapes"][-1]["y0"] == len(array(carry["data"][0]["z"])) - 1.5

    j = carry_rows(history)[1]  # an early step, a row of the carry figure
    step = history.steps[j]
    time_slider(at, SLIDER).set_value(step).run()
    assert_clean(at)
    assert url(at)[SLIDER] == str(step)
    then = view_at(tr.model, history, j, tr.last_input())
    z = array(chart(at, "echo_rewind_states")["data"][0]["z"])
    np.testing.assert_array_equal(z, then.state[:, 0].T.astype(np.float32))
    assert not np.array_equal(then.state, live.state)
    early = echo_accuracy(model_at(tr.model, history, j), tr.config, length=5000)
    assert shown_accuracy(at, lang, "lstm", step) == num(early, ".1%", lang)
    assert early < accuracy  # it knew less then
    assert chart(at, "echo_rewind_carry")["layout"]["shapes"][-1]["y0"] == 0.5  # its row: 1


def test_both_models_of_a_pair_follow_the_slider():
    at, run = trained(compare="true", steps=200)
    assert set(run.trainers) == {"rnn", "lstm"}
    time_slider(at, SLIDER).set_value(7).run()
    assert_clean(at)
    data = chart(at, "echo_rewind_states")["data"]
    for k, (name, tr) in enumerate(run.trainers.items()):
        assert 7 in tr.history.steps
        then = view_at(tr.model, tr.history, tr.history.steps.index(7), tr.last_input())
        np.testing.assert_array_equal(array(data[k]["z"]), then.state[:, 0].T.astype(np.float32))
        shown = shown_accuracy(at, "en", name, 7)
        assert shown == num(
            echo_accuracy(
                model_at(tr.model, tr.history, tr.history.steps.index(7)), tr.config, length=5000
            ),
            ".1%",
        )
    assert len(chart(at, "echo_rewind_carry")["data"]) == 2  # a panel per model


def test_play_walks_every_kept_step_and_stops(monkeypatch):
    monkeypatch.setattr(rewind_ui, "VIEW_EVERY", 0.05)
    at, run = trained(steps=1)  # a tick or two: some fifty kept steps
    steps = list(run.trainers["lstm"].history.steps)
    at.button(key="echo_rewind_play").click().run()
    seen = [time_slider(at, SLIDER).value]  # the run Play causes: the first kept step
    assert at.button(key="echo_rewind_play").label == "Stop"
    for _ in range(len(steps) + 3):
        time.sleep(0.06)
        at.run()  # one tick of the view's timer
        seen.append(time_slider(at, SLIDER).value)
        if not at.session_state[f"_rewind.playing.echo.{SLIDER}"]:
            break
    assert_clean(at)
    assert list(dict.fromkeys(seen)) == steps  # every kept step, in order, to the last
    assert at.button(key="echo_rewind_play").label == "Play"  # and it stopped there


def test_a_links_step_waits_for_training_then_opens_there():
    at = open_app("echo", echo_at_step=5)
    assert_clean(at)
    assert any("step 5" in c.value for c in at.caption)  # it waits for training to get there
    assert not at.warning
    at.button(key="echo_train").click().run()
    run = at.session_state["echo.run"]
    while run.trainers["lstm"].steps_done < 100:
        at.run()
    at.button(key="echo_pause").click().run()
    assert_clean(at)
    assert time_slider(at, SLIDER).value == 5 and url(at)[SLIDER] == "5"


@pytest.mark.parametrize("garbage", ["abc", "-4", "1e99", "5&echo_at_step=6"])
def test_garbage_in_the_link_gives_one_warning(garbage):
    at = open_app("echo", echo_at_step=garbage)
    assert_clean(at)
    assert len(at.warning) == 1 and SLIDER in at.warning[0].value


def test_the_latest_step_is_said_to_be_the_live_model_only_when_it_is():
    at, run = trained(steps=50)
    tr = run.trainers["lstm"]
    latest = t("rewind.echo_latest", lang="en")
    assert any(latest in m.value for m in at.markdown)
    np.testing.assert_array_equal(tr.history.weights[-1], tr.model.flat.astype(np.float32))
    diverged = open_app("echo", learning_rate=1000)  # stops within a few steps
    diverged.button(key="echo_train").click().run()
    for _ in range(3):
        diverged.run()
    assert_clean(diverged)
    run = diverged.session_state["echo.run"]
    assert run.trainers["lstm"].status == "diverged"
    assert time_slider(diverged, SLIDER).value == run.trainers["lstm"].history.steps[-1]
    # it went back to its last good weights: the latest kept step is not what it is now, and the
    # page does not say it is
    assert not any(latest in m.value for m in diverged.markdown)
