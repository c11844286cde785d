"""English and Spanish: one catalog per language (ui/locales/*.toml), every visible string in both.

    t("cell.title")                      the string in the session's language
    t("url.ignored", name="seed", ...)   with str.format placeholders
    num(0.7), num(219736, ",")           a number written the language's way
    rf"c = {tex(c):.3f}"                 the same inside LaTeX

Numbers follow the language: English writes 219,736, 0.7 and 99.9%, Spanish 219.736, 0,7 and
99,9 % (a space before the percent sign, as Spanish typography asks, in prose and in
figures alike). Every number given to t() is written that way, with the placeholder's own format
spec ("{x:.3f}"); num() does the same for numbers shown outside the catalog (metric values),
`separators()` tells Plotly (layout.separators) for the figures, and `number_style()` gives the
figure builders what they need to write numbers into a figure's own text.

A key missing from the catalog shows as ⟦key⟧, which the tests look for on every page.
The Spanish follows the vocabulary of the source texts: compuerta de olvido, compuerta de
entrada, compuerta de salida, estado de la celda, banda transportadora.
"""

from __future__ import annotations

import numbers
import tomllib
from functools import cache
from pathlib import Path

import streamlit as st

from ui.safe import md_escape

LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"
SEPARATORS = {"en": ".,", "es": ",."}  # decimal mark, then thousands separator (Plotly's order)
PERCENT = {"en": "%", "es": " %"}  # Spanish: "99,9 %", a space before the sign
LOCALES = Path(__file__).parent / "locales"
MISSING = "⟦{}⟧"


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = str(value)
    return out


@cache
def catalog(lang: str) -> dict[str, str]:
    """Every key of one language, dotted ("cell.title"); read once per process."""
    with open(LOCALES / f"{lang}.toml", "rb") as f:
        return _flatten(tomllib.load(f))


def current_language() -> str:
    lang = st.session_state.get("lang", DEFAULT_LANGUAGE)
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def labeler(prefix: str):
    """A format function for select boxes: value -> t(prefix + value), in today's language.

    The language is fixed when the labeler is made: Streamlit may call a format function
    outside the script run, where the session (and so its language) cannot be read.
    """
    lang = current_language()
    return lambda value: t(f"{prefix}{value}", lang=lang)


def said_by(cell: str):
    """said(key, **values): a sentence that differs from cell to cell, the catalog's <key>_<cell>
    (`cell` a cell's name: "lstm", "gru", "rnn")."""
    return lambda key, /, **values: t(f"{key}_{cell}", **values)


def separators(lang: str | None = None) -> str:
    """The decimal mark and the thousands separator of the language (Plotly's layout.separators)."""
    return SEPARATORS[lang or current_language()]


def number_style(lang: str | None = None) -> dict[str, str]:
    """What a figure builder needs to write numbers into its own text (ui.figures.num): the
    decimal mark, the thousands separator and the percent sign of the language."""
    lang = lang or current_language()
    decimal, thousands = separators(lang)
    return {"decimal": decimal, "thousands": thousands, "percent": PERCENT[lang]}


def write_number(text: str, style: dict[str, str]) -> str:
    """A number formatted the English way ("1,234.5", "99.9%") rewritten in `style`."""
    decimal, thousands = style.get("decimal", "."), style.get("thousands", ",")
    if (decimal, thousands) != (".", ","):
        text = text.translate({ord("."): decimal, ord(","): thousands})
    if text.endswith("%"):
        text = text[:-1] + style.get("percent", "%")
    return text


def num(x, spec: str = "", lang: str | None = None) -> str:
    """`format(x, spec)`, written the language's way: num(5.285, ".3f") is "5,285" in Spanish,
    num(0.999, ".1%") is "99,9 %"."""
    return write_number(format(x, spec), number_style(lang))


class _Number:
    """A number given to t(): formatted with the placeholder's spec, then written by `num`."""

    __slots__ = ("lang", "tex", "value")

    def __init__(self, value, lang: str, tex: bool = False):
        self.value, self.lang, self.tex = value, lang, tex

    def __format__(self, spec: str) -> str:
        text = num(self.value, spec, self.lang)
        return text.replace(",", "{,}") if self.tex else text  # LaTeX: a comma without a space

    def __str__(self) -> str:
        return format(self, "")


def tex(x) -> _Number:
    """A number for a LaTeX f-string, keeping its spec: rf"{tex(c):.3f}" is 0{,}125 in Spanish."""
    return _Number(x, current_language(), tex=True)


def _numbers(values: dict, lang: str) -> dict:
    """Wrap the plain numbers among `values` (not bools, which read as words)."""
    return {
        k: _Number(v, lang) if isinstance(v, numbers.Real) and not isinstance(v, bool) else v
        for k, v in values.items()
    }


def t(key: str, /, lang: str | None = None, **values) -> str:
    """The text for `key` in the current (or given) language, formatted with `values`."""
    lang = lang or current_language()
    text = catalog(lang).get(key)
    if text is None:
        return MISSING.format(key)
    return text.format(**_numbers(values, lang)) if values else text


def explain(problem, lang: str | None = None) -> str:
    """A problem from the core, in the current language, as markdown-safe text.

    problem: a `LabError`, its `as_dict()` (from the training worker), or a plain string.
    Uses the catalog's errors.<code>; without one (an unforeseen problem), the core's English.
    Every parameter is escaped: they can hold pieces of a user's file.
    """
    if problem is None:
        return ""
    if isinstance(problem, str):
        return md_escape(problem)
    if isinstance(problem, dict):
        text, code, params = (
            problem.get("text", ""),
            problem.get("code", ""),
            problem.get("params", {}),
        )
    else:
        text, code, params = (
            str(problem),
            getattr(problem, "code", ""),
            getattr(problem, "params", {}),
        )
    lang = lang or current_language()
    template = catalog(lang).get(f"errors.{code}") if code else None
    if template is None:
        return md_escape(text)
    values = {k: md_escape(v) if isinstance(v, str) else v for k, v in params.items()}
    if isinstance(params.get("why"), str):  # a problem with a reason of its own (training stopped)
        values["why"] = t(f"errors.why_{params['why']}", lang=lang, **values)
    try:
        return template.format(**_numbers(values, lang))
    except (KeyError, IndexError, ValueError):
        return md_escape(text)
