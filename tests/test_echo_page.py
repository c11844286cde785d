"""The page "Echo task" headless: the training keys, ticks, the URL, presets, bad settings."""

import pytest
from test_app import assert_clean, charts, open_app, url

from ui.i18n import LANGUAGES


def run_of(at):
    return at.session_state["echo.run"]


def tick(at, n: int = 1):
    """Each AppTest run is one tick of the live fragment (run_every never fires headless)."""
    for _ in range(n):
        at.run()
    return at


@pytest.mark.parametrize("lang", LANGUAGES)
def test_train_ticks_pause_step_reset(lang):
    at = open_app("echo", lang=lang)
    assert_clean(at)
    assert len(charts(at)) == 1 and at.info  # the curves, empty, and "press Train"
    at.button(key="echo_train").click().run()
    assert run_of(at).running
    tick(at, 12)
    assert_clean(at)
    lstm = run_of(at).trainers["lstm"]
    assert lstm.steps_done > 100
    assert at.metric[0].value.endswith("%") and float(at.metric[0].value.rstrip("%")) > 90
    assert len(charts(at)) == 3  # curves, the notebook's bars, the window's state
    at.button(key="echo_pause").click().run()
    assert not run_of(at).running
    done = lstm.steps_done
    tick(at, 2)
    assert lstm.steps_done == done  # paused: nothing moves
    at.button(key="echo_step_once").click().run()
    assert lstm.steps_done == done + 1
    assert at.get("download_button")  # a paused, trained model can be downloaded
    at.button(key="echo_train").click().run()
    tick(at, 2)
    assert lstm.steps_done > done + 1  # Train goes on from where it was
    at.button(key="echo_reset").click().run()
    assert run_of(at).trainers["lstm"].steps_done == 0 and not run_of(at).running
    assert_clean(at)


def test_side_by_side_on_the_same_data():
    at = open_app("echo", compare="true", echo_step=4, num_epochs=2)
    at.button(key="echo_train").click().run()
    tick(at, 6)
    assert_clean(at)
    trainers = run_of(at).trainers
    assert set(trainers) == {"rnn", "lstm"}
    assert trainers["rnn"].steps_done > 0 and trainers["lstm"].steps_done > 0
    assert len(at.metric) == 2
    bars = charts(at)[1]
    assert {d["xaxis"] for d in bars["data"]} == {"x", "x2"}  # one column per model


def test_url_round_trip_with_the_notebooks_names():
    setup = {"cell": "rnn", "echo_step": "5", "truncated_backprop_length": "20", "state_size": "8",
             "batch_size": "4", "total_series_length": "20000", "num_epochs": "7", "optimizer": "adam",
             "learning_rate": "0.01", "seed": "3", "lang": "es"}  # fmt: skip
    at = open_app("echo", **setup)
    assert_clean(at)
    assert url(at) == setup
    config = run_of(at).trainers["rnn"].config
    assert (config.echo_step, config.truncated_backprop_length, config.state_size, config.batch_size,
            config.total_series_length, config.num_epochs, config.optimizer, config.learning_rate,
            config.seed) == (5, 20, 8, 4, 20000, 7, "adam", 0.01, 3)  # fmt: skip
    at.number_input(key="echo_step").set_value(6).run()
    assert url(at)["echo_step"] == "6"


def test_presets():
    at = open_app("echo")
    at.button(key="echo_preset_rnn_vs_lstm").click().run()
    assert_clean(at)
    assert url(at) == {"compare": "true", "echo_step": "4", "num_epochs": "10"}
    assert set(run_of(at).trainers) == {"rnn", "lstm"}
    at.button(key="echo_preset_truncation").click().run()
    assert url(at)["echo_step"] == "20"
    assert any("20" in w.value and "15" in w.value for w in at.warning)  # the truncation warning
    at.button(key="echo_preset_notebook").click().run()
    assert url(at) == {}


def test_an_exploding_learning_rate_stops_with_a_message_and_reset_recovers():
    at = open_app("echo", learning_rate=10000)
    at.button(key="echo_train").click().run()
    tick(at, 4)
    assert_clean(at)
    assert len(at.error) == 1 and "learning rate" in at.error[0].value
    assert not run_of(at).running
    at.number_input(key="learning_rate").set_value(0.3).run()
    at.button(key="echo_reset").click().run()
    assert_clean(at)
    assert not at.error
    at.button(key="echo_train").click().run()
    tick(at, 2)
    assert run_of(at).trainers["lstm"].status == "running"


def test_settings_that_cannot_train_say_why():
    at = open_app("echo", total_series_length=100, batch_size=64)
    assert_clean(at)
    assert (
        len(at.error) == 1
        and "total_series_length" in at.error[0].value
        and "960 bits" in at.error[0].value
    )
    at = open_app("echo", lang="es", total_series_length=100, batch_size=64)
    assert (
        len(at.error) == 1
        and "debe tener al menos" in at.error[0].value
        and "960" in at.error[0].value
    )


def test_changing_settings_restarts_training():
    at = open_app("echo")
    at.button(key="echo_step_once").click().run()
    assert run_of(at).trainers["lstm"].steps_done == 1
    at.number_input(key="state_size").set_value(6).run()
    assert run_of(at).trainers["lstm"].steps_done == 0
    assert any("starts over" in i.value for i in at.info)


def test_the_sweep_runs_in_slices_and_stops():
    at = open_app("echo", total_series_length=3000)
    at.button(key="echo_sweep").click().run()
    tick(at, 3)
    assert_clean(at)
    sweep = at.session_state["echo.sweep"]
    assert 0 < sweep.progress < 1 and sweep.running
    assert at.get("progress")
    at.button(key="echo_sweep_stop").click().run()
    assert not at.session_state["echo.sweep"].running
    chart = charts(at)[-1]
    assert {d["name"] for d in chart["data"]} <= {"RNN", "LSTM"}
