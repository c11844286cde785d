"""Page parameters: one table per page, mirrored in the URL, checked before any widget reads them.

Every hyperparameter widget has the parameter's name as its key and as its URL query
parameter, so a copied link reopens the page with the same setup:
  - on a session's first run, `check_url` seeds each widget from the URL; a value that cannot
    be used gets a one-line warning naming what was ignored and what is used instead;
  - after every run the frame calls `write_url`: settings that differ from their defaults are
    in the URL, the others are left out to keep links short (a text too long for a link stays in
    the session and the URL leaves it out, saying so once); parameters no page knows are dropped;
  - a value the page cannot use as it stands (unparsable, or beyond a bound that depends on the
    model: a unit the model does not have) becomes a note; the frame shows all of a run's notes
    in one warning, one line each.
A default may depend on the language (`ByLanguage`: the Spanish sample for a Spanish session)
or on the data (`data_default`: the units the belt page picks itself).
The URL holds ids ("echo_trained", "f"), never the translated labels on screen, so a link made
in one language opens in the other. (Streamlit's own bind="query-params" puts a select box's
label in the URL and drops bad values silently, which is why it is not used here.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from ui.i18n import current_language, num, t
from ui.safe import md_escape

# Every page's parameters, by page id, so the sidebar's "reset this page" knows the defaults.
REGISTRY: dict[str, tuple[Param, ...]] = {}


NOTES = "_url_notes"  # session key: this run's notes about the link, for the frame to show


@dataclass(frozen=True)
class ByLanguage:
    """A default that depends on the session's language: ByLanguage(en="logbook", es="story_es")."""

    values: tuple[tuple[str, Any], ...]

    def __init__(self, **values):
        object.__setattr__(self, "values", tuple(values.items()))

    def resolve(self, lang: str) -> Any:
        table = dict(self.values)
        return table.get(lang, self.values[0][1])


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
    aliases: tuple[str, ...] = ()  # older names of the parameter, still read from a link
    default_label: str = ""  # catalog key naming a default the page works out (data_default)

    @property
    def current_default(self) -> Any:
        """The default for this session: a ByLanguage default in the session's language."""
        if isinstance(self.default, ByLanguage):
            return self.default.resolve(current_language())
        return self.default

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
            raise ValueError(t("url.reason_range", low=_plain(self.low), high=_plain(self.high)))
        return value


def _fmt(x) -> str:
    """A number as the URL writes it (never localised: links work in every language)."""
    return str(int(x)) if x is not None and float(x).is_integer() else f"{float(x):g}"


def _plain(x):
    """A bound as a person reads it: 5 rather than 5.0 (t() then writes it the language's way)."""
    return int(x) if x is not None and float(x).is_integer() else x


def shown(p: Param, value) -> str:
    """A value as a warning shows it, in the session's language (markdown-safe)."""
    if p.kind == "bool":
        return t("url.bool_true" if value else "url.bool_false")
    if p.kind == "ints" or isinstance(value, (list, tuple)):
        return ", ".join(num(int(v)) for v in value) if value else t("url.none")
    if p.kind == "text":
        if not value:
            return t("url.empty")
        value = value if len(value) <= 40 else value[:37] + "..."
        return f"“{md_escape(value)}”"
    if p.kind in ("int", "float"):
        return num(_plain(value))
    return md_escape(str(value))


def _same(a, b) -> bool:
    norm = lambda v: tuple(v) if isinstance(v, list) else v  # noqa: E731
    return norm(a) == norm(b)


# ---------------------------------------------------------------- notes: what the link could not do
def note(message: str) -> None:
    """One line for this run's warning about the link (the frame shows them all at once)."""
    notes = st.session_state.setdefault(NOTES, [])
    if message not in notes:
        notes.append(message)


def take_notes() -> list[str]:
    """This run's notes, emptied (the frame calls this once the page has run)."""
    return st.session_state.pop(NOTES, [])


def _from_url(p: Param, value) -> bool:
    """Whether `value` is still the one this session's link gave for p (and not yet reported)."""
    given = st.session_state.get("_url_given", {})
    return p.name in given and _same(given[p.name], value)


def given_by_link(p: Param) -> bool:
    """Whether p's value is the one this session's link gave (not yet moved by anyone)."""
    return _from_url(p, st.session_state.get(p.name))


def value(p: Param) -> Any:
    """p's value in this session: what its widget (or a link, or a callback) set, else its
    default (for a value read before, or without, its widget on this run)."""
    return st.session_state.get(p.name, p.current_default)


