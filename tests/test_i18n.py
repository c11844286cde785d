"""Both catalogs complete, every key the code asks for present, the sources' Spanish vocabulary."""

import re
import string

from conftest import ROOT

from lstm_core import GATES
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
    for term in ("compuerta de olvido", "compuerta de entrada", "compuerta de salida",
                 "estado de la celda", "banda transportadora"):  # fmt: skip
        assert term in spanish, term


def used_keys() -> set[str]:
    """Every catalog key the code asks for: literal t("...") calls, plus the keys built from
    names (pages, model sources, gates, vector names, diagram labels)."""
    keys = set()
    for folder in ("pages", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            keys |= set(re.findall(r'\bt\(\s*"([a-z_]+\.[a-z0-9_.]+)"', path.read_text()))
    for page in PAGES:
        keys.add(f"nav.{page.id}")
        if not page.default:
            keys |= {f"home.promise_{page.id}", f"{page.id}.title", f"{page.id}.intro"}
    keys |= {f"cell.model_{s}" for s in models.SOURCES}
    keys |= {f"gate.{g}" for g in ("none", *GATES)}
    keys |= {f"cell.vector_{k}" for k in ("f", "i", "g", "o", "c", "h")}
    keys |= {
        f"cell.diagram_{k}"
        for k in ("input", "belt", "forget", "input_gate", "candidate", "output")
    }
    return keys


def test_every_key_the_code_uses_is_in_the_catalog():
    missing = sorted(k for k in used_keys() if k not in catalog("en"))
    assert not missing, missing


def test_a_missing_key_is_visible():
    assert t("no.such_key", lang="es") == MISSING.format("no.such_key")
    assert t("cell.unit", lang="es", h=7) == "Unidad (de 0 a 7)"
