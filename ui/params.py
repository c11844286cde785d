"""Page parameters: one table per page, mirrored in the URL, checked before any widget reads them.

Every hyperparameter widget has the parameter's name as its key and as its URL query
parameter, so a copied link reopens the page with the same setup:
  - on a session's first run, `check_url` seeds each widget from the URL; a value that cannot
    be used gets a one-line warning naming what was ignored and what is used instead;
  - after every run the frame calls `write_url`: settings that differ from their defaults are
    in the URL, the others are left out to keep links short.
The URL holds ids ("echo_trained", "f"), never the translated labels on screen, so a link made
in one language opens in the other. (Streamlit's own bind="query-params" puts a select box's
label in the URL and drops bad values silently, which is why it is not used here.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from ui.i18n import t
from ui.safe import md_escape

# Every page's parameters, by page id, so the sidebar's "reset this page" knows the defaults.
REGISTRY: dict[str, tuple[Param, ...]] = {}


@dataclass(frozen=True)
class Param:
    """A page setting: its key (= URL parameter name), default and allowed values."""

    name: str
    default: Any
    kind: str = "int"  # "int", "float", "choice", "text", "bool", "ints" (a short list, "3,17")
    low: float | None = None
    high: float | None = None
    options: tuple = field(default_factory=tuple)
    max_length: int = 500

    def parse(self, raw: str) -> Any:
        """The value a URL string stands for; ValueError with a short reason if it is unusable."""
        if self.kind == "choice":
            for option in self.options:
                if raw == str(option):
                    return option
            raise ValueError(t("url.reason_choice", options=", ".join(map(str, self.options))))
        if self.kind == "text":
            if len(raw) > self.max_length:
                raise ValueError(t("url.reason_long", n=self.max_length))
            return raw
        if self.kind == "ints":
            try:
                values = tuple(int(v) for v in raw.split(",") if v.strip() != "")
            except ValueError:
                raise ValueError(t("url.reason_ints")) from None
            if len(values) > self.max_length or any(not self.low <= v <= self.high for v in values):
                raise ValueError(t("url.reason_ints"))
            return values
        if self.kind == "bool":
            if raw.lower() in ("true", "1"):
                return True
            if raw.lower() in ("false", "0"):
                return False
            raise ValueError(t("url.reason_bool"))
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(t("url.reason_number")) from None
        if not math.isfinite(value):
            raise ValueError(t("url.reason_number"))
        if self.kind == "int":
            if value != int(value):
                raise ValueError(t("url.reason_integer"))
            value = int(value)
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ValueError(t("url.reason_range", low=_fmt(self.low), high=_fmt(self.high)))
        return value


def _fmt(x) -> str:
    return str(int(x)) if x is not None and float(x).is_integer() else f"{float(x):g}"


def register(page: str, params: tuple[Param, ...]) -> dict[str, Param]:
    """Declare a page's parameters; returns them by name."""
    REGISTRY[page] = tuple(params)
    return {p.name: p for p in params}


def check_url(params) -> list[str]:
    """Seed widgets from the URL on the session's first run; warnings for unusable values.

    Call before creating the widgets.
    """
    seeded = st.session_state.setdefault("_url_seeded", set())
    warnings = []
    for p in params:
        if p.name in seeded:
            continue
        seeded.add(p.name)
        if p.name not in st.query_params:
            continue
        raw = st.query_params.get_all(p.name)
        try:
            if len(raw) != 1:
                raise ValueError(t("url.reason_repeated"))
            st.session_state[p.name] = p.parse(raw[0])
        except ValueError as exc:
            shown = raw[0] if len(raw) == 1 else ", ".join(raw)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            warnings.append(
                t("url.ignored", name=p.name, value=md_escape(shown), reason=exc, default=p.default)
            )
            del st.query_params[p.name]
    return warnings


def write_url(params) -> None:
    """Mirror the current values in the URL (defaults left out)."""
    for p in params:
        value = st.session_state.get(p.name, p.default)
        if isinstance(value, list):
            value = tuple(value)
        if value == p.default or value is None:
            if p.name in st.query_params:
                del st.query_params[p.name]
        else:
            if p.kind in ("int", "float"):
                shown = _fmt(value)
            elif p.kind == "bool":
                shown = str(value).lower()
            elif p.kind == "ints":
                shown = ",".join(str(v) for v in value)
            else:
                shown = str(value)
            if st.query_params.get(p.name) != shown:
                st.query_params[p.name] = shown


def claim(page: str) -> None:
    """Make a page's keys its own again.

    Pages share some parameter names (the echo and text pages both have `learning_rate`, with
    different defaults), and widget values persist through the session. On entry a page takes
    back each key that another page wrote last: its own remembered value, or the default.
    """
    owners = st.session_state.setdefault("_owner", {})
    for p in REGISTRY.get(page, ()):
        if owners.get(p.name, page) != page:
            st.session_state[p.name] = st.session_state.get(f"_saved.{page}.{p.name}", p.default)
        owners[p.name] = page


