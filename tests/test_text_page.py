"""The page "Text generation" headless: corpora, training in its worker, writing, downloads,
checkpoints, and every kind of bad input the issue lists, in both languages."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from conftest import ROOT, wait_for
from test_app import assert_clean, charts, open_app, url, visible_text

from lstm_core import checkpoint_bytes, load_checkpoint
from ui.i18n import LANGUAGES

STORY = (ROOT / "samples" / "lighthouse_en.txt").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def close_workers():
    """Every test's training workers end with it."""
    opened = []
    yield opened
    for at in opened:
        if "text.bg" in at.session_state:
            bg = at.session_state["text.bg"]
            bg.close()


def text_page(opened, **query):
    at = open_app("text", **query)
    opened.append(at)
    return at


def metric(at, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def upload(at, name: str, data: bytes, key: str = "gen_text_upload"):
    at.file_uploader(key=key).set_value((name, data, "application/octet-stream"))
    return at.run()


# ==================================================================================== opening
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_opens_on_a_sample_in_its_language_with_its_trained_model(close_workers, lang):
    from lstm_core.text import split_held_out

    at = text_page(close_workers, lang=lang)
    assert_clean(at)
    sample = {"en": "logbook.txt", "es": "faro_es.txt"}[lang]  # English: the generated logbook
    text = (ROOT / "samples" / sample).read_text(encoding="utf-8").lower()
    body, _ = split_held_out(text)
    shown = f"{len(text):,}".replace(",", {"en": ",", "es": "."}[lang])
    assert metric(at, {"en": "Characters", "es": "Caracteres"}[lang]) == shown
    assert len(at.session_state["text.bg"].ids) == len(body)  # the tail is held out
    assert any("`e`" in m.value for m in at.markdown)  # the vocabulary as chips
    assert at.button(key="gen_train") and at.button(key="gen_generate")
    assert at.get("download_button")  # the sample model, ready to take away


@pytest.mark.parametrize("corpus", ["story_en", "story_es"])
def test_the_short_stories_open_with_their_models(close_workers, corpus):
    at = text_page(close_workers, corpus=corpus, lang="es")
    assert_clean(at)
    assert not at.error and not at.warning


# ==================================================================================== training
@pytest.mark.parametrize("lang", LANGUAGES)
def test_train_ticks_pause_and_reset(close_workers, lang):
    at = text_page(
        close_workers, lang=lang, model="new", hidden_size=32, batch_size=8, seq_length=20
    )
    at.button(key="gen_train").click().run()
    bg = at.session_state["text.bg"]
    assert bg.running
    assert wait_for(lambda: bg.worker.steps >= 30)
    at.run()  # a tick of the live view
    assert_clean(at)
    assert int(metric(at, {"en": "Training steps", "es": "Pasos"}[lang]).replace(",", "")) >= 30
    assert len(charts(at)) == 3  # the curves, and the training-time view's two figures
    at.button(key="gen_pause").click().run()
    assert not bg.running
    steps = bg.worker.steps
    time.sleep(0.3)
    assert bg.worker.steps == steps  # paused means paused
    assert bg.model.flat.shape == bg.worker.weights().flat.shape  # the page got its weights back
    assert at.get("download_button")
    at.button(key="gen_reset").click().run()
    assert at.session_state["text.bg"] is not bg
    assert metric(at, {"en": "Training steps", "es": "Pasos"}[lang]) == "0"


def test_training_settings_are_mirrored_in_the_url(close_workers):
    at = text_page(
        close_workers,
        model="new",
        hidden_size=48,
        num_layers=2,
        learning_rate=0.01,
        optimizer="sgd",
        dropout=0.1,
        temperature=1.2,
        seed=5,
    )
    assert_clean(at)
    mirrored = url(at)
    for key, value in {
        "hidden_size": "48",
        "num_layers": "2",
        "learning_rate": "0.01",
        "optimizer": "sgd",
        "dropout": "0.1",
        "temperature": "1.2",
        "seed": "5",
    }.items():
        assert mirrored[key] == value, key
    model = at.session_state["text.bg"].model
    assert (model.config.hidden_size, model.config.num_layers) == (48, 2)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_learning_rate_that_explodes_stops_training_and_says_so(close_workers, lang):
    at = text_page(
        close_workers,
        lang=lang,
        model="new",
        hidden_size=16,
        learning_rate=100,
        optimizer="sgd",
        batch_size=8,
        seq_length=20,
    )
    at.button(key="gen_train").click().run()
    bg = at.session_state["text.bg"]
    assert wait_for(lambda: bg.status == "diverged")
    at.run()
    assert_clean(at)
    words = {
        "en": "learning rate 100 is probably too high",
        "es": "tasa de aprendizaje 100 probablemente",
    }[lang]
    assert any(words in e.value for e in at.error)
    assert at.button(key="gen_train").disabled and at.button(key="gen_pause").disabled
    at.button(key="gen_generate").click().run()  # the last good weights still write
    assert_clean(at)
    assert at.code
    at.number_input(key="learning_rate").set_value(
        0.01
    ).run()  # a sensible rate: training may go on
    assert wait_for(lambda: bg.status == "paused")
    at.run()
    assert not at.error and not at.button(key="gen_train").disabled
    at.button(key="gen_train").click().run()
    steps = bg.worker.steps
    assert wait_for(lambda: bg.worker.steps > steps + 5)


# ==================================================================================== writing
@pytest.mark.parametrize("lang", LANGUAGES)
def test_write_inspect_and_download(close_workers, lang):
    at = text_page(
        close_workers,
        lang=lang,
        corpus="logbook",
        speed="instant",
        length=80,
        seed_text="the keeper",
    )
    at.button(key="gen_generate").click().run()
    assert_clean(at)
    written = at.code[0].value
    assert written.startswith("the keeper")
    assert len(written) == len("the keeper") + 80
    assert len(charts(at)) >= 3  # next characters, temperature before/after, the gates
    at.slider(key="position").set_value(0).run()
    assert_clean(at)
    first = next(m.value for m in at.markdown if "«" in m.value)
    assert "keeper»" in first  # at position 0 the model had read the seed text
    at.slider(key="position").set_value(10).run()
    assert_clean(at)
    at.toggle(key="color_text").set_value(True).run()
    assert_clean(at)
    names = {
        b.proto.file_name if hasattr(b.proto, "file_name") else ""
        for b in at.get("download_button")
    }
    assert at.get("download_button") and len(at.get("download_button")) == 2, names


def test_a_slow_speed_writes_over_several_ticks_and_stops(close_workers):
    at = text_page(close_workers, speed="slow", length=40)
    at.button(key="gen_generate").click().run()
    gen = at.session_state["text.gen"]
    assert gen.running and gen.n < 40
    at.run()
    more = gen.n
    assert more >= 1
    at.button(key="gen_stop").click().run()
    assert not gen.running
    at.run()
    assert gen.n == more  # stopped means stopped


def test_a_seed_text_with_unknown_characters_is_cleaned_and_said(close_workers):
    at = text_page(close_workers, speed="instant", length=20, seed_text="the ¿keeper€ 漢")
    assert_clean(at)
    assert at.warning and "€" in at.warning[0].value
    at.button(key="gen_generate").click().run()
    assert_clean(at)
    assert at.code[0].value.startswith("the keeper ")


# ==================================================================================== corpora
@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_uploaded_novel_is_read_and_summarised(close_workers, lang):
    at = text_page(close_workers, lang=lang, corpus="upload", model="new")
    assert at.info  # asks for a file
    data = ("\ufeff" + STORY).encode("utf-8")
    upload(at, "novel.txt", data)
    assert_clean(at)
    assert not at.error
    assert metric(at, {"en": "Distinct", "es": "Caracteres distintos"}[lang]) == str(
        len(set(STORY.lower()))
    )


def test_a_windows_1252_upload_is_read_and_said(close_workers):
    at = text_page(close_workers, lang="es", corpus="upload", model="new")
    upload(at, "novela.txt", ("El faro, año 1931: «luz».\n" * 40).encode("cp1252"))
    assert_clean(at)
    assert any("Windows-1252" in i.value for i in at.info)


@pytest.mark.parametrize(
    ("data", "words_en", "words_es"),
    [
        (b"", "empty", "vac"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300), "binary file", "archivo binario"),
        (b"too short", "a window of 60 needs 61", "una ventana de 60 necesita 61"),
        (b"a" * 5000, "single character", "un solo car"),
        (b"   \n\n  ", "empty", "vac"),
    ],
)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_bad_texts_get_one_line_and_lose_nothing(close_workers, lang, data, words_en, words_es):
    at = text_page(close_workers, lang=lang, corpus="upload", model="new")
    upload(at, "bad.txt", data)
    assert_clean(at)
    shown = [m.value for m in (*at.error, *at.info)]
    words = words_en if lang == "en" else words_es
    assert any(words in m for m in shown), shown
    at.selectbox(key="corpus").set_value("logbook").run()  # the rest of the page still works
    assert_clean(at)
    assert not at.error


