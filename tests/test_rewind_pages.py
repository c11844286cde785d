"""The training-time slider on the text, belt and cell pages, headless, in both languages: at the
last kept step it shows the live model's numbers, at an earlier one the model as it was, Play
walks every kept step and stops, and the link points at a step."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
from conftest import wait_for
from test_app import assert_clean, open_app, url

from lstm_core import checkpoint_bytes
from lstm_core.history import model_at
from lstm_core.inputs import prepare_input
from lstm_core.rewind import held_out_bits
from ui import models, rewind_text
from ui import rewind as rewind_ui
from ui.i18n import LANGUAGES, num, t

STEP = {"en": "Training step", "es": "Paso de entrenamiento"}


def chart(at, key: str) -> dict:
    for c in at.get("plotly_chart"):
        if c.proto.id.endswith("-" + key):
            return json.loads(c.proto.spec)
    raise KeyError(key)


def array(value) -> np.ndarray:
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = [int(n) for n in str(value.get("shape", str(flat.size))).split(",")]
        return flat.reshape(shape)
    return np.asarray(value)


def time_slider(at, name: str):
    (found,) = [s for s in at.select_slider if s.key.startswith(f"{name}__")]
    return found


def caption_with(at, words: str) -> str:
    return next(c.value for c in at.caption if words in c.value)


def played(at, page: str, moments: int) -> list[int]:
    """The steps the slider shows while Play runs (each run of AppTest is one tick of its timer,
    the timer's interval made short by the test), until it stops by itself."""
    seen = []
    for _ in range(moments + 3):
        time.sleep(0.06)
        at.run()
        seen.append(time_slider(at, "at_step").value)
        if not at.session_state[f"_rewind.playing.{page}.at_step"]:
            break
    assert_clean(at)
    return seen


@pytest.fixture
def workers():
    opened = []
    yield opened
    for at in opened:
        if "text.bg" in at.session_state:
            at.session_state["text.bg"].close()


# ==================================================================================== the text page
def trained_text_page(workers, lang: str, steps: int = 40, **query):
    at = open_app(
        "text",
        lang=lang,
        model="new",
        hidden_size=16,
        batch_size=8,
        seq_length=20,
        speed="instant",
        length=60,
        position=0,
        **query,
    )
    workers.append(at)
    assert_clean(at)
    assert any(
        {"en": "Train the model", "es": "Entrena el modelo"}[lang] in c.value for c in at.caption
    )
    assert not [s for s in at.select_slider if s.key.startswith("at_step__")]  # nothing kept yet
    at.button(key="gen_train").click().run()
    bg = at.session_state["text.bg"]
    assert wait_for(lambda: bg.worker.steps >= steps)
    at.button(key="gen_pause").click().run()
    assert_clean(at)
    return at, bg


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_text_pages_slider_ends_at_the_live_model_and_goes_back(workers, lang):
    at, bg = trained_text_page(workers, lang)
    history = bg.history()
    slider = time_slider(at, "at_step")
    assert slider.value == history.steps[-1] == bg.saved_steps  # the latest, as it is now
    assert url(at).get("at_step") is None  # the page's own default: not in the link
    at.button(key="gen_generate").click().run()  # the live view writes, inspected at position 0
    assert_clean(at)
    rewound, live = at.code[0].value, at.code[1].value
    assert rewound == live  # the same seed text, dice roll and weights: the same text
    assert chart(at, "rewind_next")["data"][0]["y"] == chart(at, "gen_next")["data"][0]["y"]
    then = array(chart(at, "rewind_next")["data"][0]["x"])
    np.testing.assert_array_equal(then, array(chart(at, "gen_next")["data"][0]["x"]))
    bits = held_out_bits(bg.model, bg.held_out)
    shown = next(m for m in at.metric if m.label == t("rewind.bits", lang=lang, step=slider.value))
    assert shown.value == num(bits, ".2f", lang)
    unit = int(at.number_input(key="text.rewind_unit").value)
    heat = chart(at, "rewind_unit")
    grid = array(heat["data"][0]["z"])
    held = bg.held_out[bg.held_out.find("\n", 0, 100) + 1 :]  # from its first line break
    ids = prepare_input(bg.model, held[: rewind_text.SENTENCE], limit=300).ids
    np.testing.assert_array_equal(grid[-1], bg.model.run(ids).layers[0].h[1:, 0, unit])
    assert heat["layout"]["shapes"][0]["y0"] == len(grid) - 1.5  # the last row outlined

    time_slider(at, "at_step").set_value(0).run()  # back to the untrained model
    assert_clean(at)
    assert url(at)["at_step"] == "0"
    assert at.code[0].value != live  # it wrote something else then
    untrained = model_at(bg.model, history, 0)
    shown = next(m for m in at.metric if m.label == t("rewind.bits", lang=lang, step=0))
    assert shown.value == num(held_out_bits(untrained, bg.held_out), ".2f", lang)
    assert float(shown.value.replace(",", ".")) > bits  # it knew less
    assert chart(at, "rewind_unit")["layout"]["shapes"][0]["y0"] == -0.5  # the first row


@pytest.mark.parametrize("lang", LANGUAGES)
def test_play_walks_every_kept_step_and_stops_at_the_end(workers, lang, monkeypatch):
    monkeypatch.setattr(rewind_ui, "VIEW_EVERY", 0.05)
    at, bg = trained_text_page(workers, lang, steps=12)  # a short film: about 15 moments
    steps = bg.history().steps
    at.button(key="gen_rewind_play").click().run()
    assert_clean(at)
    seen = [time_slider(at, "at_step").value]
    assert (
        seen == [steps[0]]
        and at.button(key="gen_rewind_play").label == {"en": "Stop", "es": "Detener"}[lang]
    )
    seen += played(at, "text", len(steps))
    assert list(dict.fromkeys(seen)) == steps  # every kept step, in order, to the last
    assert at.button(key="gen_rewind_play").label == {"en": "Play", "es": "Reproducir"}[lang]


def test_a_downloaded_history_uploads_and_rewinds_the_same(workers):
    _, bg = trained_text_page(workers, "en")
    data = checkpoint_bytes(bg.model_copy())
    again = open_app("text", model="upload")
    workers.append(again)
    again.file_uploader(key="gen_ckpt_upload").set_value(
        ("m.npz", data, "application/octet-stream")
    )
    again.run()
    assert_clean(again)
    got, had = again.session_state["text.bg"].history(), bg.history()
    assert got.steps == had.steps
    for a, b in zip(got.weights, had.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert time_slider(again, "at_step").value == had.steps[-1]
    assert time_slider(again, "at_step").options[0] == "0"


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"at_step": "soon"}, "the latest kept step"),
        ({"model": "sample", "at_step": "5"}, "kept no history"),
    ],
)
def test_a_step_in_the_link_the_text_page_cannot_use_is_one_line(workers, query, words):
    at = open_app("text", **query)
    workers.append(at)
    assert_clean(at)
    assert len(at.warning) == 1 and words in at.warning[0].value


