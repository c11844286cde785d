"""Pages are sections that take what they read (issue 18): no function of a page reads one of
the page's own variables (a name the page's script assigns, neither an import, a function, a
class nor an UPPER_CASE constant). Callbacks and fragments get their values as arguments, so a
reader sees what each part depends on, and a fragment rerun cannot see a stale global.
A lambda or a comprehension at the script's own level may read them: it runs where it is
written (memo builders, key functions)."""

from __future__ import annotations

import symtable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "app_pages").glob("*.py"))
INLINE = {"lambda", "listcomp", "dictcomp", "setcomp", "genexpr"}  # run where they are written


def page_variables(table: symtable.SymbolTable) -> set[str]:
    """The names a page's script binds that are values of this run."""
    return {
        s.get_name()
        for s in table.get_symbols()
        if s.is_assigned()
        and not s.is_imported()
        and not s.is_namespace()  # a def or a class
        and not s.get_name().isupper()
    }


def globals_read(source: str, name: str = "page") -> list[tuple[str, str]]:
    """(function, page variable) for each page variable a function (at any depth) reads."""
    top = symtable.symtable(source, name, "exec")
    variables = page_variables(top)
    found = []

    def walk(table: symtable.SymbolTable, owner: str | None) -> None:
        for child in table.get_children():
            inline = child.get_name() in INLINE  # a lambda or comprehension counts as its owner's
            here = owner if inline or child.get_type() != "function" else child.get_name()
            if here is not None:
                found.extend(
                    (here, s.get_name())
                    for s in child.get_symbols()
                    if s.is_global() and s.is_referenced() and s.get_name() in variables
                )
            walk(child, here)

    walk(top, None)
    return found


def test_the_check_sees_a_function_reading_a_page_variable():
    source = (
        "import streamlit as st\nLIMIT = 3\nmodel = 1\n"
        "def ok(model):\n    return model + LIMIT\n"
        "def section():\n    def inner():\n        return model\n    return inner\n"
        "def fine(x):\n    return (lambda: x)(), [model for _ in x]\n"
    )
    assert globals_read(source) == [("inner", "model"), ("fine", "model")]


def test_no_page_function_reads_a_page_variable():
    assert len(PAGES) >= 7
    found = {
        page.name: read
        for page in PAGES
        if (read := globals_read(page.read_text(encoding="utf-8"), str(page)))
    }
    assert not found, found
