"""Both catalogs complete, every key the code asks for present, the sources' Spanish vocabulary."""

import re
import string

from conftest import ROOT

from lstm_core import GATES
from lstm_core.cells import CELLS
from ui import models
from ui.frame import PAGES
from ui.i18n import LANGUAGES, MISSING, catalog, t


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_exists_in_every_language():
    keys = {lang: set(catalog(lang)) for lang in LANGUAGES}
    english = keys["en"]
    for lang, ks in keys.items():
        assert ks == english, (
            f"{lang}: missing {sorted(english - ks)}, extra {sorted(ks - english)}"
        )


def test_placeholders_agree_and_nothing_is_empty():
    en, es = catalog("en"), catalog("es")
    for key, text in en.items():
        assert text.strip() and es[key].strip(), key
        assert placeholders(text) == placeholders(es[key]), key


def test_spanish_uses_the_vocabulary_of_the_source_texts():
    spanish = " ".join(catalog("es").values()).lower()
    for term in (
        "compuerta de olvido",
        "compuerta de entrada",
        "compuerta de salida",
        "estado de la celda",
        "banda transportadora",
    ):
        assert term in spanish, term


def used_keys() -> set[str]:
    """Every catalog key the code asks for: literal t("...") calls, plus the keys built from
    names (pages, model sources, gates, vector names, diagram labels)."""
    keys = set()
    for folder in ("app_pages", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            keys |= set(re.findall(r'\bt\(\s*"([a-z_]+\.[a-z0-9_.]+)"', path.read_text()))
    for page in PAGES:
        keys.add(f"nav.{page.id}")
        if not page.default:
            keys |= {f"home.promise_{page.id}", f"{page.id}.title", f"{page.id}.intro"}
    keys |= {f"cell.model_{s}" for s in (*models.SOURCES, "echo_gru")}
    keys |= {f"gate.{g}" for g in ("none", *GATES)}
    keys |= {
        f"cell.diagram_{k}"
        for k in (
            *("input", "belt", "forget", "input_gate", "candidate", "output"),
            *("memory", "update", "reset", "recurrent"),
        )
    }
    for kind in CELLS.values():  # the cell page's words for each cell with gates
        if kind.gates:
            keys |= {f"gate.{g}" for g in kind.gates}
            keys |= {f"cell.vector_{k}" for k in kind.vectors}
            keys |= {f"{k}_{kind.name}" for k in page_said("cell")}
    for kind in CELLS.values():  # the belt page's: every cell, the plain RNN too
        skip = set()  # what the page says only of some cells (its own conditions)
        if kind.keeps is None:  # no valve on its memory: no flow section
            skip |= {k for k in page_said("belt") if k.startswith("belt.flow_")}
        if not kind.gates:
            skip.add("belt.gates")
        if "write" not in kind.belt_rows:  # only a GRU's belt has a row for what is written
            skip.add("belt.vector")
        keys |= {f"{k}_{kind.name}" for k in page_said("belt") - skip}
        keys |= {f"cell.vector_{q}" for q in kind.belt_rows if q != "write"}
    return keys


def page_said(page: str) -> set[str]:
    """The keys a page says in each cell's own words: said("cell.x") asks cell.x_<cell>."""
    return set(
        re.findall(
            r'\bsaid\(\s*"([a-z_]+\.[a-z0-9_]+)"', (ROOT / "app_pages" / f"{page}.py").read_text()
        )
    )


def test_every_page_speaks_each_cells_words():  # the scan itself finds what the pages say
    said = page_said("cell") | page_said("belt")
    assert {"cell.intervene_intro", "belt.role", "belt.reading_guide"} <= said


def test_every_key_the_code_uses_is_in_the_catalog():
    missing = sorted(k for k in used_keys() if k not in catalog("en"))
    assert not missing, missing


def test_a_missing_key_is_visible():
    assert t("no.such_key", lang="es") == MISSING.format("no.such_key")
    assert t("cell.unit", lang="es", h=7) == "Unidad (de 0 a 7)"


def problem_codes() -> dict[str, set[str]]:
    """Every code the core gives a problem, read from the source: the second
    argument of an *Error(...)/LabError(...) call, the code of Trainer._refuse and worker.note."""
    import ast

    codes = {"errors": set(), "why": set()}
    for path in (ROOT / "lstm_core").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None) or ""
            literal = [
                a.value
                for a in node.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if name in ("LabError", "TextError", "CheckpointError", "FetchError", "PropertyError"):
                if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
                    codes["errors"].add(node.args[1].value)
            elif (
                name == "_refuse" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
            ):
                codes["why"].add(node.args[1].value)
            elif name == "note" and literal:
                codes["errors"].add(literal[0])
    return codes


def test_every_problem_the_core_reports_speaks_both_languages():
    codes = problem_codes()
    assert {
        "ckpt_pickle",
        "url_timeout",
        "binary",
        "echo_too_short",
        "regex_nested",
        "idle",
    } <= codes["errors"]
    assert codes["why"] == {"loss_nan", "loss_climbed", "grad_nan", "weight_nan"}
    expected = {f"errors.{c}" for c in codes["errors"] | {"diverged"}} | {
        f"errors.why_{c}" for c in codes["why"]
    }
    for lang in LANGUAGES:
        missing = sorted(k for k in expected if k not in catalog(lang))
        assert not missing, (lang, missing)


def test_text_page_choices_and_notices_have_labels():
    from ui import corpora

    keys = {f"text.corpus_{s}" for s in corpora.SOURCES}
    keys |= {f"text.model_{m}" for m in ("sample", "new", "upload")}
    keys |= {f"text.optimizer_{o}" for o in ("adam", "adagrad", "sgd")}
    keys |= {f"text.speed_{s}" for s in ("instant", "fast", "medium", "slow")}
    keys |= {f"text.need_{s}" for s in ("upload", "paste", "url", "text")}
    keys |= {f"text.notice_{n}" for n in ("utf16", "cp1252", "gutenberg")}
    for lang in LANGUAGES:
        assert not sorted(k for k in keys if k not in catalog(lang)), lang


def test_explain_translates_escapes_and_falls_back():
    from lstm_core import CheckpointError, LabError
    from ui.i18n import explain

    exc = CheckpointError(
        "'<b>x</b>' has shape (2,), expected (3,) from meta",
        "ckpt_shape",
        key="<b>x</b>",
        shape="(2,)",
        expected="(3,)",
    )
    assert (
        explain(exc, lang="es")
        == "el peso &lt;b&gt;x&lt;\\/b&gt; tiene forma \\(2,\\); su descripción dice \\(3,\\)"
    )
    assert "<b>" not in explain(exc, lang="en")
    assert explain(exc.as_dict(), lang="es") == explain(exc, lang="es")
    diverged = LabError("training stopped", "diverged", step=7, learning_rate=50.0, why="grad_nan")
    assert explain(diverged, lang="es").startswith(
        "El entrenamiento se detuvo en el paso 7: el gradiente ya no es finito."
    )
    assert "50" in explain(diverged, lang="en")
    assert (
        explain(LabError("an *unforeseen* thing", "no_such_code"), lang="es")
        == "an \\*unforeseen\\* thing"
    )
    assert explain(ValueError("plain"), lang="es") == "plain"
    assert explain(None) == ""


# ==================================================================================== numbers
def test_numbers_are_written_the_languages_way():
    from ui.i18n import num, separators, tex

    assert num(219736, ",", lang="en") == "219,736" and num(219736, ",", lang="es") == "219.736"
    assert num(5.285, ".3f", lang="es") == "5,285" and num(0.3, "", lang="es") == "0,3"
    assert num(1234.5, ",.1f", lang="es") == "1.234,5" and num(0.125, ".1%", lang="es") == "12,5 %"
    assert num(0.999, ".1%", lang="en") == "99.9%" and num(0.99, ".0%", lang="es") == "99 %"
    assert num(3, lang="es") == "3" and num(1e-6, "g", lang="es") == "1e-06"
    assert separators("en") == ".," and separators("es") == ",."
    assert f"{tex(0.125):.3f}" == "0.125"  # outside a session: English
    from ui.i18n import _Number

    assert f"{_Number(-0.125, 'es', tex=True):+.3f}" == "-0{,}125"  # LaTeX: no space after it


def test_t_writes_every_number_it_is_given_the_languages_way():
    written = {"n": 120, "total": 300, "temperature": 0.7, "seed": 10}
    assert "temperature 0.7 " in t("text.written", lang="en", **written)
    assert "temperatura 0,7 " in t("text.written", lang="es", **written)
    progress = {
        "cell": "LSTM",
        "epoch": 1,
        "epochs": 5,
        "window": 3,
        "windows": 10,
        "seconds": 0.25,
        "speed": 1234.5,
    }
    assert "0,2 s" in t("echo.progress", lang="es", **progress)  # the catalog's own {:.1f}
    assert "0.2 s" in t("echo.progress", lang="en", **progress)
    assert t("cell.unit", lang="es", h=True) == "Unidad (de 0 a True)"  # bools are left alone


def test_explain_writes_numbers_the_languages_way():
    from lstm_core import LabError
    from ui.i18n import explain

    climbed = LabError(
        "loss climbed",
        "diverged",
        step=7,
        learning_rate=0.5,
        why="loss_climbed",
        loss=5.285,
        chance=3.25,
    )
    assert "5,285" in explain(climbed, lang="es") and "5.285" not in explain(climbed, lang="es")
    assert "5.285" in explain(climbed, lang="en")


def test_no_prose_number_in_the_spanish_catalog_uses_an_english_decimal_point():
    for key, text in catalog("es").items():
        prose = re.sub(r"\$[^$]*\$|`[^`]*`|\{[^}]*\}|https?://\S+", "", text)  # maths, code, links
        assert not re.search(r"\d\.\d{1,2}(?!\d)", prose), (key, text)


def test_one_percent_style_per_language_in_prose_figures_and_the_catalog():
    """Spanish writes "99,9 %" (a space before the sign) everywhere: numbers given to
    t(), numbers written into figures' own text, and percentages written out in the catalog."""
    from ui import figures

    assert t("text.sure", lang="es", p=0.308) == "Su primera opción ahí tenía un 30,8 %."
    assert t("text.sure", lang="en", p=0.308) == "Its first choice there had 30.8%."
    assert figures.num(0.308, ".1%", {"decimal": ","}) == "30,8 %"  # a page passing the comma only
    assert figures.num(1234.5, ",.1f", {"decimal": ","}) == "1.234,5"
    assert figures.num(0.308, ".1%", {}) == "30.8%"
    for key, text in catalog("es").items():
        prose = re.sub(r"\{[^}]*\}|%\{[^}]*\}", "", text)  # placeholders, Plotly's %{x}
        assert not re.search(r"\d%", prose), (key, text)  # "20 %", never "20%"
    axis = figures.percent_axis(1.15, {"decimal": ","})
    assert axis["ticktext"] == ["0 %", "25 %", "50 %", "75 %", "100 %"]
    assert axis["tickvals"] == [0.0, 0.25, 0.5, 0.75, 1.0] and axis["range"] == [0.0, 1.15]
    assert figures.percent_axis(0.33, {})["ticktext"] == ["0%", "10%", "20%", "30%"]


def test_the_echo_pages_accuracy_axes_write_percent_in_the_pages_style():
    """The echo page's accuracy axes (the training curves, the memory-span sweep) start at 40 %
    and are written "40 %" in Spanish, "40%" in English, as every other percentage."""
    import numpy as np

    from ui import figures
    from ui.figures import echo as echo_figs
    from ui.figures import num
    from ui.i18n import number_style

    axis = figures.percent_axis(1.02, {"decimal": ","}, most=8, low=0.4)
    assert axis["range"] == [0.4, 1.02] and axis["tickvals"][0] == 0.4
    assert axis["ticktext"] == ["40 %", "50 %", "60 %", "70 %", "80 %", "90 %", "100 %"]
    for lang, forty in (("es", "40 %"), ("en", "40%")):
        style = number_style(lang)
        base = {"lstm": "LSTM", "accuracy": "acc", **style}
        curve = {"lstm": (np.arange(3.0), np.array([0.9, 0.7, 0.6]), np.array([0.9, 0.7, 0.6]))}
        acc = {"lstm": (np.arange(3.0), np.array([0.5, 0.8, 1.0]))}
        labels = base | {"loss": "loss", "window": "w", "stopped": "stop"}
        fig = echo_figs.training_curves(curve, acc, labels)
        assert fig.layout.yaxis2.ticktext[0] == forty and fig.layout.yaxis2.range == (0.4, 1.02)
        (accuracy,) = [tr for tr in fig.data if tr.yaxis == "y2"]
        assert list(accuracy.customdata) == [num(v, ".1%", style) for v in (0.5, 0.8, 1.0)]
        assert "%{customdata}" in accuracy.hovertemplate  # the hover in the page's style too
        labels = base | {"echo_step": "echo_step", "window": "w", "point": "{windows} {why}"}
        fig = echo_figs.sweep_curves({"lstm": {1: 1.0, 2: 0.9}}, 15, labels)
        assert fig.layout.yaxis.ticktext[0] == forty and not fig.layout.yaxis.tickformat
        assert list(fig.data[0].customdata) == [num(v, ".1%", style) for v in (1.0, 0.9)]
    assert num(0.9, ".1%", number_style("es")) == "90,0 %"