def test_a_text_shorter_than_the_window_keeps_the_window_at_hand(close_workers):
    at = text_page(close_workers, corpus="paste", model="new")
    at.text_area(key="text.paste").input(STORY[:40]).run()
    assert_clean(at)
    assert "a window of 60 needs 61" in at.error[0].value
    at.number_input(key="seq_length").set_value(20).run()  # the way out, on the page itself
    assert_clean(at)
    assert not at.error and at.button(key="gen_train")


def test_pasted_text_trains_a_new_model(close_workers):
    at = text_page(close_workers, corpus="paste", model="new")
    at.text_area(key="text.paste").input(STORY[:3000]).run()
    assert_clean(at)
    assert metric(at, "Characters") == "3,000"


# ==================================================================================== by URL
class Book(BaseHTTPRequestHandler):
    def do_GET(self):  # the name http.server calls
        if self.path != "/book.txt":
            self.send_error(404, "Not Found")
            return
        body = (
            "The Project Gutenberg eBook\n*** START OF THE PROJECT GUTENBERG EBOOK A LAMP ***\n"
            + STORY
            + "*** END OF THE PROJECT GUTENBERG EBOOK A LAMP ***\nlicence text\n"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def book_server(monkeypatch):
    monkeypatch.setenv("LSTM_LAB_FETCH_PRIVATE", "1")  # the test server is on loopback
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Book)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_book_fetched_by_url_is_stripped_and_used(close_workers, book_server, lang):
    at = text_page(
        close_workers, lang=lang, corpus="url", model="new", url=f"{book_server}/book.txt"
    )
    at.button(key="gen_fetch").click().run()
    assert_clean(at)
    assert not at.error
    assert any("Gutenberg" in i.value for i in at.info)
    shown = f"{len(STORY):,}".replace(",", {"en": ",", "es": "."}[lang])
    assert metric(at, {"en": "Characters", "es": "Caracteres"}[lang]) == shown
    bg = at.session_state["text.bg"]
    assert "licence" not in bg.held_out


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_failed_fetch_is_one_line(close_workers, book_server, lang):
    at = text_page(close_workers, lang=lang, corpus="url", url=f"{book_server}/missing.txt")
    at.button(key="gen_fetch").click().run()
    assert_clean(at)
    assert len(at.error) == 1 and "404" in at.error[0].value
    at.text_input(key="url").input("ftp://example.org/book.txt").run()
    at.button(key="gen_fetch").click().run()
    assert (
        len(at.error) == 1
        and {"en": "only http", "es": "solo se pueden"}[lang] in at.error[0].value
    )