def put(p: Param, new: Any) -> None:
    """Set p's value (in a callback, or before its widget is drawn: Streamlit's rule)."""
    st.session_state[p.name] = new


def _reported(p: Param) -> None:
    st.session_state.get("_url_given", {}).pop(p.name, None)


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
        name = next((n for n in (p.name, *p.aliases) if n in st.query_params), None)
        if name is None:
            continue
        raw = st.query_params.get_all(name)
        for old in p.aliases:  # an old link: its value is used, the link gets the new name
            if old in st.query_params:
                del st.query_params[old]
        try:
            if len(raw) != 1:
                raise ValueError(t("url.reason_repeated"))
            st.session_state[p.name] = p.parse(raw[0])
            st.session_state.setdefault("_url_given", {})[p.name] = st.session_state[p.name]
        except ValueError as exc:
            given = raw[0] if len(raw) == 1 else ", ".join(raw)
            given = given if len(given) <= 40 else given[:37] + "..."
            warnings.append(
                t(
                    "url.ignored",
                    name=p.name,
                    value=md_escape(given),
                    reason=exc,
                    default=t(p.default_label) if p.default_label else shown(p, p.current_default),
                )
            )
            if p.name in st.query_params:
                del st.query_params[p.name]
    for message in warnings:
        note(message)
    return warnings


def data_default(p: Param, value, *, replace: bool = False) -> None:
    """A default the page works out from its data (the belt's units): used when the session has
    no value yet (or, with `replace`, when the page cannot use the one it has), and left out of
    the link like any default."""
    if replace or p.name not in st.session_state:
        st.session_state[p.name] = value
        st.session_state[f"_auto.{p.name}"] = value


def write_url(params) -> None:
    """Mirror the current values in the URL (defaults, and texts too long for a link, left out)."""
    too_long = st.session_state.setdefault("_url_too_long", set())
    for p in params:
        default = st.session_state.get(f"_auto.{p.name}", p.current_default)
        value = st.session_state.get(p.name, default)
        if isinstance(value, list):
            value = tuple(value)
        long_text = p.kind == "text" and isinstance(value, str) and len(value) > p.max_length
        if long_text and p.name not in too_long:  # kept in the session; said once
            too_long.add(p.name)
            st.toast(t("url.too_long", name=p.name, n=p.max_length), icon=":material/link_off:")
        elif not long_text:
            too_long.discard(p.name)
        if long_text or _same(value, default) or value is None:
            if p.name in st.query_params:
                del st.query_params[p.name]
        else:
            shown = as_link(value)
            if st.query_params.get(p.name) != shown:
                st.query_params[p.name] = shown
    _written()


WRITTEN = "_url_written"  # session key: the address as this session's runs last wrote it


def address() -> tuple:
    """The address's parameters now, in a form to compare."""
    return tuple(sorted((k, tuple(st.query_params.get_all(k))) for k in st.query_params))


def _written() -> None:
    """Remember the address as written (by a run or a fragment's rerun): a run that starts on
    another address was sent there by a link (see ui/frame.py)."""
    st.session_state[WRITTEN] = address()


def as_link(value) -> str:
    """A setting's value as a link writes it: numbers never localised, true/false, lists with
    commas (what `Param.parse` reads back)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return _fmt(value)
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def drop_unknown(known) -> None:
    """Take out of the URL every parameter that is not one of `known` (with one short note)."""
    names = {name for p in known for name in (p.name, *p.aliases)}
    unknown = [k for k in st.query_params if k not in names]
    for key in unknown:
        del st.query_params[key]
    _written()
    if unknown:
        listed = ", ".join(
            f"**{md_escape(k if len(k) <= 30 else k[:27] + '...')}**" for k in unknown[:8]
        )
        note(t("url.unknown", names=listed + (", …" if len(unknown) > 8 else "")))


def claim(page: str) -> None:
    """Make a page's keys its own again.

    Pages share some parameter names (the echo and text pages both have `learning_rate`, with
    different defaults), and widget values persist through the session. On entry a page takes
    back each key that another page wrote last: its own remembered value, or the default.
    """
    owners = st.session_state.setdefault("_owner", {})
    for p in REGISTRY.get(page, ()):
        if owners.get(p.name, page) != page:
            st.session_state[p.name] = st.session_state.get(
                f"_saved.{page}.{p.name}", p.current_default
            )
        owners[p.name] = page


def remember(page: str) -> None:
    """Keep this page's current values, for the next time it claims its keys."""
    for p in REGISTRY.get(page, ()):
        if p.name in st.session_state:
            st.session_state[f"_saved.{page}.{p.name}"] = st.session_state[p.name]


