"""Reading a trace: which units track which property of the text, unit orderings, belt flows.

Karpathy's "quote cell" is a unit whose state switches when a quotation opens and back when it
closes. To find such units, compute a property of the text at every step (inside quotes or not,
depth of parentheses, position in the word, ...) and rank the units by how well their values
follow it (Pearson correlation over time). On the echo task the property is the input bit from
k steps ago: the units that correlate with it hold the bit that is waiting to be echoed.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from .errors import LabError
from .matching import MatchError, match_spans
from .model import Model
from .text import Vocabulary

try:  # the regular-expression parser, to refuse patterns that can run for ever
    from re import _constants as sre_constants
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants
    import sre_parse as _sre_parse

PROPERTIES = ("quotes", "parens", "word_position", "since_newline", "char_class", "regex")
CHAR_CLASSES = ("letter", "vowel", "consonant", "digit", "space", "punctuation", "uppercase")
OPENING_QUOTES, CLOSING_QUOTES = "“«‘", "”»’"
DIALOGUE_DASH = "—"  # the Spanish raya
MAX_PATTERN = 200


class PropertyError(LabError):
    """A property that cannot be computed (e.g. an invalid regular expression); one line."""


# ------------------------------------------------------------------------ properties of a text
def inside_quotes(text: str) -> np.ndarray:
    """1 at every character from an opening quote up to its closing one (both included).

    Straight quotes (") toggle; typographic ones open (“ « ‘) and close (” » ’). Spanish
    dialogue counts too: a dash (—) that opens a line opens the speech, the dashes after it in
    that line close and reopen it around the narrator's aside (—¿Vienes? —preguntó—. Ven.), and
    the end of the line ends it. A dash inside a line that did not open with one is an ordinary
    dash.
    """
    out = np.zeros(len(text), dtype=np.float32)
    inside = False  # within quotation marks
    line_start, dialogue, speaking = True, False, False  # the dialogue dashes of this line
    for t, ch in enumerate(text):
        if ch == "\n":
            line_start, dialogue, speaking = True, False, False
        elif ch == DIALOGUE_DASH and (line_start or dialogue):
            dialogue, speaking = True, not speaking
            out[t] = 1.0  # the dash that opens or closes the speech is part of it
            line_start = False
            continue
        elif not ch.isspace():
            line_start = False
        opens = (ch == '"' and not inside) or ch in OPENING_QUOTES
        closes = (ch == '"' and inside and not opens) or ch in CLOSING_QUOTES
        if opens:
            inside = True
        out[t] = 1.0 if inside or speaking else 0.0
        if closes:
            inside = False
    return out


def paren_depth(text: str) -> np.ndarray:
    """How many parentheses (or brackets) are open at each character, the brackets included."""
    out = np.zeros(len(text), dtype=np.float32)
    depth = 0
    for t, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        out[t] = depth
        if ch in ")]}" and depth > 0:
            depth -= 1
    return out


def word_position(text: str) -> np.ndarray:
    """0 for the first letter of a word, 1 for the second, ...; -1 outside words."""
    out = np.full(len(text), -1.0, dtype=np.float32)
    k = 0
    for t, ch in enumerate(text):
        if ch.isalnum():
            out[t] = k
            k += 1
        else:
            k = 0
    return out


def since_newline(text: str) -> np.ndarray:
    """Characters since the last newline (0 on the newline itself): the position in the line."""
    out = np.zeros(len(text), dtype=np.float32)
    k = 0
    for t, ch in enumerate(text):
        k = 0 if ch == "\n" else k + 1
        out[t] = k
    return out


def char_class(text: str, name: str) -> np.ndarray:
    vowels = set("aeiouáéíóúàèìòùäëïöüAEIOUÁÉÍÓÚÀÈÌÒÙÄËÏÖÜ")
    tests = {
        "letter": str.isalpha,
        "vowel": lambda ch: ch in vowels,
        "consonant": lambda ch: ch.isalpha() and ch not in vowels,
        "digit": str.isdigit,
        "space": str.isspace,
        "punctuation": lambda ch: not ch.isalnum() and not ch.isspace(),
        "uppercase": str.isupper,
    }
    if name not in tests:
        raise PropertyError(f"unknown character class {name!r}")
    test = tests[name]
    return np.array([1.0 if test(ch) else 0.0 for ch in text], dtype=np.float32)


def classes_in(alphabet) -> tuple[str, ...]:
    """The character classes that some character of `alphabet` belongs to, in CHAR_CLASSES order.

    A model that reads lowercase text has no capitals: "uppercase" would be 0 at every step.
    """
    chars = "".join(alphabet)
    return tuple(name for name in CHAR_CLASSES if char_class(chars, name).any())


def _nested_repeat(parsed, inside: bool = False) -> bool:
    """Whether a parsed pattern repeats something that itself repeats or branches: (a+)+,
    (a|aa)*, (\\w+\\s?)+ — the shapes that can backtrack for an exponentially long time."""
    for op, arg in parsed:
        if op in (
            sre_constants.MAX_REPEAT,
            sre_constants.MIN_REPEAT,
            getattr(sre_constants, "POSSESSIVE_REPEAT", None),
        ):
            if inside:
                return True
            if _nested_repeat(arg[2], True):
                return True
        elif op == sre_constants.BRANCH:
            if inside:
                return True
            if any(_nested_repeat(branch, inside) for branch in arg[1]):
                return True
        elif op == sre_constants.SUBPATTERN:
            if _nested_repeat(arg[-1], inside):
                return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT) and _nested_repeat(
            arg[1], inside
        ):
            return True
    return False


# Python's messages for the usual mistakes, by how they start, so the app can say them in Spanish
# too (errors.regex_invalid_<code>); any other is reported with its position only.
REGEX_PROBLEMS = {
    "unterminated character set": "set",
    "missing ), unterminated subpattern": "group",
    "unbalanced parenthesis": "unbalanced",
    "nothing to repeat": "nothing_to_repeat",
    "multiple repeat": "multiple_repeat",
    "bad escape": "escape",
    "bad character range": "range",
}


def compile_pattern(pattern: str) -> re.Pattern:
    """A user's regular expression, or PropertyError with a one-line reason."""
    if not pattern:
        raise PropertyError("the regular expression is empty", "regex_empty")
    if len(pattern) > MAX_PATTERN:
        raise PropertyError(
            f"the regular expression is longer than {MAX_PATTERN} characters",
            "regex_long",
            n=MAX_PATTERN,
        )
    try:
        compiled = re.compile(pattern)
        parsed = _sre_parse.parse(pattern)
    except re.error as exc:
        kind = next(
            (code for start, code in REGEX_PROBLEMS.items() if exc.msg.startswith(start)), ""
        )
        code = (
            "regex_invalid" + (f"_{kind}" if kind else "")
            if exc.pos is not None
            else "regex_invalid_somewhere"
        )
        at = exc.pos + 1 if exc.pos is not None else None  # counted from 1, as a reader counts
        raise PropertyError(
            f"not a valid regular expression: {exc.msg} at character {at}",
            code,
            detail=exc.msg,
            pos=exc.pos,
            at=at,
        ) from None
    if _nested_repeat(parsed):
        raise PropertyError(
            "repetition inside repetition, like (a+)+, is refused: it can run for ever",
            "regex_nested",
        )
    return compiled


def regex_matches(text: str, pattern: str) -> np.ndarray:
    """1 at every character covered by a match of the pattern (matched in a child process with
    a deadline, and cached: see matching.py)."""
    compile_pattern(pattern)
    out = np.zeros(len(text), dtype=np.float32)
    try:
        spans = match_spans(text, pattern)
    except MatchError as exc:
        raise PropertyError(str(exc), exc.code, **exc.params) from None
    for start, end in spans:
        out[start : max(end, start + 1)] = 1.0
    return out


def text_property(text: str, name: str, option: str = "") -> np.ndarray:
    """One property by name: quotes, parens, word_position, since_newline, char_class (option:
    the class), regex (option: the pattern). Shape (len(text),)."""
    if name == "quotes":
        return inside_quotes(text)
    if name == "parens":
        return paren_depth(text)
    if name == "word_position":
        return word_position(text)
    if name == "since_newline":
        return since_newline(text)
    if name == "char_class":
        return char_class(text, option)
    if name == "regex":
        return regex_matches(text, option)
    raise PropertyError(f"unknown property {name!r}")


def lagged(bits: np.ndarray, k: int) -> np.ndarray:
    """The echo task's property: the input bit from k steps ago (0 before the sequence starts)."""
    bits = np.asarray(bits, dtype=np.float32)
    out = np.zeros_like(bits)
    if k < len(bits):
        out[k:] = bits[: len(bits) - k] if k > 0 else bits
    return out


# ---------------------------------------------------------------------------- ranking units
class Ranking(NamedTuple):
    order: np.ndarray  # unit indices, best first
    r: np.ndarray  # Pearson correlation of every unit with the property (H,), 0 for flat units


def correlations(values: np.ndarray, prop: np.ndarray) -> np.ndarray:
    """Pearson r between each unit's series (T, H) and the property (T,); 0 where either is flat."""
    v = np.asarray(values, dtype=np.float64)
    p = np.asarray(prop, dtype=np.float64)
    if v.shape[0] != p.shape[0]:
        raise ValueError("the property and the trace cover different numbers of steps")
    v = v - v.mean(axis=0)
    p = p - p.mean()
    denom = np.sqrt((v * v).sum(axis=0) * (p @ p))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(denom > 1e-12, (p @ v) / np.where(denom > 1e-12, denom, 1.0), 0.0)
    return r


def rank_units(values: np.ndarray, prop: np.ndarray) -> Ranking:
    """Units sorted by |r| with the property, strongest first (either sign counts)."""
    r = correlations(values, prop)
    return Ranking(np.argsort(-np.abs(r), kind="stable"), r)


def untrained_best(
    model, inputs: np.ndarray, layer: int, value: str, prop: np.ndarray, seed: int = 0
) -> float:
    """The best |r| with the property among the units of an untrained twin of `model` (same
    shape, fresh random weights) reading the same (1, T) inputs: the score a unit reaches without
    learning anything, from what the current character alone does to a random cell.

    Even random units follow some properties a little (a space resets many of them, so word
    position is easy), so a trained unit's r means something only above this. value: "c" or "h".
    """
    twin = Model.create(model.config, seed=seed, dtype=model.dtype)
    trace = twin.run(inputs).layers[layer]
    series = (trace.memory if value == "c" else trace.h)[1:, 0]
    ranking = rank_units(series, prop)
    return float(abs(ranking.r[ranking.order[0]]))


def rank_over_texts(
    model, texts: list[str], name: str, option: str = "", layer: int = 0, value: str = "c"
) -> Ranking:
    """The units ranked by a text property over several texts, each read from a zero state (as
    the belt page reads its input), the steps of all of them pooled into one correlation.

    Characters outside the model's vocabulary are dropped first (lowercased if the model is).
    """
    vocab = Vocabulary(model.config.vocab)
    values, props = [], []
    for text in texts:
        text = text.lower() if model.config.lowercase else text
        text = "".join(ch for ch in text if ch in vocab)
        trace = model.run(vocab.encode(text)[None, :]).layers[layer]
        values.append((trace.memory if value == "c" else trace.h)[1:, 0])
        props.append(text_property(text, name, option))
    return rank_units(np.concatenate(values), np.concatenate(props))


# ---------------------------------------------------------------------------- ordering units
def order_units(values: np.ndarray, method: str) -> np.ndarray:
    """A display order for the H units of a (T, H) series.

    index: as they are; activity: most variable over time first; cluster: average-linkage
    clustering on correlation distance (1 - r), read off as the leaf order of the tree, so units
    that move together sit together.
    """
    H = values.shape[1]
    if method == "index":
        return np.arange(H)
    if method == "activity":
        return np.argsort(-values.var(axis=0), kind="stable")
    if method != "cluster":
        raise ValueError(f"unknown order {method!r}")
    if H <= 2:
        return np.arange(H)
    v = values.astype(np.float64) - values.mean(axis=0)
    norms = np.sqrt((v * v).sum(axis=0))
    v = v / np.where(norms > 1e-12, norms, 1.0)
    dist = 1.0 - v.T @ v  # (H, H), flat units are at distance 1 from everything
    np.fill_diagonal(dist, np.inf)
    members = {k: [k] for k in range(H)}
    sizes = {k: 1 for k in range(H)}
    active = np.ones(H, bool)
    for _ in range(H - 1):  # merge the closest pair; the merged cluster keeps the lower index
        masked = np.where(active[:, None] & active[None, :], dist, np.inf)
        a, b = np.unravel_index(np.argmin(masked), masked.shape)
        a, b = min(a, b), max(a, b)
        na, nb = sizes[a], sizes[b]
        merged = (dist[a] * na + dist[b] * nb) / (na + nb)  # average linkage
        dist[a, :], dist[:, a] = merged, merged
        dist[a, a] = np.inf
        active[b] = False
        dist[b, :], dist[:, b] = np.inf, np.inf
        members[a] = members[a] + members.pop(b)
        sizes[a] = na + nb
    (root,) = members.values()
    return np.array(root)


def leading_units(
    belt: np.ndarray, rest: np.ndarray, props: dict[str, np.ndarray]
) -> tuple[np.ndarray, list[tuple[str, int, float]]]:
    """A display order that leads with the units whose belt follows the given properties.

    belt: (T, H) the values ranked against each property (the cell state c: a value held on the
    belt shows there as a stripe); rest: (T, H) the values the other units are clustered on.
    props: name -> (T,) property. For each property in turn, the unit of largest |r| not placed
    yet goes next (a property the input does not vary is skipped); the other units follow,
    clustered. Returns (order, [(property, unit, r), ...] for the units placed first).
    """
    leaders: list[tuple[str, int, float]] = []
    for name, prop in props.items():
        if np.asarray(prop).std() == 0:
            continue
        ranking = rank_units(belt, prop)
        placed = {u for _, u, _ in leaders}
        unit = next(int(u) for u in ranking.order if int(u) not in placed)
        leaders.append((name, unit, float(ranking.r[unit])))
    first = [u for _, u, _ in leaders]
    others = [int(u) for u in order_units(rest, "cluster") if int(u) not in first]
    return np.array(first + others, dtype=int), leaders


# ----------------------------------------------------------------------------- the belt
class BeltFlow(NamedTuple):
    """One unit's belt over time: c_t = c_{t-1} - removed + added.

    For an LSTM the belt is c and its valve the forget gate; a GRU carries its memory in h, and
    the update gate z is the valve: h_t = z ⊙ h_{t-1} + (1 - z) ⊙ n_t (gru.py), so kept is
    z · h_{t-1}, removed (1 - z) · h_{t-1} and added (1 - z) · n_t.
    """

    c_prev: np.ndarray  # (T,) the memory before the step: c_{t-1} (LSTM), h_{t-1} (GRU)
    kept: np.ndarray  # f_t · c_{t-1}: what the forget gate lets stay
    removed: np.ndarray  # (1 - f_t) · c_{t-1}: what it takes off
    added: np.ndarray  # i_t · c~_t: what the input gate puts on
    c: np.ndarray  # c_t


def belt_series(layer, row: int = 0) -> dict[str, np.ndarray]:
    """What the belt page draws of one sequence of a LayerTrace, (T, H) each, by the cell's own
    `belt_rows`: its states after each step, its gates, and "write", what the valve lets onto
    the memory (a GRU's (1 - z) ⊙ n)."""
    kind = layer.kind
    out = {}
    for name in kind.belt_rows:
        if name in kind.gates:
            out[name] = layer.gate(name)[:, row]
        elif name == "write":
            out[name] = kind.belt(layer)[2][:, row]
        else:  # a state: after each step
            out[name] = getattr(layer, name)[1:, row]
    return out


def belt_flow(layer, row: int, unit: int) -> BeltFlow:
    """The flows of one unit of a LayerTrace (row: which sequence of the batch); ValueError for
    a cell with no valve on its memory (the plain RNN)."""
    before, keep, added, after = (
        a[:, row, unit].astype(np.float64) for a in layer.kind.belt(layer)
    )
    kept = keep * before
    return BeltFlow(before, kept, before - kept, added, after)