def remember(page: str) -> None:
    """Keep this page's current values, for the next time it claims its keys."""
    for p in REGISTRY.get(page, ()):
        if p.name in st.session_state:
            st.session_state[f"_saved.{page}.{p.name}"] = st.session_state[p.name]


def setup(page: str) -> None:
    """A page's first call after registering: claim its keys, seed them from the URL, warn."""
    claim(page)
    show_url_warnings(REGISTRY[page])


def show_url_warnings(params) -> None:
    for message in check_url(params):
        st.warning(message, icon=":material/link_off:")


def reset(page: str, extra_prefix: str | None = None) -> None:
    """Put a page's parameters back to their defaults and forget its private state."""
    for p in REGISTRY.get(page, ()):
        st.session_state[p.name] = p.default
        st.session_state.pop(f"_saved.{page}.{p.name}", None)
    prefix = extra_prefix or f"{page}."
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


# ---------------------------------------------------------------- widgets keyed by their parameter
def _initial(p: Param) -> dict:
    """Pass the default only on first creation (Streamlit warns if both state and default set it)."""
    return {} if p.name in st.session_state else {"value": p.default}


def _bounded(p: Param, low, high):
    """Bounds for this run (they may depend on the data); a stored value is moved inside them."""
    low = p.low if low is None else low
    high = p.high if high is None else high
    value = st.session_state.get(p.name)
    if value is not None and not (low <= value <= high):
        st.session_state[p.name] = min(max(value, low), high)
    return low, high


def slider(p: Param, label: str, *, low=None, high=None, step=None, container=st, **kwargs):
    low, high = _bounded(p, low, high)
    initial = _initial(p)
    if "value" in initial:
        initial["value"] = min(max(p.default, low), high)
    return container.slider(
        label, min_value=low, max_value=high, step=step, key=p.name, persist_state="session",
        **initial, **kwargs,
    )  # fmt: skip


def number(p: Param, label: str, *, low=None, high=None, step=None, container=st, **kwargs):
    low, high = _bounded(p, low, high)
    return container.number_input(
        label, min_value=low, max_value=high, step=step, key=p.name, persist_state="session",
        **_initial(p), **kwargs,
    )  # fmt: skip


def select(p: Param, label: str, format_func=str, *, container=st, **kwargs):
    initial = {} if p.name in st.session_state else {"index": p.options.index(p.default)}
    return container.selectbox(
        label, p.options, format_func=format_func, key=p.name, persist_state="session",
        **initial, **kwargs,
    )  # fmt: skip


def radio(p: Param, label: str, format_func=str, *, container=st, **kwargs):
    initial = {} if p.name in st.session_state else {"index": p.options.index(p.default)}
    return container.radio(
        label, p.options, format_func=format_func, key=p.name, persist_state="session",
        **initial, **kwargs,
    )  # fmt: skip


def text(p: Param, label: str, *, container=st, **kwargs):
    return container.text_input(
        label, max_chars=p.max_length, key=p.name, persist_state="session", **_initial(p), **kwargs
    )


def text_area(p: Param, label: str, *, container=st, **kwargs):
    return container.text_area(label, key=p.name, persist_state="session", **_initial(p), **kwargs)


def multiselect(p: Param, label: str, options, *, container=st, **kwargs):
    """Several of `options` (their ids are the URL's value, comma-separated)."""
    value = st.session_state.get(p.name)
    if value is not None:  # keep only what this run offers (the options may depend on the data)
        st.session_state[p.name] = [v for v in value if v in options][: p.max_length]
    initial = (
        {} if p.name in st.session_state else {"default": [v for v in p.default if v in options]}
    )
    return container.multiselect(
        label,
        options,
        key=p.name,
        persist_state="session",
        max_selections=p.max_length,
        **initial,
        **kwargs,
    )


def stepper(p: Param, label: str, last: int, prefix: str, columns, *, help=None) -> int:
    """A time slider with Back and Next buttons, in three given columns; returns the step.

    The buttons' keys are <prefix>_back and <prefix>_forward.
    """
    slider_col, back_col, next_col = columns

    def move(delta: int) -> None:
        st.session_state[p.name] = min(
            max(st.session_state.get(p.name, p.default) + delta, 0), last
        )

    back_col.button(t("cell.back"), icon=":material/chevron_left:", key=f"{prefix}_back",
                    on_click=move, args=(-1,), width="stretch")  # fmt: skip
    next_col.button(t("cell.forward"), icon=":material/chevron_right:", key=f"{prefix}_forward",
                    on_click=move, args=(1,), width="stretch")  # fmt: skip
    with slider_col:
        return min(slider(p, label, high=max(last, 1), help=help), last)


def toggle(p: Param, label: str, *, container=st, **kwargs):
    return container.toggle(label, key=p.name, persist_state="session", **_initial(p), **kwargs)
