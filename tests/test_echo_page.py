"""The page "Echo task" headless: the training keys, ticks, the URL, presets, bad settings."""

import base64

import numpy as np
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from test_app import assert_clean, charts, open_app, url

from lstm_core import load_checkpoint
from lstm_core.demos import ECHO_PRESETS
from lstm_core.echo import memory_curve
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
    lstm = run_of(at).trainers["lstm"]
    for _ in range(200):  # ticks train for a time slice each: as many as this machine needs
        tick(at)
        if lstm.steps_done >= 800:  # the notebook's setup passes 90% by then (seeds 0-4)
            break
    assert_clean(at)
    assert lstm.steps_done >= 800
    shown = at.metric[0].value  # 99.9% in English, 99,9% in Spanish
    assert shown.endswith("%") and float(shown.rstrip("%").replace(",", ".")) > 90
    # curves, the notebook's bars, the window's state, a bit travelling; and the training-time
    # view's bars and state (its carry figure waits for a pause)
    assert len(charts(at)) == 6
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
    assert len([m for m in at.metric if m.label.endswith("accuracy on fresh data")]) == 2  # live
    bars = charts(at)[1]
    assert {d["xaxis"] for d in bars["data"]} == {"x", "x2"}  # one column per model


def test_url_round_trip_with_the_notebooks_names():
    setup = {
        "cell": "rnn",
        "echo_step": "5",
        "truncated_backprop_length": "20",
        "state_size": "8",
        "batch_size": "4",
        "total_series_length": "20000",
        "num_epochs": "7",
        "optimizer": "adam",
        "learning_rate": "0.01",
        "seed": "3",
        "lang": "es",
    }
    at = open_app("echo", **setup)
    assert_clean(at)
    assert url(at) == setup
    config = run_of(at).trainers["rnn"].config
    assert (
        config.echo_step,
        config.truncated_backprop_length,
        config.state_size,
        config.batch_size,
        config.total_series_length,
        config.num_epochs,
        config.optimizer,
        config.learning_rate,
        config.seed,
    ) == (5, 20, 8, 4, 20000, 7, "adam", 0.01, 3)
    at.number_input(key="echo_step").set_value(6).run()
    assert url(at)["echo_step"] == "6"


def test_presets_train_their_record_and_say_its_claims():
    """Each preset button sets the settings of its record in lstm_core/demos.py (which
    tests/test_demos.py trains), and its note states that record's claims."""
    at = open_app("echo")
    notes = " ".join(c.value for c in at.caption)
    assert "at most 65%" in notes and "99% or more" in notes  # the claims' bounds, as recorded
    at.button(key="echo_preset_rnn_vs_lstm").click().run()
    assert_clean(at)
    preset = ECHO_PRESETS["rnn_vs_lstm"]
    assert url(at)["compare"] == "true" and url(at)["echo_step"] == str(preset.values["echo_step"])
    trainers = run_of(at).trainers
    assert set(trainers) == {"rnn", "lstm"}
    for cell, trainer in trainers.items():
        assert trainer.config == preset.config(cell, seed=0)  # exactly what the test trains
    at.button(key="echo_preset_truncation").click().run()
    truncation = ECHO_PRESETS["truncation"]
    assert run_of(at).trainers["lstm"].config == truncation.config("lstm", seed=0)
    k, w = truncation.values["echo_step"], truncation.values["truncated_backprop_length"]
    assert any(str(k) in x.value and str(w) in x.value for x in at.warning)  # the warning
    changes = truncation.claim("lstm", cured=True).changes
    cure = dict(changes)["truncated_backprop_length"]
    at.button(key="echo_cure").click().run()  # the cure the expander offers
    assert_clean(at)
    assert run_of(at).trainers["lstm"].config.truncated_backprop_length == cure
    assert run_of(at).trainers["lstm"].config == truncation.config("lstm", 0, changes)
    assert len(at.success) == 1 and str(cure) in at.success[0].value
    assert not at.warning  # the window is longer than the echo now
    at.button(key="echo_preset_notebook").click().run()
    assert url(at) == {}