def test_private_addresses_are_refused_on_the_page(close_workers):
    at = text_page(close_workers, corpus="url", url="http://169.254.169.254/latest/meta-data/")
    at.button(key="gen_fetch").click().run()
    assert_clean(at)
    assert "private network" in at.error[0].value


# ==================================================================================== checkpoints
def test_an_uploaded_checkpoint_generates_and_trains_on(close_workers):
    at = text_page(close_workers, model="upload", speed="instant", length=30)
    upload(
        at,
        "logbook.npz",
        (ROOT / "samples" / "logbook_h128.npz").read_bytes(),
        key="gen_ckpt_upload",
    )
    assert_clean(at)
    assert not at.error and not at.warning
    at.button(key="gen_generate").click().run()
    assert len(at.code[0].value) > 30
    assert not at.button(key="gen_train").disabled


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_mismatched_checkpoint_offers_both_ways(close_workers, lang):
    at = text_page(close_workers, lang=lang, model="upload", corpus="story_es")
    upload(
        at,
        "logbook.npz",
        (ROOT / "samples" / "lighthouse_en_h64.npz").read_bytes(),
        key="gen_ckpt_upload",
    )
    assert_clean(at)
    assert at.warning and at.button(key="gen_use_anyway") and at.button(key="gen_start_fresh")
    at.button(key="gen_use_anyway").click().run()
    assert_clean(at)
    assert at.button(key="gen_train").disabled  # it can write, not train on a text it cannot read
    at.button(key="gen_generate").click().run()
    assert at.code
    at2 = text_page(close_workers, lang=lang, model="upload", corpus="story_es")
    upload(
        at2,
        "x.npz",
        (ROOT / "samples" / "lighthouse_en_h64.npz").read_bytes(),
        key="gen_ckpt_upload",
    )
    at2.button(key="gen_start_fresh").click().run()
    assert_clean(at2)
    assert at2.radio(key="model").value == "new" and not at2.warning


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"not a zip at all", "zip archive"),
        ((ROOT / "samples" / "logbook_h128.npz").read_bytes()[:5000], "truncated or corrupt"),
    ],
)
def test_bad_checkpoints_get_one_line(close_workers, data, words):
    at = text_page(close_workers, model="upload")
    upload(at, "bad.npz", data, key="gen_ckpt_upload")
    assert_clean(at)
    assert len(at.error) == 1 and words in at.error[0].value
    assert at.info  # and the page asks for a checkpoint