# ==================================================================================== the cell page
def echo_history():
    model = models.trained_echo(0)[0]
    return model, model.history


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_cell_pages_equations_at_a_training_step(lang):
    model, history = echo_history()
    at = open_app("cell", lang=lang, step=6, unit=1)
    assert_clean(at)
    slider = time_slider(at, "at_step")
    assert slider.value == history.steps[-1] and len(slider.options) == len(history)
    now = [e.value for e in at.latex]
    early = history.steps[4]
    time_slider(at, "at_step").set_value(early).run()
    assert_clean(at)
    assert url(at)["at_step"] == str(early)
    then = model_at(model, history, 4)
    seq = prepare_input(then, models.example_input("echo_trained", then))
    step = then.run(seq.ids).layers[0].step(6)
    h = rf"\mathbf{{{num(float(step.h[0, 1]), '.3f', lang)}}}".replace(",", "{,}")
    assert h in at.latex[5].value and [e.value for e in at.latex] != now  # h_t = ... then
    said = caption_with(at, {"en": "as it was at training step", "es": "tal como era"}[lang])
    assert num(early, ",", lang) in said  # and its accuracy then, not the trained one
    time_slider(at, "at_step").set_value(history.steps[-1]).run()
    assert [e.value for e in at.latex] == now  # the last kept step is the live model


def test_play_walks_the_cell_page_through_training_and_stops(monkeypatch):
    monkeypatch.setattr(rewind_ui, "PAGE_EVERY", 0.05)
    _, history = echo_history()
    at = open_app("cell", lang="es")
    at.button(key="cell_rewind_play").click().run()
    seen = [time_slider(at, "at_step").value, *played(at, "cell", len(history))]
    assert list(dict.fromkeys(seen)) == history.steps
    assert at.button(key="cell_rewind_play").label == "Reproducir"


def test_the_cell_page_without_a_history_has_no_slider_and_says_so_to_a_link():
    at = open_app("cell", model="text_en", at_step="40")
    assert_clean(at)
    assert not [s for s in at.select_slider if s.key.startswith("at_step__")]
    assert len(at.warning) == 1 and "kept no history" in at.warning[0].value


def test_a_linked_step_between_two_kept_ones_moves_to_the_nearest():
    _, history = echo_history()
    between = history.steps[-2] + 1
    at = open_app("cell", at_step=str(between))
    assert_clean(at)
    nearest = min(history.steps, key=lambda s: abs(s - between))
    assert time_slider(at, "at_step").value == nearest
    assert len(at.warning) == 1 and f"using the nearest, {nearest:,}" in at.warning[0].value


# ==================================================================================== the belt page
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_belt_pages_heatmaps_at_a_training_step(lang):
    model, history = echo_history()
    at = open_app("belt", lang=lang, belt_model="echo_trained", belt_unit=2)
    assert_clean(at)
    live = array(chart(at, "belt_unit_lines")["data"][0]["y"])
    seq = prepare_input(model, models.belt_example(model, "echo_trained"), limit=400)
    np.testing.assert_array_equal(live, model.run(seq.ids).layers[0].c[1:, 0, 2])
    early = history.steps[6]
    time_slider(at, "belt_at_step").set_value(early).run()
    assert_clean(at)
    assert url(at)["belt_at_step"] == str(early)
    then = model_at(model, history, 6).run(seq.ids).layers[0].c[1:, 0, 2]
    np.testing.assert_array_equal(array(chart(at, "belt_unit_lines")["data"][0]["y"]), then)
    assert not np.array_equal(then, live)
    assert STEP[lang] in time_slider(at, "belt_at_step").label


@pytest.mark.parametrize(
    ("page", "choose", "name"),
    [("cell", "model", "at_step"), ("belt", "belt_model", "belt_at_step")],
)
def test_a_text_model_with_its_history_rewinds_on_the_cell_and_belt_pages(page, choose, name):
    from test_rewind import trained

    trainer = trained(60)
    at = open_app(page, **{choose: "upload"})
    data = checkpoint_bytes(trainer.model)
    at.file_uploader(key=f"{page}_upload").set_value(("m.npz", data, "application/octet-stream"))
    at.run()
    assert_clean(at)
    slider = time_slider(at, name)
    assert slider.value == 60 and len(slider.options) == len(trainer.history)
    slider.set_value(0).run()
    assert_clean(at)
    assert url(at)[name] == "0" and not at.warning
