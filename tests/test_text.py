"""Reading texts, the vocabulary, training windows, bits per character."""

import codecs

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_core import (
    Model,
    ModelConfig,
    TextError,
    Vocabulary,
    decode_text,
    prepare_corpus,
    read_text,
)
from lstm_core.text import bits_per_character, sample_windows


def test_utf8_with_and_without_bom(tmp_path):
    text = "¡Hola, señor Bolsón!\nQué tal."
    plain = decode_text(text.encode("utf-8"))
    bom = decode_text(codecs.BOM_UTF8 + text.encode("utf-8"))
    assert plain.text == bom.text == text
    assert plain.notice == "" and bom.encoding == "utf-8-sig"
    assert not bom.text.startswith("\ufeff")
    path = tmp_path / "t.txt"
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    assert read_text(path).text == text


def test_windows_1252_fallback_says_so():
    loaded = decode_text("“Él comió”, dijo — café".encode("cp1252"))
    assert loaded.text == "“Él comió”, dijo — café"
    assert loaded.encoding == "windows-1252" and "Windows-1252" in loaded.notice


def test_line_endings_become_lf():
    assert decode_text(b"one\r\ntwo\rthree\nfour").text == "one\ntwo\nthree\nfour"


def test_utf16_with_bom():
    loaded = decode_text("línea uno\r\nlínea dos".encode("utf-16"))
    assert loaded.text == "línea uno\nlínea dos" and "UTF-16" in loaded.notice


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100),
        b"PK\x03\x04\x14\x00\x00\x00" + bytes(64),
        bytes(range(32)) * 4,
    ],
)
def test_binary_files_are_refused(data):
    with pytest.raises(TextError, match="binary"):
        decode_text(data)


def test_missing_file(tmp_path):
    with pytest.raises(TextError, match="no such file"):
        read_text(tmp_path / "nope.txt")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_decode_or_fail_with_one_line(data):
    try:
        loaded = decode_text(data)
    except TextError as exc:
        assert "\n" not in str(exc)
        return
    assert "\r" not in loaded.text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
def test_any_text_survives_utf8_round_trip(text):
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        assert decode_text(text.encode("utf-8")).text == expected
    except TextError:
        assert any(ord(ch) < 32 and ch not in "\t\n\r\x0c\x1b" for ch in text[:8192])


def test_vocabulary_is_the_sorted_set_of_characters():
    vocab = Vocabulary.from_text("banana!")
    assert vocab.chars == ("!", "a", "b", "n")
    ids = vocab.encode("nab!")
    assert ids.tolist() == [3, 1, 2, 0] and ids.dtype == np.int32
    assert vocab.decode(ids) == "nab!"


def test_unknown_characters_are_named_or_skipped():
    vocab = Vocabulary.from_text("abc")
    with pytest.raises(TextError, match=r"'x' 'y'"):
        vocab.encode("axbyx")
    assert vocab.decode(vocab.encode("axbyx", skip_unknown=True)) == "ab"
    assert vocab.unknown("zaz") == ["z"]


def test_prepare_corpus_lowercases_and_refuses_useless_texts():
    text, vocab = prepare_corpus("The Hobbit", lowercase=True)
    assert text == "the hobbit" and "T" not in vocab
    with pytest.raises(TextError, match="empty"):
        prepare_corpus("  \n ")
    with pytest.raises(TextError, match="single character"):
        prepare_corpus("aaaaaaa")
    with pytest.raises(TextError, match="at least 61"):
        prepare_corpus("short text", min_length=61)


def test_windows_predict_the_next_character(rng):
    ids = np.arange(100)
    x, y = sample_windows(ids, 60, 8, rng)
    assert x.shape == y.shape == (60, 8)
    np.testing.assert_array_equal(y, x + 1)
    np.testing.assert_array_equal(np.diff(x, axis=0), 1)  # contiguous windows
    assert x.min() >= 0 and y.max() <= 99


def test_bits_per_character_of_a_uniform_model_is_log2_v():
    vocab = tuple("abcdefgh")
    model = Model.create(ModelConfig("char-lm", "lstm", 8, 4, 1, 8, vocab=vocab), seed=0)
    model.flat[:] = 0.0  # every output equally likely
    bpc, scored, skipped = bits_per_character(model, "abcdefgh" * 50 + "XYZ")
    assert abs(bpc - 3.0) < 1e-6
    assert skipped == 3 and scored > 350