def setup(page: str) -> None:
    """A page's first call after registering: claim its keys, seed them from the URL (what cannot
    be used becomes a note for the frame's warning). A link followed inside the session (a lesson's
    "show me") sets the whole page: the link's values, every other setting at its default."""
    claim(page)
    if st.session_state.pop(RELINK, False):
        relink(REGISTRY[page], reset_absent=True)
    check_url(REGISTRY[page])


RELINK = "_relink"  # session key: the frame saw a link followed inside the session, this run


def relink(params, *, reset_absent: bool) -> None:
    """Let `check_url` read these parameters from the URL again (it reads each once a session),
    and, with `reset_absent`, put those the URL leaves out back to their defaults."""
    seeded = st.session_state.setdefault("_url_seeded", set())
    for p in params:
        seeded.discard(p.name)
        if reset_absent and not any(n in st.query_params for n in (p.name, *p.aliases)):
            _to_default(p)


def _to_default(p: Param) -> None:
    worked_out = st.session_state.pop(f"_auto.{p.name}", None) is not None
    if worked_out or p.default_label:  # a default the page works out (a training
        st.session_state.pop(p.name, None)  # step's "latest"): the page works it out again
    else:
        st.session_state[p.name] = p.current_default


def reset(page: str, extra_prefix: str | None = None) -> None:
    """Put a page's parameters back to their defaults and forget its private state."""
    for p in REGISTRY.get(page, ()):
        _to_default(p)
        st.session_state.pop(f"_saved.{page}.{p.name}", None)
    prefix = extra_prefix or f"{page}."
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


# ---------------------------------------------------------------- widgets keyed by their parameter
def _initial(p: Param) -> dict:
    """Pass the default only on first creation (Streamlit warns if both state and default set it)."""
    return {} if p.name in st.session_state else {"value": p.current_default}


def bounded(p: Param, low, high):
    """Bounds for this run (they may depend on the model or the input); a stored value is moved
    inside them, and a value the link gave is reported (a unit the model does not have)."""
    low = p.low if low is None else low
    high = p.high if high is None else high
    value = st.session_state.get(p.name)
    if value is not None and not (low <= value <= high):
        used = min(max(value, low), high)
        st.session_state[p.name] = used
        if _from_url(p, value):
            note(
                t(
                    "url.clamped",
                    name=p.name,
                    value=_plain(value),
                    low=_plain(low),
                    high=_plain(high),
                    used=_plain(used),
                )
            )
            _reported(p)
    elif value is not None and _from_url(p, value):
        _reported(p)  # the link's value was used as given: a later move is not the link's doing
    return low, high


def slider(p: Param, label: str, *, low=None, high=None, step=None, container=st, **kwargs):
    low, high = bounded(p, low, high)
    initial = _initial(p)
    if "value" in initial:
        initial["value"] = min(max(initial["value"], low), high)
    return container.slider(
        label,
        min_value=low,
        max_value=high,
        step=step,
        key=p.name,
        persist_state="session",
        **initial,
        **kwargs,
    )


def stepped(
    p: Param, label: str, step: float, spec: str, *, low=None, high=None, container=st, **kwargs
):
    """A slider over low..high in steps of `step`, its values written with the format `spec`
    the session's language's way (a select slider): Streamlit's number sliders write decimals
    with printf formats, which know only the decimal point, so a Spanish page shows 0,70 only
    this way. A value off the steps (from a link) moves to the nearest step, and the link's is
    reported."""
    lang = current_language()  # fixed now: Streamlit may format outside the script run
    linked = _from_url(p, st.session_state.get(p.name))  # bounded() forgets it
    low, high = bounded(p, low, high)
    count = round((high - low) / step)
    options = [round(low + k * step, 6) for k in range(count + 1)]
    value = st.session_state.get(p.name)
    if value is not None and value not in options:
        used = min(options, key=lambda o: abs(o - value))
        st.session_state[p.name] = used
        if linked and low <= value <= high:  # (beyond the bounds, bounded() has said so)
            note(t("url.snapped", name=p.name, value=_plain(value), used=_plain(used)))
    initial = {}
    if p.name not in st.session_state:
        initial["value"] = min(options, key=lambda o: abs(o - p.current_default))
    return container.select_slider(
        label,
        options,
        format_func=lambda x: num(x, spec, lang),
        key=p.name,
        persist_state="session",
        **initial,
        **kwargs,
    )


