"""The GRU on the echo, BPTT, text and lessons pages, headless and in both languages: the echo
page's three-way comparison and its preset, the BPTT page's three maps, a new GRU trained in the
text page's worker and a GRU checkpoint uploaded there, and the lesson path's steps opening on
pages that now show all three cells."""

from __future__ import annotations

import pytest
from conftest import wait_for
from test_app import assert_clean, charts, open_app, url
from test_echo_page import downloads  # noqa: F401  (a fixture)
from test_text_page import close_workers, text_page, upload  # noqa: F401  (fixtures, helpers)

from lstm_core import Model, ModelConfig, checkpoint_bytes, load_checkpoint
from lstm_core.cells import SIDE_BY_SIDE
from lstm_core.demos import ECHO_PRESETS
from ui import lessons, samples
from ui.i18n import LANGUAGES, num, t

THREE = ECHO_PRESETS["three_cells"]


# ==================================================================================== echo
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_echo_page_compares_all_three_cells_at_once(lang, downloads):  # noqa: F811
    at = open_app("echo", lang=lang, compare="true", versus="all", echo_step=4, num_epochs=1)
    assert_clean(at)
    at.button(key="echo_step_once").click().run()
    at.button(key="echo_step_once").click().run()
    assert_clean(at)
    run = at.session_state["echo.run"]
    assert tuple(run.trainers) == SIDE_BY_SIDE == ("rnn", "gru", "lstm")
    assert all(tr.steps_done == 2 for tr in run.trainers.values())
    names = [t(f"echo.cell_{n}", lang=lang) for n in SIDE_BY_SIDE]
    curves = charts(at)[0]
    assert {d["name"] for d in curves["data"] if d.get("name")} == set(names)
    shown = [m.label for m in at.metric]
    assert all(any(name in label for label in shown) for name in names), shown
    assert url(at)["versus"] == "all"
    files = sorted(n for n in downloads if n and n.endswith(".npz"))
    assert [n.split("_")[1] for n in files] == ["gru", "lstm", "rnn"], files
    for name in files:  # each download is a checkpoint of its own cell
        assert load_checkpoint(downloads[name]).config.cell == name.split("_")[1]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_three_cells_preset_sets_its_record_and_says_its_claims(lang):
    at = open_app("echo", lang=lang)
    note = t(
        "echo.preset_three_cells_note",
        lang=lang,
        **{
            "k": THREE.values["echo_step"],
            "w": THREE.values["truncated_backprop_length"],
            "h": THREE.values["state_size"],
            "epochs": THREE.values["num_epochs"],
            "seconds": THREE.seconds,
            "lr": THREE.values["learning_rate"],
            "decay": THREE.values["lr_decay"],
            "rnn_most": THREE.claim("rnn").at_most,
            "gru_least": THREE.claim("gru").at_least,
        },
    )
    assert note in [c.value for c in at.caption]  # the sentence, from the claim's own bounds
    assert num(THREE.claim("gru").at_least, ".0%", lang=lang) in note
    at.button(key="echo_preset_three_cells").click().run()
    assert_clean(at)
    for key, value in THREE.values.items():
        assert at.session_state[key] == value, key
    run = at.session_state["echo.run"]
    assert tuple(run.trainers) == THREE.cells == SIDE_BY_SIDE
    assert run.trainers["gru"].config == THREE.config("gru", 0)
    at.button(key="echo_preset_rnn_vs_lstm").click().run()  # the pair's preset: the pair again
    assert tuple(at.session_state["echo.run"].trainers) == ("rnn", "lstm")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_gru_alone_trains_on_the_echo_page(lang, downloads):  # noqa: F811
    at = open_app("echo", lang=lang, cell="gru")
    at.button(key="echo_step_once").click().run()
    assert_clean(at)
    (trainer,) = at.session_state["echo.run"].trainers.values()
    assert trainer.model.config.cell == "gru" and trainer.steps_done == 1
    (name,) = [n for n in downloads if n and n.endswith(".npz")]
    assert load_checkpoint(downloads[name]).config.cell == "gru"


def test_the_sweep_draws_a_curve_for_every_cell():
    at = open_app("echo", total_series_length=600, sweep_epochs=1)
    at.button(key="echo_sweep").click().run()
    sweep = at.session_state["echo.sweep"]
    assert sweep.cells == SIDE_BY_SIDE
    for _ in range(40):  # a few points of each cell (a tick trains a slice)
        if all(sweep.results[c] for c in sweep.cells):
            break
        at.run()
    assert_clean(at)
    drawn = {d["name"] for d in charts(at)[-1]["data"] if d.get("name")}
    assert drawn == {t(f"echo.cell_{c}") for c in SIDE_BY_SIDE}, drawn


# ==================================================================================== BPTT
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_bptt_page_maps_the_gru_beside_the_others(lang):
    at = open_app("bptt", lang=lang, bptt_hidden=8, bptt_length=20, bptt_steps=100)
    assert_clean(at)
    heat = charts(at)[0]
    titles = [a["text"] for a in heat["layout"]["annotations"]]
    assert any(t("bptt.panel_gru_h", lang=lang) in text for text in titles), titles
    reaches = [m.label for m in at.metric[:4]]
    assert any(t("bptt.panel_gru_h", lang=lang) in label for label in reaches), reaches
    scores = next(c.value for c in at.caption if "GRU" in c.value and "%" in c.value)
    assert all(name in scores for name in ("RNN", "GRU", "LSTM"))
    at.slider(key="bptt_forget").set_value(3.0).run()  # the gate that keeps: the GRU's z too
    assert_clean(at)


