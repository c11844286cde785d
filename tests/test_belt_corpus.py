"""The belt page's generated text (lstm_core/belt_corpus.py) and the quote search on Spanish
dialogue: what the corpus promises a model must hold, checked on the text itself."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from lstm_core.analysis import inside_quotes, paren_depth
from lstm_core.belt_corpus import BRACKETS, belt_inputs, generate_belt_corpus
from lstm_core.cli import main


@pytest.fixture(scope="module")
def corpus() -> str:
    return generate_belt_corpus()


def marked(text: str) -> str:
    """The text with every character outside quotes shown as _."""
    return "".join(ch if v else "_" for ch, v in zip(text, inside_quotes(text), strict=True))


# ------------------------------------------------------------------ the quote search, dialogue
def test_spanish_dialogue_dashes_open_close_and_reopen_the_speech():
    line = "—¿Vienes? —preguntó Marta—. Ven pronto.\nElla esperó."
    assert marked(line) == "—¿Vienes? —" + "_" * len("preguntó Marta") + "—. Ven pronto." + "_" * 13
    # the aside's dashes belong to the speech they close and reopen; the newline ends it all
    assert marked("—Hola —dijo.\nNada") == "—Hola —" + "_" * len("dijo.\nNada")


def test_a_dash_inside_a_line_that_did_not_open_with_one_is_an_ordinary_dash():
    assert inside_quotes("the sea — cold — waited").sum() == 0
    assert marked("  —sí.") == "__—sí."  # indentation before the dash: still the line's start
    assert marked('he said "no" — twice') == '________"no"________'


def test_quotes_and_guillemets_still_work_in_and_around_dialogue():
    assert marked("«sí», dijo") == "«sí»______"
    assert marked('—Ella dijo "no" —dijo él.') == '—Ella dijo "no" —' + "_" * len("dijo él.")


def test_the_belt_pages_spanish_example_is_searched_as_dialogue():
    from ui.models import BELT_EXAMPLES

    text = BELT_EXAMPLES["text_es"]  # —¿por qué cuentas los escalones? —preguntó marta (...)
    first = text.split("\n")[0]
    assert marked(first).startswith("—¿por qué cuentas los escalones? —_")
    assert inside_quotes(first)[first.index("preguntó")] == 0


# ------------------------------------------------------------------------------- the corpus
def test_the_corpus_depends_only_on_its_seed(corpus):
    assert generate_belt_corpus() == corpus
    assert generate_belt_corpus(7, 4000) == generate_belt_corpus(7, 4000)
    assert generate_belt_corpus(7, 4000) != generate_belt_corpus(8, 4000)
    assert len(corpus.encode("utf-8")) >= 220_000


def test_the_shipped_belt_text_is_the_generators_output(corpus):
    assert (ROOT / "samples" / "belt.txt").read_text(encoding="utf-8") == corpus


def test_the_corpus_command_writes_it(tmp_path, corpus):
    out = tmp_path / "b.txt"
    assert main(["corpus", "--kind", "belt", "--out", str(out), "--min-bytes", "3000"]) == 0
    assert out.read_text(encoding="utf-8") == generate_belt_corpus(1931, 3000)
    assert corpus.startswith(out.read_text(encoding="utf-8"))


def test_every_bracket_closes_on_its_own_kind_up_to_three_deep(corpus):
    stack, deepest, closings = [], 0, {v: k for k, v in BRACKETS.items()}
    for ch in corpus:
        if ch in BRACKETS:
            stack.append(ch)
            deepest = max(deepest, len(stack))
        elif ch in closings:
            assert stack.pop() == closings[ch]
    assert not stack and deepest == 3
    assert all(corpus.count(k) > 1000 for k in BRACKETS)
    assert paren_depth(corpus).max() == 3


def test_every_quotation_closes_on_its_line(corpus):
    lines = [line for line in corpus.splitlines() if line]
    assert all(line.count('"') % 2 == 0 for line in lines)
    assert all(line.count("«") == line.count("»") for line in lines)
    dialogue = [line for line in lines if line.startswith("—")]
    asides = [line for line in dialogue if re.search(r" —\w+ [^—]+—\. ", line)]
    assert len(dialogue) > 300 and len(asides) > 50
    assert sum("¿" in line for line in dialogue) > 100
    assert sum('"' in line for line in lines) > 300


def test_what_is_said_reads_like_what_is_told_but_in_the_present(corpus):
    """The point of the corpus: inside a quotation the words are the narration's, except that
    what is said is in the present and what is told in the past. So only the opening mark tells
    a model where it is, and every verb of the quotation needs it again, up to its end."""
    from lstm_core.belt_corpus import EN, ES

    text = corpus.lower()
    inside = inside_quotes(text).astype(bool)
    words = {True: set(), False: set()}
    for m in re.finditer(r"[^\W\d_]+", text):
        words[bool(inside[m.start()])].add(m.group())
    said = {"said", "answered", "asked", "called", "dijo", "respondió", "preguntó", "gritó"}
    now = set(EN["now"]) | set(ES["now"])
    past = set(EN["verbs"]) | set(ES["verbs"])
    questions = {"who", "lit", "where", "is", "oil", "fog", "lifting"} | {
        "quién",
        "encendió",
        "dónde",
        "está",
        "aceite",
        "se",
        "levanta",
        "niebla",
    }  # only the questions are said and never told
    assert words[True] - words[False] <= questions | now
    assert now <= words[True] and not now & words[False]  # the present: only in quotations
    assert past <= words[False] and not past & words[True]  # the past: only outside them
    assert said <= words[False]
    quoted = [len(m.group()) for m in re.finditer(r'"[^"]*"', text)]
    assert max(quoted) > 200 and sorted(quoted)[len(quoted) // 2] > 40  # many characters long


def test_fresh_inputs_are_whole_lines_of_unseen_text(corpus):
    inputs = belt_inputs(4242, 8000)
    assert all(len(x) <= 400 and x.endswith("\n") for x in inputs)
    assert sum(map(len, inputs)) > 6000
    assert not any(x in corpus for x in inputs if len(x) > 200)  # another seed: other text