def test_an_echo_checkpoint_is_not_a_writer(close_workers):
    at = text_page(close_workers, model="upload")
    upload(
        at, "echo.npz", (ROOT / "samples" / "echo_lstm_h4.npz").read_bytes(), key="gen_ckpt_upload"
    )
    assert_clean(at)
    assert len(at.error) == 1


def test_the_downloaded_model_is_the_trained_one(close_workers):
    at = text_page(close_workers, model="new", hidden_size=16, batch_size=8, seq_length=20)
    at.button(key="gen_train").click().run()
    bg = at.session_state["text.bg"]
    assert wait_for(lambda: bg.worker.steps >= 10)
    at.button(key="gen_pause").click().run()
    trained = bg.worker.weights()
    assert bg.model.flat.tolist() == trained.flat.tolist()
    assert load_checkpoint(checkpoint_bytes(bg.model_copy())).flat.tolist() == trained.flat.tolist()


# ==================================================================================== issue 14
def test_an_old_link_with_prime_still_sets_the_seed_text(close_workers):
    at = text_page(close_workers, prime="the keeper")
    assert_clean(at)
    assert at.text_input(key="seed_text").value == "the keeper"
    assert url(at).get("seed_text") == "the keeper" and "prime" not in url(at)
    assert not at.warning  # an old name is not an unknown one


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_papers_setup_is_one_click_and_says_what_each_choice_is(close_workers, lang):
    from lstm_core.text import split_held_out

    at = text_page(close_workers, lang=lang, corpus="story_en")
    assert_clean(at)
    described = next(m.value for m in at.markdown if "256" in m.value)
    for words in {
        "en": ("one-hot", "256 units", "60 characters", "20% dropout", "Softmax", "Cross-entropy"),
        "es": ("one-hot", "256 unidades", "60 caracteres", "20 % de dropout", "Softmax"),
    }[lang]:
        assert words in described, words
    assert not at.success
    at.button(key="gen_paper").click().run()
    assert_clean(at)
    assert at.success  # "these are the paper's settings"
    bg = at.session_state["text.bg"]
    config, settings = bg.model.config, bg.settings
    assert (config.hidden_size, config.num_layers, config.lowercase) == (256, 1, True)
    assert (settings.seq_length, settings.dropout, settings.optimizer) == (60, 0.2, "adam")
    _, held = split_held_out(STORY.lower())
    assert at.text_input(key="seed_text").value == held[:60]  # a seed window it never trained on
    assert url(at)["hidden_size"] == "256" and url(at)["model"] == "new"
    at.button(key="gen_generate").click().run()  # writes from that seed
    assert_clean(at)
    assert at.code[0].value.startswith(held[:60])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_inspector_opens_where_the_model_was_least_sure(close_workers, lang):
    at = text_page(close_workers, lang=lang, corpus="logbook", speed="instant", length=150)
    at.button(key="gen_generate").click().run()
    assert_clean(at)
    gen = at.session_state["text.gen"]
    least = gen.most_uncertain()
    sure = gen.raw[: gen.n].max(axis=1)
    assert at.slider(key="position").value == least and sure[least] == sure.min()
    assert sure[least] < 0.6 < sure[0]  # a position where temperature has something to reshape
    said = next(m.value for m in at.markdown if "«" in m.value)
    first = format(float(sure[least]), ".1%").replace("%", "")
    first = first.replace(".", ",") + " %" if lang == "es" else first + "%"
    assert first in said and {"en": "nowhere in this text", "es": "en ningún otro"}[lang] in said
    assert "position" not in url(at)  # the page's own choice, not a setting of the link
    bars = charts(at)[0]["data"][0]
    assert bars["text"][0] == first  # the top-5 chart writes the same number
    at.slider(key="position").set_value(3).run()
    assert not at.button(key="gen_jump").disabled
    at.button(key="gen_jump").click().run()
    assert at.slider(key="position").value == least and at.button(key="gen_jump").disabled