# ==================================================================================== text
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_new_gru_trains_in_the_worker_and_writes(close_workers, lang):  # noqa: F811
    at = text_page(
        close_workers,
        lang=lang,
        corpus="logbook",
        model="new",
        cell="gru",
        hidden_size=16,
        batch_size=8,
        seq_length=20,
        speed="instant",
        length=40,
    )
    assert_clean(at)
    assert at.radio(key="cell").value == "gru" and url(at)["cell"] == "gru"
    at.button(key="gen_train").click().run()
    bg = at.session_state["text.bg"]
    assert bg.model.config.cell == "gru"
    assert wait_for(lambda: bg.worker.steps >= 10)
    at.button(key="gen_pause").click().run()
    assert_clean(at)
    trained = bg.worker.weights()
    assert trained.config.cell == "gru" and bg.model.flat.tolist() == trained.flat.tolist()
    at.button(key="gen_generate").click().run()
    assert_clean(at)
    assert len(at.code[0].value) > 40
    titles = [[a["text"] for a in c["layout"].get("annotations", ())] for c in charts(at)]
    wanted = [t(f"cell.vector_{v}", lang=lang) for v in ("r", "z", "n", "h")]  # no c: no belt
    assert any(found[:4] == wanted for found in titles), titles
    assert load_checkpoint(checkpoint_bytes(bg.model_copy())).config.cell == "gru"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_gru_checkpoint_uploaded_on_the_text_page_writes_and_trains_on(close_workers, lang):  # noqa: F811
    vocab = samples.model("logbook").config.vocab
    config = ModelConfig(
        "char-lm", "gru", len(vocab), 12, 2, len(vocab), vocab=vocab, lowercase=True
    )
    model = Model.create(config, seed=3)  # two layers, untrained: it writes all the same
    at = text_page(
        close_workers, lang=lang, model="upload", corpus="logbook", speed="instant", length=30
    )
    upload(at, "gru.npz", checkpoint_bytes(model), key="gen_ckpt_upload")
    assert_clean(at)
    assert not at.error
    assert at.session_state["text.bg"].model.config.cell == "gru"
    at.button(key="gen_generate").click().run()
    assert_clean(at)
    assert len(at.code[0].value) > 30


# ==================================================================================== lessons
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_lessons_open_pages_that_show_the_gru(lang):
    """The lesson path opens, and its clipping step opens the BPTT page, which now draws the
    GRU's map beside the RNN's and the LSTM's (the gradient step trains the preset's three:
    tests/test_lessons.py)."""
    at = open_app("lessons", lang=lang)
    assert_clean(at)
    n = next(k for k, step in enumerate(lessons.STEPS, start=1) if step.id == "clipping")
    at = open_app(lessons.STEPS[n - 1].page, lang=lang, **lessons.show_me(n))
    assert_clean(at)
    drawn = {d["name"] for d in charts(at)[1]["data"]}  # the decay lines, one per map
    assert t("bptt.panel_gru_h", lang=lang) in drawn


@pytest.mark.parametrize("cell", SIDE_BY_SIDE)
def test_what_was_written_keeps_each_cells_own_vectors(cell):
    """ui/generation.py keeps a step's gates and states by the cell's own names (an RNN has no
    gates, only an LSTM a belt c), and they are the sampler's numbers."""
    from lstm_core.cells import cell_kind
    from ui.generation import Generation

    vocab = tuple("abc ")
    model = Model.create(ModelConfig("char-lm", cell, 4, 6, 2, 4, vocab=vocab), seed=1)
    gen = Generation(model, "ab", 5, 1.0, None, seed=0)
    gen.advance(5)
    for layer in (0, 1):
        values = gen.step_values(4, layer)
        assert tuple(values) == cell_kind(cell).vectors
        assert all(v.shape == (6,) for v in values.values())
    assert (gen.c is None) == (cell != "lstm")


# ==================================================================================== belt
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_belt_page_opens_a_gru_and_shows_h_as_its_belt(lang):
    """The echo GRU sample, and an uploaded text GRU: h is the belt, z its valve, (1 - z)·n
    what is written, and the waterfall's steps are the GRU's own numbers."""
    from test_belt import chart, upload

    at = open_app("belt", lang=lang, belt_model="echo_gru")
    assert_clean(at)
    titles = [a["text"] for a in chart(at, "belt_window")["layout"]["annotations"]]
    assert titles == [
        t("cell.vector_h", lang=lang),
        t("cell.vector_z", lang=lang),
        t("belt.vector_gru", lang=lang),
        t("cell.vector_n", lang=lang),
        t("cell.vector_r", lang=lang),
    ]
    assert any(t("belt.role_gru", lang=lang) == i.value for i in at.info)
    names = {d.get("name") for d in chart(at, "belt_waterfall")["data"]}
    assert t("belt.flow_added_gru", lang=lang) in names
    gru = Model.create(ModelConfig("char-lm", "gru", 5, 6, 1, 5, vocab=tuple("abcde")), seed=2)
    at = upload(open_app("belt", lang=lang, belt_model="upload"), gru)
    assert_clean(at)
    assert any("GRU" in c.value for c in at.caption)
    at = open_app("belt", lang=lang, belt_model="belt_gru")  # the GRU of the belt's own text
    assert_clean(at)
    assert any(t("belt.role_gru", lang=lang) == i.value for i in at.info)
    assert t("belt.belt_text_note", lang=lang) in [c.value for c in at.caption]
    assert at.session_state["belt_model"] == "belt_gru"
