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
    assert all(corpus.count(k) > 250 for k in BRACKETS)
    assert paren_depth(corpus).max() == 3


def test_every_line_inside_brackets_is_indented_by_the_brackets_open(corpus):
    """The depth decides every line of a note: two spaces per bracket open where the line starts
    (one fewer on the line that closes one), so a model must keep the count to the line's end."""
    depth, lines = 0, 0
    for line in corpus.split("\n"):
        closing = line.lstrip(" ")[:1] in BRACKETS.values()
        assert len(line) - len(line.lstrip(" ")) == 2 * (depth - closing), line
        for ch in line:
            depth += (ch in BRACKETS) - (ch in BRACKETS.values())
        lines += depth > 0
    assert depth == 0 and lines > 1000


def test_every_quotation_closes_on_its_line(corpus):
    lines = [line for line in corpus.splitlines() if line]
    assert all(line.count('"') % 2 == 0 for line in lines)
    assert all(line.count("«") == line.count("»") for line in lines)
    dialogue = [line for line in lines if line.startswith("—")]
    asides = [line for line in dialogue if re.search(r" —\w+ [^—]+—\. ", line)]
    assert len(dialogue) > 200 and len(asides) > 50
    assert sum("¿" in line for line in dialogue) > 100
    assert sum('"' in line for line in lines) > 300


def test_every_word_said_begins_with_a_capital_and_reads_like_what_is_told(corpus):
    """The point of the corpus: inside a quotation every word begins with a capital, outside it
    only the first of a sentence and the names do, so at every space a model must know whether
    a quotation is open, which only its opening mark says. The words are the narration's, in
    the present (what is said) instead of the past (what is told)."""
    from lstm_core.belt_corpus import EN, ES

    inside = inside_quotes(corpus).astype(bool)
    words = {True: set(), False: set()}
    for m in re.finditer(r"[^\W\d_]+", corpus):
        words[bool(inside[m.start()])].add(m.group())
    assert all(word[0].isupper() for word in words[True])
    names = {"Marta", "Tomás"}
    assert {w for w in words[False] if w[0].isupper()} - names <= {
        w.capitalize() for w in words[False]
    }  # a capital outside: a sentence's first word, or a name
    lower = sum(w[0].islower() for w in words[False])
    assert lower > 30
    said = {"said", "answered", "asked", "called", "dijo", "respondió", "preguntó", "gritó"}
    now = {w.capitalize() for w in EN["now"] + ES["now"]}
    past = set(EN["verbs"]) | set(ES["verbs"])
    assert now <= words[True] and not {w.lower() for w in now} & words[False]
    assert past <= words[False] and not {w.capitalize() for w in past} & words[True]
    assert said <= words[False]
    quoted = [len(m.group()) for m in re.finditer(r'"[^"]*"', corpus)]
    assert max(quoted) > 200 and sorted(quoted)[len(quoted) // 2] > 40  # many characters long


def test_fresh_inputs_are_whole_paragraphs_of_unseen_text(corpus):
    inputs = belt_inputs(4242, 8000)
    assert all(len(x) <= 400 and x.endswith("\n") for x in inputs)
    assert sum(map(len, inputs)) > 6000
    assert not any(x in corpus for x in inputs if len(x) > 200)  # another seed: other text
    for x in inputs:  # no input starts or ends inside a bracket
        assert x[0] not in " )]}" and paren_depth(x)[-1] == 0
