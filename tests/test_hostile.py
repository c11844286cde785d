"""Bad and hostile input at every entry point: the pages, the URL, the command line, the core.

Each row is one thing a student (or a script) might send; each test says what must happen: a
one-line message, a usable session, nothing run, nothing lost. Property-based tests feed the
loaders anything at all.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from test_app import assert_clean, open_app, visible_text

import lstm_core
from lstm_core import (
    CheckpointError,
    Model,
    ModelConfig,
    TextError,
    Vocabulary,
    checkpoint_bytes,
    decode_text,
    load_checkpoint,
)
from ui import params
from ui.frame import PAGES

# ==================================================================================== files
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300)


def zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, data)
    return buf.getvalue()


MANY = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 520))  # 520 distinct characters
STORY = (ROOT / "samples" / "lighthouse_en.txt").read_text(encoding="utf-8")
TEXT_FILES = [  # (id, bytes, what the text page must do: "ok" or words of the one-line error)
    ("empty", b"", "empty"),
    ("one-byte", b"a", "61|single character"),
    ("two-bytes", b"ab", "61"),
    ("png", PNG, "binary"),
    ("zip", zipped("novel.txt", STORY.encode()), "binary"),
    ("utf16-le", ("\ufeff" + STORY).encode("utf-16-le"), "ok"),
    ("utf16-be", ("\ufeff" + STORY).encode("utf-16-be"), "ok"),
    ("mixed-line-endings", STORY.replace("\n", "\r\n", 20).replace("\n", "\r", 5).encode(), "ok"),
    ("one-character", b"z" * 5000, "single character"),
    ("500-characters", (MANY * 10).encode("utf-8"), "ok"),
    ("emoji", ("🌊🗼 the sea 🌊 " * 300).encode("utf-8"), "ok"),
    ("cp1252", STORY.replace("keeper", "señor").encode("cp1252"), "ok"),
    ("nul-bytes", b"text\x00with\x00nul" * 100, "binary"),
    (  # 1,500 distinct characters: over the vocabulary's cap (budget.MAX_VOCAB)
        "too-many-characters",
        ("".join(chr(c) for c in range(0x4E00, 0x4E00 + 1500)) * 4).encode("utf-8"),
        "different characters",
    ),
]


@pytest.mark.parametrize(("name", "data", "expect"), TEXT_FILES, ids=[row[0] for row in TEXT_FILES])
def test_text_files_in_the_core(name, data, expect):
    try:
        loaded = decode_text(data)
        lstm_core.prepare_corpus(loaded.text, min_length=61)
    except TextError as exc:
        assert (
            expect != "ok"
            and any(w in str(exc) for w in expect.split("|"))
            and "\n" not in str(exc)
        ), str(exc)
    else:
        assert expect == "ok", name
        assert "\r" not in loaded.text


@pytest.mark.parametrize(("name", "data", "expect"), TEXT_FILES, ids=[row[0] for row in TEXT_FILES])
def test_text_files_on_the_page(name, data, expect):
    at = open_app("text", corpus="upload", model="new", hidden_size=16)
    at.file_uploader(key="gen_text_upload").set_value((f"{name}.txt", data, "text/plain"))
    at.run()
    assert_clean(at)
    errors = [e.value for e in at.error]
    if expect == "ok":
        assert not errors, errors
        assert at.button(key="gen_train") and not at.button(key="gen_train").disabled
    else:
        assert len(errors) == 1 and any(w in errors[0] for w in expect.split("|")), errors
    at.selectbox(key="corpus").set_value("logbook").run()  # and the session goes on
    assert_clean(at)
    assert not at.error


def test_an_upload_over_the_limit_is_refused_with_the_limit_in_the_label():
    """Streamlit itself refuses files over server.maxUploadSize; the label states the limit."""
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert "maxUploadSize = 20" in config
    at = open_app("text", corpus="upload")
    assert "20 MB" in at.file_uploader(key="gen_text_upload").label


def test_a_text_over_the_core_limit_is_refused(monkeypatch):
    monkeypatch.setattr(lstm_core.text, "MAX_TEXT_BYTES", 1000)
    with pytest.raises(TextError, match="limit"):
        decode_text(b"a" * 1001)


# ==================================================================================== checkpoints
GOOD = (ROOT / "samples" / "lighthouse_en_h64.npz").read_bytes()


def rebuilt(change) -> bytes:
    """GOOD's arrays, changed by change(arrays), saved again as an .npz (no pickle)."""
    with np.load(io.BytesIO(GOOD), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


class RawNumber(str):
    """Written into the meta's JSON as it is, unquoted (a number too long for Python to read)."""


def with_meta(**changes):
    def change(arrays):
        meta = json.loads(arrays["meta"].item())
        raw = {k: v for k, v in changes.items() if isinstance(v, RawNumber)}
        meta.update({k: f"@{k}@" if k in raw else v for k, v in changes.items()})
        text = json.dumps(meta)
        for k, v in raw.items():
            text = text.replace(f'"@{k}@"', v)
        arrays["meta"] = np.array(text)

    return change


def pickled_object_array() -> bytes:
    """A crafted .npz whose 'meta' is an object array: loading it with pickle would run code."""
    buf = io.BytesIO()
    np.save(buf, np.array([{"format": "lstm-lab/1"}], dtype=object), allow_pickle=True)
    with np.load(io.BytesIO(GOOD), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "meta"}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for key, value in arrays.items():
            one = io.BytesIO()
            np.save(one, value)
            zf.writestr(f"{key}.npy", one.getvalue())
        zf.writestr("meta.npy", buf.getvalue())
    return out.getvalue()


def first_weight(arrays) -> str:
    return next(k for k in arrays if k != "meta")


CHECKPOINTS = [  # (id, bytes, words of the one-line error)
    ("empty", b"", "empty"),
    ("not-a-zip", b"just some text, not a checkpoint", "zip"),
    ("truncated", GOOD[: len(GOOD) // 2], "truncated or corrupt"),
    ("missing-meta", rebuilt(lambda a: a.pop("meta")), "meta"),
    ("missing-weight", rebuilt(lambda a: a.pop(first_weight(a))), "missing"),
    (
        "wrong-shape",
        rebuilt(lambda a: a.__setitem__(first_weight(a), np.zeros((3, 3), np.float32))),
        "shape",
    ),
    ("nan-weights", rebuilt(lambda a: a[first_weight(a)].__setitem__((0, 0), np.nan)), "NaN"),
    ("pickled-object-array", pickled_object_array(), "pickle"),
    ("wrong-kind", rebuilt(with_meta(kind="image-classifier")), "kind"),
    ("future-format", rebuilt(with_meta(format="lstm-lab/9")), "lstm-lab/9"),
    ("text-file", STORY.encode(), "zip"),
    ("extra-member", rebuilt(lambda a: a.__setitem__("notes", np.zeros(10))), "not part of"),
    ("deep-meta", rebuilt(lambda a: a.__setitem__("meta", np.array("[" * 100_000))), "nested"),
    ("long-number", rebuilt(with_meta(hidden_size=RawNumber("9" * 5000))), "number too long"),
    (
        "oversized-weight",
        rebuilt(lambda a: a.__setitem__(first_weight(a), np.zeros(10**6))),
        "unpacks larger",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "expect"), CHECKPOINTS, ids=[row[0] for row in CHECKPOINTS]
)
def test_checkpoints_in_the_core(name, data, expect):
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(data)
    assert expect in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "data", "expect"), CHECKPOINTS, ids=[row[0] for row in CHECKPOINTS]
)
@pytest.mark.parametrize("page", ["text", "belt"])
def test_checkpoints_on_the_pages(page, name, data, expect):
    key = {"text": "gen_ckpt_upload", "belt": "belt_upload"}[page]
    at = open_app(page, **({"model": "upload"} if page == "text" else {"belt_model": "upload"}))
    at.file_uploader(key=key).set_value((f"{name}.npz", data, "application/octet-stream"))
    at.run()
    assert_clean(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    at.file_uploader(key=key).set_value(("good.npz", GOOD, "application/octet-stream"))
    at.run()  # a good file afterwards works: nothing was lost
    assert_clean(at)
    assert not at.error


@pytest.mark.parametrize(
    ("name", "data", "expect"), CHECKPOINTS[1:4], ids=[row[0] for row in CHECKPOINTS[1:4]]
)
def test_checkpoints_on_the_command_line(tmp_path, name, data, expect):
    path = tmp_path / f"{name}.npz"
    path.write_bytes(data)
    for args in (["inspect", str(path)], ["generate", "--checkpoint", str(path), "--prime", "a"]):
        proc = subprocess.run(
            [sys.executable, "-m", "lstm_core", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert (
            proc.stderr.startswith("error: ")
            and proc.stderr.count("\n") == 1
            and expect in proc.stderr
        )


def test_members_outside_the_format_are_refused_before_they_are_inflated():
    """A 512 MB block of zeros compresses to half a megabyte; named outside the format, it is
    refused from the archive's directory alone, long before anything is unpacked."""
    out = io.BytesIO(GOOD)
    with (
        zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("padding.npy", "w", force_zip64=True) as member,
    ):
        for _ in range(400):
            member.write(bytes(2**20))
    tracemalloc.start()
    with pytest.raises(CheckpointError, match="not part of the checkpoint format"):
        load_checkpoint(out.getvalue())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2**20


def test_a_page_refuses_models_larger_than_it_can_draw():
    from lstm_core.budget import ModelLimits

    model = load_checkpoint(GOOD, limits=ModelLimits(hidden=64, layers=1))
    assert model.config.hidden_size == 64
    for limits, words in (
        (ModelLimits(hidden=32, layers=3), "64 units; this page takes at most 32"),
        (ModelLimits(hidden=64, layers=3, vocab=10), "characters; this page takes at most 10"),
    ):
        with pytest.raises(CheckpointError, match=words):
            load_checkpoint(GOOD, limits=limits)


def test_a_text_with_too_many_characters_is_refused_in_one_line():
    huge = "".join(chr(c) for c in range(0x4E00, 0x4E00 + 1500)) * 2
    with pytest.raises(TextError) as info:
        lstm_core.prepare_corpus(huge)
    assert info.value.code == "vocab_large" and "1500 different characters" in str(info.value)


def test_a_pickled_checkpoint_never_runs_its_payload(tmp_path):
    """The object array is refused before anything in it is touched: a marker file it would
    create on unpickling never appears."""
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    buf = io.BytesIO()
    np.save(buf, np.array([Payload()], dtype=object), allow_pickle=True)
    data = zipped("meta.npy", buf.getvalue())
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(data)
    assert not marker.exists()


# ==================================================================================== the URL
def page_params(page: str) -> tuple:
    open_app(page)  # importing the page registers its parameters
    return params.REGISTRY[page]


NUMERIC_PAGES = [p.id for p in PAGES if not p.default]
BAD_VALUES = {  # how to spoil a numeric parameter
    "words": lambda p: "twelve",
    "empty": lambda p: "",
    "nan": lambda p: "nan",
    "infinite": lambda p: "1e999",
    "huge": lambda p: "9" * 40,
    "below": lambda p: str(p.low - 1) if p.low is not None else None,
    "beyond": lambda p: str(p.high * 10 + 1) if p.high is not None else None,
    "negative-size": lambda p: "-64" if (p.low or 0) >= 0 else None,
    "script": lambda p: "<script>window.x=1</script>",
}


@pytest.mark.parametrize("bad", list(BAD_VALUES))
@pytest.mark.parametrize("page", NUMERIC_PAGES)
def test_every_numeric_url_parameter_refuses_bad_values(page, bad):
    numeric = [p for p in page_params(page) if p.kind in ("int", "float")]
    query = {p.name: BAD_VALUES[bad](p) for p in numeric}
    query = {k: v for k, v in query.items() if v is not None}
    at = open_app(page, **query)
    assert_clean(at)
    warned = " ".join(w.value for w in at.warning)
    for p in numeric:
        if p.name in query:
            assert f"`{p.name}`" in warned or p.name in warned, (p.name, warned[:300])
            value = at.session_state[p.name] if p.name in at.session_state else p.default  # noqa: SIM401
            assert p.low is None or value >= p.low
            assert p.high is None or value <= p.high
    assert "<script>" not in visible_text(at)


@pytest.mark.parametrize("edge", ["low", "high"])
@pytest.mark.parametrize("page", NUMERIC_PAGES)
def test_every_numeric_url_parameter_accepts_its_bounds(page, edge):
    numeric = [
        p for p in page_params(page) if p.kind in ("int", "float") and getattr(p, edge) is not None
    ]
    query = {p.name: params._fmt(getattr(p, edge)) for p in numeric}
    at = open_app(page, **query)
    assert_clean(at)
    assert not at.warning or all(
        not any(f"`{p.name}`" in w.value for p in numeric) for w in at.warning
    ), [w.value for w in at.warning]


@pytest.mark.parametrize("page", NUMERIC_PAGES)
def test_choices_and_texts_refuse_garbage(page):
    ps = [p for p in page_params(page) if p.kind in ("choice", "bool", "ints")]
    if not ps:
        pytest.skip(f"the page {page} has no choices")
    query = {p.name: "<img src=x onerror=alert(1)>" for p in ps}
    at = open_app(page, **query)
    assert_clean(at)
    text = visible_text(at)
    assert "<img" not in text
    warned = " ".join(w.value for w in at.warning)  # one warning, a line for each
    assert len(at.warning) == 1 and all(f"**{p.name}**" in warned for p in ps), warned[:300]


# ==================================================================================== shown back
HOSTILE = "<script>window.x=1</script> <img src=x onerror=alert(1)> **bold** [link](javascript:alert(1)) $x^2$"


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("cell", {"model": "text_en", "input": HOSTILE}),
        ("belt", {"belt_model": "text_en", "belt_text": HOSTILE}),
        ("text", {"prime": HOSTILE, "speed": "instant", "length": 20}),
    ],
)
def test_hostile_text_is_shown_literally(page, query):
    at = open_app(page, **query)
    if page == "text":
        at.button(key="gen_generate").click().run()
    assert_clean(at)
    for element in (*at.markdown, *at.caption, *at.warning, *at.info, *at.error):
        value = str(element.value)
        assert "<script" not in value and "<img" not in value, value[:200]
        assert "](javascript:" not in value, value[:200]
    if page == "text":
        assert "onerror" in at.code[0].value  # the prime, as far as the model can read it, as text


def test_pasted_hostile_text_is_escaped_in_the_vocabulary_and_timeline():
    at = open_app("text", corpus="paste", model="new", hidden_size=16)
    at.text_area(key="text.paste").input((HOSTILE + "\n") * 40).run()
    assert_clean(at)
    chips = next(m.value for m in at.markdown if m.value.count("`") > 10)
    assert "<" in chips and "<script" not in chips  # characters, one by one, in code spans


# ==================================================================================== divergence
def test_the_echo_page_stops_a_diverging_run_and_keeps_the_session():
    at = open_app("echo", learning_rate=1e6, optimizer="sgd")
    at.button(key="echo_train").click().run()
    for _ in range(6):
        at.run()
    assert_clean(at)
    assert any("learning rate" in e.value for e in at.error)
    run = at.session_state["echo.run"]
    assert all(np.isfinite(tr.model.flat).all() for tr in run.trainers.values())
    at.button(key="echo_preset_notebook").click().run()  # and the page is usable again
    assert_clean(at)
    assert not at.error


def test_the_command_line_stops_a_diverging_run(tmp_path):
    (tmp_path / "t.txt").write_text(STORY)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "lstm_core",
            "train-text",
            "--text",
            str(tmp_path / "t.txt"),
            "--out",
            str(tmp_path / "m.npz"),
            "--steps",
            "50",
            "--learning-rate",
            "1e6",
            "--optimizer",
            "sgd",
            "--hidden-size",
            "16",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr
    assert "learning rate" in proc.stderr + proc.stdout
    if (tmp_path / "m.npz").exists():  # whatever it kept is finite
        assert np.isfinite(load_checkpoint(tmp_path / "m.npz").flat).all()


# ==================================================================================== anything at all
@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_any_url_string_is_a_value_in_bounds_or_a_reason(raw):
    for p in (
        params.Param("n", 5, "int", low=1, high=512),
        params.Param("x", 0.5, "float", low=0.0, high=1.0),
        params.Param("c", "a", "choice", options=("a", "b")),
        params.Param("b", False, "bool"),
        params.Param("l", (), "ints", low=0, high=99, max_length=4),
    ):
        try:
            value = p.parse(raw)
        except ValueError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        if p.kind in ("int", "float"):
            assert p.low <= value <= p.high and np.isfinite(value)
        elif p.kind == "choice":
            assert value in p.options
        elif p.kind == "ints":
            assert len(value) <= 4 and all(0 <= v <= 99 for v in value)


@given(st.text(max_size=400), st.booleans(), st.integers(1, 80))
@settings(max_examples=200, deadline=None)
def test_any_text_prepares_or_says_why(text, lowercase, seq_length):
    from ui.corpora import prepare

    try:
        corpus = prepare(text, lowercase, seq_length)
    except TextError as exc:
        assert exc.code and "\n" not in str(exc)
        return
    assert len(corpus.train_ids) >= seq_length + 1
    assert corpus.train_ids.max() < len(corpus.vocab)


@given(st.binary(max_size=4000))
@settings(max_examples=200, deadline=None)
def test_any_bytes_as_a_checkpoint_fail_with_one_line(data):
    try:
        load_checkpoint(data)
    except CheckpointError as exc:
        assert "\n" not in str(exc) and exc.code


def test_checkpoint_bytes_round_trip_stays_clean():
    model = load_checkpoint(GOOD)
    assert load_checkpoint(checkpoint_bytes(model)).flat.tolist() == model.flat.tolist()


# ==================================================================================== many users
def test_sessions_train_their_own_models_and_leave_shared_ones_alone():
    """Two students at once: each trains its own model in its own worker; the pretrained model
    every session starts from (a shared, cached object) is exactly the file after they are done."""
    from conftest import wait_for

    from ui import samples

    a = open_app("text", model="sample")
    b = open_app("text", model="new", hidden_size=24, seed=3)
    for at in (a, b):
        at.button(key="gen_train").click().run()
    bg_a, bg_b = a.session_state["text.bg"], b.session_state["text.bg"]
    try:
        assert bg_a is not bg_b and bg_a.worker.proc.pid != bg_b.worker.proc.pid
        assert wait_for(lambda: bg_a.worker.steps > 5 and bg_b.worker.steps > 5)
        for at in (a, b):
            at.button(key="gen_pause").click().run()
            assert_clean(at)
        assert bg_a.model.config.hidden_size == 128 and bg_b.model.config.hidden_size == 24
        shared = samples.model("logbook")
        on_disk = load_checkpoint(ROOT / "samples" / "logbook_h128.npz")
        assert shared.flat.tolist() == on_disk.flat.tolist()  # training copied it first
        assert bg_a.model.flat.tolist() != on_disk.flat.tolist()
    finally:
        bg_a.close()
        bg_b.close()


def test_interventions_on_a_page_never_touch_the_cached_models():
    from ui import bptt_models, models

    before = models.sample_model("text_en").flat.copy()
    at = open_app("cell", model="text_en", clamp_gate="f", clamp_unit=3, clamp_value=-1)
    assert_clean(at)
    at = open_app("belt", belt_model="text_en", belt_text="(quoted) text")
    assert_clean(at)
    np.testing.assert_array_equal(models.sample_model("text_en").flat, before)
    pair = bptt_models.pair("echo", 32, 100, 3, 0).models  # trained: the cached pair the page reads
    weights = {k: m.flat.copy() for k, m in pair.items()}
    at = open_app("bptt", bptt_scale=4, bptt_forget=5, bptt_hidden=32, bptt_steps=100)
    assert_clean(at)
    for k, m in bptt_models.pair("echo", 32, 100, 3, 0).models.items():
        np.testing.assert_array_equal(m.flat, weights[k])


def test_the_server_paces_live_views_when_a_class_trains_at_once(monkeypatch):
    from ui import load

    monkeypatch.setattr(load, "_training", {})  # as if no other test's session trained just now

    assert load.pace(1) == 1 and load.pace(load.FULL_RATE) == 1
    assert load.pace(load.FULL_RATE + 1) == 2 and load.pace(4 * load.FULL_RATE) == 4
    assert (
        load.pace(30) * load.FULL_RATE >= 30
    )  # the drawing work stays about FULL_RATE views' worth
    shares = []
    with load.training_slot("a") as share:
        shares.append(share)
    with load.training_slot("b") as share:
        shares.append(share)
    assert shares == [1.0, 0.5]  # two sessions training in the server: each gets half a slice


def test_a_text_worker_may_use_two_threads_only_while_its_session_trains_alone(monkeypatch):
    from ui import load

    monkeypatch.setattr(load, "_seen", {})
    monkeypatch.setattr(load.os, "cpu_count", lambda: 2)
    assert load.blas_threads("me") == 2
    load.tick("me", "text")
    assert load.blas_threads("me") == 2  # its own view does not count
    load.tick("you", "echo")
    assert load.blas_threads("me") == 2  # nor another page's
    load.tick("you", "text")
    assert load.blas_threads("me") == 1 and load.blas_threads("you") == 1
    monkeypatch.setattr(load, "WORKER_THREADS", 1)  # LSTM_LAB_WORKER_THREADS=1
    monkeypatch.setattr(load, "_seen", {})
    assert load.blas_threads("me") == 1


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_text_page_refuses_its_largest_settings_in_one_line(lang):
    """Hidden 512, 3 layers, windows of 400, batch 256 once took 12 GB in one worker: now Train
    says what they would need and which setting to lower, and starts no worker."""
    at = open_app(
        "text",
        lang=lang,
        model="new",
        hidden_size=512,
        num_layers=3,
        seq_length=400,
        batch_size=256,
    )
    at.button(key="gen_train").click().run()
    bg = at.session_state["text.bg"]
    try:
        assert_clean(at)
        assert bg.worker is None
        said = " ".join(e.value for e in at.error)
        assert "MB" in said and {"en": "lower the batch size", "es": "baja el tamaño"}[lang] in said
        at.query_params["batch_size"] = "8"
        at.session_state["batch_size"] = 8  # the learner lowers it: Train trains
        at.run()
        at.button(key="gen_train").click().run()
        assert at.session_state["text.bg"].running
    finally:
        at.session_state["text.bg"].close()


def test_the_belt_page_refuses_a_model_larger_than_it_can_draw():
    """600 units: a good checkpoint, but its clustering alone would hold the server for seconds
    at every rerun. Refused from the meta, in one line that says the page's limit."""
    from lstm_core.budget import UPLOAD_LIMITS

    most = UPLOAD_LIMITS["belt"].hidden
    vocab = Vocabulary.from_text("abc ")
    big = Model.create(ModelConfig("char-lm", "lstm", 4, most + 88, 1, 4, vocab=vocab.chars))
    at = open_app("belt", belt_model="upload")
    data = checkpoint_bytes(big)
    at.file_uploader(key="belt_upload").set_value(("big.npz", data, "application/octet-stream"))
    at.run()
    assert_clean(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and f"{most + 88}" in errors[0] and f"{most}" in errors[0], errors


def test_a_text_is_prepared_once_for_every_session_that_brings_it():
    """The text page prepares its corpus at every rerun: the second time (or another session
    with the same text) takes the first one's ids, which nobody can change."""
    from ui import corpora

    first = corpora.prepare(STORY + " once", True, 60)
    again = corpora.prepare(STORY + " once", True, 60)
    assert again is first and not first.train_ids.flags.writeable
    other = corpora.prepare(STORY + " once", False, 60)
    assert other is not first


TRAIN_BUTTONS = {"echo": "echo_train", "text": "gen_train", "bptt": "bptt_explode"}


@pytest.mark.slow
@pytest.mark.parametrize("edge", ["high", "low"])
@pytest.mark.parametrize("page", list(TRAIN_BUTTONS))
def test_training_at_every_bound_at_once_reaches_no_exception_box(page, edge):
    """Every numeric parameter of the page at its bound at once (so batch × window, hidden ×
    layers × window are at their largest or smallest products), then the page's own Train:
    a message or training, never an exception box, and the page answers its next rerun."""
    numeric = [
        p for p in page_params(page) if p.kind in ("int", "float") and getattr(p, edge) is not None
    ]
    query = {p.name: params._fmt(getattr(p, edge)) for p in numeric}
    if page == "text":
        query["model"] = "new"
    at = open_app(page, **query)
    assert_clean(at)
    try:
        button = at.button(key=TRAIN_BUTTONS[page])
        if not button.disabled:
            button.click().run()
        assert_clean(at)
        at.run()
        assert_clean(at)
    finally:
        bg = at.session_state["text.bg"] if "text.bg" in at.session_state else None  # noqa: SIM401 - AppTest state has no get
        if bg is not None:
            bg.close()