def test_a_linked_position_is_kept(close_workers):
    at = text_page(close_workers, corpus="logbook", speed="instant", length=60, position=7)
    at.button(key="gen_generate").click().run()
    assert at.slider(key="position").value == 7


@pytest.mark.parametrize("lang", LANGUAGES)
def test_numbers_on_the_text_pages_widgets_and_figures_follow_the_language(close_workers, lang):
    at = text_page(close_workers, lang=lang, corpus="logbook", speed="instant", length=40)
    comma = lang == "es"
    temperature = at.select_slider(key="temperature")
    assert temperature.value == 0.7 and ("0,70" if comma else "0.70") in temperature.options
    assert "0.70" not in temperature.options if comma else "0,70" not in temperature.options
    dropout = at.select_slider(key="dropout")
    assert ("20 %" if comma else "20%") in dropout.options
    rate_help = at.number_input(key="learning_rate").help
    assert ("0.002 es 0,002" in rate_help) == comma  # a number input writes a decimal point
    at.button(key="gen_generate").click().run()
    assert_clean(at)
    top5, reshaped = charts(at)[:2]
    for spec in (top5, reshaped):
        ticks = spec["layout"]["xaxis" if spec is top5 else "yaxis"]["ticktext"]
        assert all(tick.endswith(" %" if comma else "%") for tick in ticks), ticks
        assert spec["layout"]["separators"] == (",." if comma else ".,")
    for text in top5["data"][0]["text"]:
        assert ("," in text and "." not in text) if comma else ("." in text and "," not in text)


def test_spanish_shows_titles_and_words_not_ids(close_workers):
    at = text_page(close_workers, lang="es")
    assert_clean(at)
    shown = visible_text(at)
    assert "story_es" not in shown and "La guardiana del faro del norte" in shown
    at = text_page(close_workers, lang="es", model="new")
    names = ("hidden_size", "num_layers", "seq_length", "batch_size", "learning_rate")
    labels = {w.key: w.label for w in at.number_input}
    labels |= {w.key: w.label for w in (*at.selectbox, *at.select_slider)}
    for name in (*names, "optimizer", "dropout"):  # Spanish words (the term may follow in brackets)
        assert not labels[name].lower().startswith(name), labels[name]
        assert "_" not in labels[name], labels[name]


def overfit_snapshot():
    """Curves of a model memorising its text: held-out lowest at step 300, then climbing."""
    steps = np.arange(1, 601, dtype=float)
    loss = np.linspace(3.0, 1.0, 600)  # nats: falling all along
    return {
        "steps": 600,
        "loss": (steps, loss),
        "loss_smooth": loss,
        "bpc": (np.arange(100.0, 601.0, 100.0), np.array([4.2, 3.6, 3.4, 3.5, 3.7, 3.9])),
        "samples": [],
        "characters": 600 * 60 * 32,
        "seconds": 30.0,
        "status": "paused",
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_says_overfitting_when_its_curves_show_it(close_workers, lang):
    at = text_page(close_workers, lang=lang, corpus="story_es", model="new", hidden_size=32)
    bg = at.session_state["text.bg"]
    bg.snapshot = overfit_snapshot  # the curves as the worker would report them
    at.run()
    assert_clean(at)
    (warning,) = [w.value for w in at.warning]
    assert {"en": "Overfitting", "es": "Sobreajuste"}[lang] in warning
    assert ("3,40" if lang == "es" else "3.40") in warning and "300" in warning
    caption = " ".join(c.value for c in at.caption)
    assert {"en": "20% of the units", "es": "20 % de las unidades"}[lang] in caption
    assert {"en": "bits per character", "es": "bits por carácter"}[lang] in caption
    curves = charts(at)[0]
    assert curves["data"][-1]["text"] == [
        {"en": "lowest held-out", "es": "mínimo del reservado"}[lang]
    ]
    metrics = [m.label for m in at.metric]
    assert sum({"en": "Bits/char", "es": "Bits/carácter"}[lang] in m for m in metrics) == 2
    bg.snapshot = lambda: {
        **overfit_snapshot(),
        "bpc": (np.array([100.0, 200, 300]), np.array([4.0, 3.5, 3.2])),
    }
    at.run()
    assert not at.warning  # still learning: nothing said