def said_about(at, cell: str) -> str:
    """The page's sentence about what the cell's state holds (under the travelling bit)."""
    (line,) = [m.value for m in at.markdown if m.value.startswith(f"**{cell}**: the bit it read")]
    return line


def test_the_status_says_finished_at_the_end_and_a_bit_travels():
    at = open_app("echo", num_epochs=1)  # the notebook's LSTM: 99% after its first epoch
    at.button(key="echo_train").click().run()
    for _ in range(100):
        tick(at)
        if run_of(at).finished:
            break
    assert_clean(at)
    status = " ".join(m.value for m in at.markdown)
    lstm = run_of(at).trainers["lstm"]
    windows = lstm.config.windows_per_epoch
    assert f"finished: epoch 1 of 1, window {windows} of {windows}" in status
    assert "window 0 of" not in status
    travel = charts(at)[3]
    assert [d["type"] for d in travel["data"]] == ["scatter", "heatmap"]
    curve = memory_curve(lstm.model, lstm.config, 3, seed=777)  # seed 0 + 777, as the page
    line = said_about(at, "LSTM")  # drawn from that very measurement
    assert curve[3] >= 0.9 and "3 steps ago comes straight back" in line
    assert f"right {curve[3]:.1%} of the time" in line


def test_the_bit_travel_caption_follows_the_measurement():
    """The sentence under the travelling bit is drawn from the measured readout, so it says
    "only" when the state does not hold the bit (a tiny model, after one window)."""
    at = open_app("echo", echo_step=9, state_size=2)
    at.button(key="echo_step_once").click().run()
    assert_clean(at)
    lstm = run_of(at).trainers["lstm"]
    curve = memory_curve(lstm.model, lstm.config, 9, seed=777)
    line = said_about(at, "LSTM")
    assert curve[9] < 0.9 and "9 steps ago, the one the answer needs" in line
    assert f"right only {curve[9]:.0%} of the time" in line


def test_the_loss_spike_is_explained_once_a_second_epoch_begins():
    at = open_app("echo", total_series_length=600, num_epochs=2)
    at.button(key="echo_train").click().run()
    tick(at, 2)
    assert run_of(at).trainers["lstm"].epoch >= 1
    assert any("starts the state from zero" in c.value for c in at.caption)


def array(value) -> np.ndarray:
    """A chart's array as the page sent it (NumPy arrays travel as base64)."""
    if isinstance(value, dict) and "bdata" in value:
        shape = [int(n) for n in str(value.get("shape", "-1")).split(",")]  # "4, 16"
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape)
    return np.asarray(value)


