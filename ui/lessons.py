"""The lesson path: ten steps from one valve to a model that writes, as data.

Each step is one record: the page it opens, that page's own link parameters (what "show me"
sets; every other setting of the page goes back to its default), the controls a presenter keeps
on screen, the figure that fills the projector, and the facts its sentences cite. The sentences
live in the catalogs (lessons.<id>.title, notice, why, question, answer), written with those
facts, so a number on the path is the number of the record. tests/test_lessons.py opens every
step's page with its settings (no warning, the widgets hold them) and checks each sentence about
an outcome against the engine at those settings, across seeds.

Nothing here draws: app_pages/lessons.py shows the path, ui/frame.py the way back and presenter mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lstm_core.demos import BPTT_PRESET, ECHO_PRESETS
from lstm_core.explain import sigmoid
from ui.i18n import t
from ui.params import as_link


@dataclass(frozen=True)
class Step:
    """One step of the path (its texts: the catalog's lessons.<id>.*)."""

    id: str
    page: str  # the page "show me" opens (ui.frame.PAGES' id)
    settings: tuple[tuple[str, Any], ...] = ()  # that page's link parameters, by their names
    controls: tuple[str, ...] = ()  # the parameters presenter mode keeps on screen
    figure: str = ""  # the chart (its key) that fills the screen in presenter mode
    claims: tuple[tuple[str, Any], ...] = ()  # bounds the sentences cite, which the tests check
    words: tuple[
        tuple[str, str], ...
    ] = ()  # the page's own labels the sentences cite: catalog keys
    derived: Callable[[dict], dict] | None = field(default=None, compare=False)  # more facts

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.settings)

    def facts(self) -> dict[str, Any]:
        """Everything the step's sentences cite: its settings, its claims, and what follows."""
        facts = {**self.values, **dict(self.claims)}
        return facts | (self.derived(facts) if self.derived else {})

    def text(self, part: str, lang: str | None = None) -> str:
        words = {name: t(key, lang=lang) for name, key in self.words}
        return t(f"lessons.{self.id}.{part}", lang=lang, **self.facts(), **words)


def _valve(facts: dict) -> dict:
    a = facts["valve"]
    return {"through": float(sigmoid(a)), "mirror": -a, "opposite": float(sigmoid(-a))}


def _echo(preset) -> dict:
    """What a step cites of an echo preset (lstm_core/demos.py, where tests/test_demos.py checks
    it): its promised time and the bounds of its claims, the cure's included."""
    facts = {"seconds": preset.seconds}
    for claim in preset.claims:
        which = "cured" if claim.changes else claim.cell
        facts[f"{which}_least"], facts[f"{which}_most"] = claim.at_least, claim.at_most
        if claim.changes:
            facts["cure_w"] = dict(claim.changes)["truncated_backprop_length"]
            facts["cured_epochs"] = preset.claim_config(claim).num_epochs
    return facts


STEPS: tuple[Step, ...] = (
    Step("valve", "cell", (("valve", -2.0),), ("valve",), "cell_valve", derived=_valve),
    Step(
        "one_step",
        "cell",
        (("step", 4), ("unit", 1)),
        ("step", "unit"),
        "cell_diagram",
        words=(("next", "cell.forward"),),
    ),
    Step(
        "clamp",
        "cell",
        (("clamp_gate", "f"), ("clamp_unit", 0), ("clamp_value", 0.0), ("clamp_from", 6)),
        ("clamp_gate", "clamp_unit", "clamp_value", "clamp_from", "step"),
        "cell_intervention",
        words=(("before", "cell.before"), ("after", "cell.after")),
    ),
    Step(
        "belt",
        "belt",
        (("belt_model", "belt"), ("belt_property", "quotes")),  # the model where a stripe shows
        ("belt_model", "belt_property", "belt_cursor"),
        "belt_overview",  # the heatmaps, the facts drawn above them: where the stripe shows
        claims=(("margin", 0.05),),  # the page's own test of "better than untrained"
        words=(
            ("find", "belt.find_title"),
            ("one_unit", "belt.unit_title"),
            ("heatmaps", "belt.heatmaps_title"),
        ),
    ),
    Step(
        "echo",
        "echo",
        tuple(ECHO_PRESETS["rnn_vs_lstm"].values.items()),  # the echo page's own preset
        ("compare", "cell", "echo_step", "state_size"),
        "echo_curves",
        words=(("train", "echo.train"), ("preset", "echo.preset_rnn_vs_lstm")),
        derived=lambda facts: _echo(ECHO_PRESETS["rnn_vs_lstm"]),
    ),
    Step(
        "truncation",
        "echo",
        tuple(ECHO_PRESETS["truncation"].values.items()),
        ("echo_step", "truncated_backprop_length"),
        "echo_curves",
        words=(("train", "echo.train"), ("why_short", "echo.truncation_title")),
        derived=lambda facts: _echo(ECHO_PRESETS["truncation"]),
    ),
    Step(
        "gradients",
        "bptt",
        BPTT_PRESET.settings,  # the BPTT page's own preset
        ("bptt_steps", "bptt_echo_step", "bptt_hidden", "bptt_window", "bptt_truncated"),
        "bptt_heatmaps",
        derived=lambda facts: {
            "seconds": BPTT_PRESET.seconds,
            **BPTT_PRESET.facts,
        },
    ),
    Step(
        "clipping",
        "bptt",
        (("bptt_scale", 4.0),),
        ("bptt_scale", "bptt_clip_norm", "bptt_clip_value"),
        "bptt_clipping",
        # the page's defaults for the limits; bounds measured at seeds 0-9 in the tests
        claims=(("limit", 5.0), ("cut", 0.5), ("times", 3), ("angle", 20)),
        words=(("clipping", "bptt.clipping_title"),),
    ),
    Step(
        "paper",
        "text",
        (("model", "new"), ("hidden_size", 256), ("seq_length", 60), ("dropout", 0.2)),
        ("hidden_size", "seq_length", "dropout"),
        "gen_curves",
        words=(("paper", "text.paper_title"), ("train", "text.train")),
    ),
    Step(
        "temperature",
        "text",
        (("temperature", 0.3), ("speed", "instant")),
        ("temperature", "top_k", "seed_text", "length"),
        "gen_temperature",
        claims=(("length", 300),),  # the page's default length
        words=(("write", "text.generate"),),
    ),
)


def step(n: int) -> Step | None:
    """Step n of the path (counted from 1), or None."""
    return STEPS[n - 1] if 1 <= n <= len(STEPS) else None


def show_me(n: int) -> dict[str, str]:
    """The link parameters of step n's "show me": its page's settings and the step to return to."""
    return {**{k: as_link(v) for k, v in STEPS[n - 1].settings}, "lesson": str(n)}


def way_back(n: int) -> dict[str, str]:
    """The link parameters that bring the path back to step n (the frame's `lesson` says a link
    brought it, so the path opens at that step whatever it showed before)."""
    return {"step": str(n), "lesson": str(n)}