def number(p: Param, label: str, *, low=None, high=None, step=None, container=st, **kwargs):
    low, high = bounded(p, low, high)
    return container.number_input(
        label,
        min_value=low,
        max_value=high,
        step=step,
        key=p.name,
        persist_state="session",
        **_initial(p),
        **kwargs,
    )


def select(p: Param, label: str, format_func=str, *, options=None, container=st, **kwargs):
    """A select box for p. options: the subset of p's options this page can use now (what the
    model loaded supports); a value outside them, from the session or the link, moves to the
    default if it is among them, else to the first."""
    options = p.options if options is None else tuple(options)
    if st.session_state.get(p.name, p.current_default) not in options:
        data_default(p, p.default if p.default in options else options[0], replace=True)
    initial = {} if p.name in st.session_state else {"index": options.index(p.current_default)}
    return container.selectbox(
        label,
        options,
        format_func=format_func,
        key=p.name,
        persist_state="session",
        **initial,
        **kwargs,
    )


def radio(p: Param, label: str, format_func=str, *, container=st, **kwargs):
    initial = {} if p.name in st.session_state else {"index": p.options.index(p.current_default)}
    return container.radio(
        label,
        p.options,
        format_func=format_func,
        key=p.name,
        persist_state="session",
        **initial,
        **kwargs,
    )


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
        kept = [v for v in value if v in options][: p.max_length]
        if len(kept) < len(value) and _from_url(p, value):
            left_out = [v for v in value if v not in kept]
            note(t("url.left_out", name=p.name, values=", ".join(map(str, left_out))))
            _reported(p)
        st.session_state[p.name] = kept
    initial = (
        {}
        if p.name in st.session_state
        else {"default": [v for v in p.current_default if v in options]}
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
    """A time slider with Back and Next buttons (keys ← and →), in three given columns; returns
    the step.

    The step lives in st.session_state[p.name] (what the link, Back and Next change). The slider
    shows it under a key of its own for each length, `<name>__<last>`: Streamlit makes a new
    widget whenever a slider's bounds change, and under one key the old widget's value came back
    later, beyond the new end (a cursor of 159 on a 50-step input: an error in the page). A
    slider per length never holds a step it cannot show. The buttons' keys are <prefix>_back and
    <prefix>_forward.
    """
    slider_col, back_col, next_col = columns
    bounded(p, 0, last)  # a stored or linked step beyond this input's end moves inside it
    st.session_state[p.name] = min(
        max(int(st.session_state.get(p.name, p.current_default)), 0), last
    )
    key = stepper_key(p, last)

    def move(delta: int) -> None:
        st.session_state[p.name] = min(max(st.session_state.get(p.name, 0) + delta, 0), last)

    def dragged() -> None:
        st.session_state[p.name] = int(st.session_state[key])

    back_col.button(
        t("cell.back"),
        icon=":material/chevron_left:",
        key=f"{prefix}_back",
        on_click=move,
        args=(-1,),
        width="stretch",
        shortcut="Left",
    )
    next_col.button(
        t("cell.forward"),
        icon=":material/chevron_right:",
        key=f"{prefix}_forward",
        on_click=move,
        args=(1,),
        width="stretch",
        shortcut="Right",
    )
    st.session_state[key] = st.session_state[p.name]  # the slider shows the step, whoever moved it
    st.session_state.setdefault(DRAWN, {})[p.name] = (key, f"{prefix}_back", f"{prefix}_forward")
    slider_col.slider(
        label, min_value=0, max_value=max(last, 1), key=key, on_change=dragged, help=help
    )
    return st.session_state[p.name]


DRAWN = "_drawn"  # session key: the widget keys a parameter was last drawn under, beyond its own


def drawn_keys(p: Param) -> tuple[str, ...]:
    """The keys of the widgets that show p: its own, and a stepper's slider and buttons."""
    return (p.name, *st.session_state.get(DRAWN, {}).get(p.name, ()))


def stepper_key(p: Param, last: int) -> str:
    """The key of `stepper`'s slider for an input whose last step is `last`."""
    return f"{p.name}__{last}"


def toggle(p: Param, label: str, *, container=st, **kwargs):
    return container.toggle(label, key=p.name, persist_state="session", **_initial(p), **kwargs)