@pytest.fixture
def downloads(monkeypatch):
    """Every file the page offers for download in this test: file name -> bytes."""
    files = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        files[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


@pytest.mark.parametrize("lang", ["en", "es"])
def test_after_divergence_the_chart_shows_the_stop_and_the_kept_model_downloads(lang, downloads):
    at = open_app("echo", learning_rate=1000, lang=lang)
    at.button(key="echo_train").click().run()
    tick(at, 3)
    assert_clean(at)
    run = run_of(at)
    lstm = run.trainers["lstm"]
    assert lstm.status == "diverged" and not run.running and len(at.error) == 1
    assert at.metric[0].value != "—"  # the kept model is scored
    curves = charts(at)[0]
    raw = curves["data"][0]
    assert (
        len(array(raw["y"])) == lstm.steps_done >= 1 and "markers" in raw["mode"]
    )  # the point(s) show
    stop = run.stops["lstm"]
    assert any(
        sh.get("x0") == stop and sh["line"]["color"] == "#c0392b"
        for sh in curves["layout"]["shapes"]
    )
    assert any(note["text"].startswith("✕") for note in curves["layout"]["annotations"])
    assert curves["layout"]["xaxis"]["range"][1] > stop  # the stop line is inside the chart
    # the last good model is kept, and it is the one offered for download
    (name,) = [n for n in downloads if n and n.endswith(".npz")]
    assert name.startswith("echo_lstm_")
    model = load_checkpoint(downloads[name])
    assert np.isfinite(model.flat).all() and model.config.cell == "lstm"
    np.testing.assert_array_equal(model.flat, lstm.model.flat)


def test_the_downloads_say_which_cell_they_are(downloads):
    at = open_app("echo", compare="true", echo_step=4)
    at.button(key="echo_step_once").click().run()
    names = sorted(n for n in downloads if n)
    assert [n.split("_")[1] for n in names] == ["lstm", "rnn"], names
    for name in names:
        assert load_checkpoint(downloads[name]).config.cell == name.split("_")[1]


def test_the_state_view_starts_from_the_carried_state():
    at = open_app("echo")
    at.button(key="echo_train").click().run()
    tick(at, 6)
    at.button(key="echo_pause").click().run()
    heat = charts(at)[2]["data"][0]
    lstm = run_of(at).trainers["lstm"]
    _, _, trace = lstm.last_window()
    assert heat["x"][0] == "c₀" and len(heat["x"]) == lstm.config.truncated_backprop_length + 1
    z = array(heat["z"])
    np.testing.assert_allclose(z[:, 0], trace.layers[0].c[0, 0], rtol=1e-6)  # series 0, carried in
    assert np.abs(z[:, 0]).max() > 0.1  # not an empty belt: bits arrive from the window before


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


def test_old_links_still_open_and_garbage_gives_one_warning():
    """Links made before the presets changed still open with their settings; unusable values
    (lr_decay is new) are one warning, a line each, and the defaults are used."""
    at = open_app("echo", compare="true", echo_step=4, num_epochs=10)  # the old RNN vs LSTM link
    assert_clean(at)
    assert {tr.config.echo_step for tr in run_of(at).trainers.values()} == {4}
    assert not at.warning
    at = open_app("echo", lr_decay="fast", echo_step="far", optimizer="rmsprop")
    assert_clean(at)
    (warning,) = at.warning
    assert all(name in warning.value for name in ("lr_decay", "echo_step", "optimizer"))
    config = run_of(at).trainers["lstm"].config
    assert (config.lr_decay, config.echo_step, config.optimizer) == (1.0, 3, "adagrad")
    at = open_app("echo", lr_decay="0.97")
    assert run_of(at).trainers["lstm"].config.lr_decay == 0.97 and url(at) == {"lr_decay": "0.97"}


def test_the_bit_travel_figure_marks_where_the_bit_goes_in_and_comes_out():
    from lstm_core import EchoConfig, new_echo_model
    from lstm_core.echo import bit_trace
    from ui.figures import echo as figs

    model = new_echo_model(EchoConfig(state_size=6))
    traces = {
        "rnn": bit_trace(new_echo_model(EchoConfig(cell="rnn")), 5),
        "lstm": bit_trace(model, 5),
    }
    labels = {"rnn": "RNN", "lstm": "LSTM", "answer": "a", "units": "Δ{state}", "steps": "s"}
    labels |= {"in": "in", "out": "out", "hover": "%{z}"}
    fig = figs.bit_travel(traces, 5, labels)
    assert [d.type for d in fig.data] == ["scatter", "heatmap"] * 2
    assert np.asarray(fig.data[3].z).shape == (6, len(traces["lstm"].bits) - 20 + 3)
    assert fig.data[3].x[3] == 0  # step 0 is the flipped bit, three steps of context before it
    lines = {sh.x0 for sh in fig.layout.shapes}
    assert lines == {0, 5}  # the bit goes in at 0 and must come out 5 later
    assert (fig.layout.yaxis2.title.text, fig.layout.yaxis4.title.text) == ("Δh", "Δc")
