"""The lessons' presets: what each one sets, and the outcome it promises, in one record.

A page writes its sentence about a preset's outcome from the preset's own `claims` (the numbers
in the sentence are the claim's bounds), and tests/test_demos.py trains the same preset through
lstm_core and checks the same claims, across seeds. So what the screen says and what the test
keeps true cannot drift apart: change a preset here and both follow.

    EchoPreset   a setup of the echo page (its settings are the page's parameter names, which are
                 EchoConfig's field names) and what training it shows
    BPTT_PRESET  the setup of the page "Backpropagation through time" that shows its point, and
                 `bptt_echo_config`, the recipe that page trains its pair of echo models with
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .echo import EchoConfig, echo_accuracy
from .model import Model
from .training import EchoTrainer

NOTEBOOK = EchoConfig()  # the notebook's setup: every preset starts from it
# The echo page trains in slices between redraws (pages/echo.py), so training gets only a share
# of the clock (measured: README, "Speed"). A preset's promise of N seconds allows
# N × PAGE_SHARE seconds of the engine (tests/test_demos.py).
PAGE_SHARE = 0.65


@dataclass(frozen=True)
class Claim:
    """One outcome: a cell's accuracy on fresh data (echo_accuracy) after training, bounded.

    epochs: after this many epochs (None: all of the preset's). changes: settings that differ
    from the preset's for this claim (the truncation lesson's cure: a longer window)."""

    cell: str  # "rnn" or "lstm"
    at_least: float = 0.0
    at_most: float = 1.0
    epochs: int | None = None
    changes: tuple[tuple[str, Any], ...] = ()

    def holds(self, accuracy: float) -> bool:
        return self.at_least <= accuracy <= self.at_most


@dataclass(frozen=True)
class EchoPreset:
    """A setup of the echo page: the settings it changes from the notebook's, and its claims."""

    name: str
    settings: tuple[tuple[str, Any], ...]  # page parameters (EchoConfig fields, compare, cell)
    claims: tuple[Claim, ...]
    seconds: float = 0.0  # the page promises each run trains in about this, alone (0: no promise)

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.settings)

    def config(self, cell: str, seed: int = 0, changes: tuple = ()) -> EchoConfig:
        """The EchoConfig the page trains `cell` with at this preset (plus `changes`)."""
        fields = {k: v for k, v in {**self.values, **dict(changes)}.items() if k in _FIELDS}
        return replace(NOTEBOOK, **{**fields, "cell": cell, "seed": seed})

    def claim_config(self, claim: Claim, seed: int = 0) -> EchoConfig:
        """The EchoConfig a claim is about: the preset's, its changes, and its epochs."""
        config = self.config(claim.cell, seed, claim.changes)
        return replace(config, num_epochs=claim.epochs or config.num_epochs)

    def claim(self, cell: str, cured: bool = False) -> Claim:
        """This preset's claim about `cell` (cured: the one with changes, the cure's)."""
        for claim in self.claims:
            if claim.cell == cell and bool(claim.changes) == cured:
                return claim
        raise KeyError(f"the preset {self.name!r} claims nothing about {cell} (cured={cured})")


_FIELDS = set(NOTEBOOK.as_dict())

# The echo page's "RNN vs LSTM" recipe: long enough an echo that a plain RNN's gradient fades
# before it (the RNN stays at chance at every seed tried, 0-9), units and windows enough for
# the LSTM, and a learning rate that falls a little each epoch so that it settles above 99%.
RECIPE = (
    ("echo_step", 20),
    ("truncated_backprop_length", 60),
    ("state_size", 64),
    ("batch_size", 16),
    ("total_series_length", 48_000),
    ("num_epochs", 60),
    ("optimizer", "adam"),
    ("learning_rate", 0.015),
    ("lr_decay", 0.97),
)

# Each preset's claims hold with a margin at seeds 0-4; the measured spread is written beside
# each one in tests/test_demos.py, which checks them.
ECHO_PRESETS: dict[str, EchoPreset] = {
    "notebook": EchoPreset(
        "notebook",
        (),
        (Claim("lstm", at_least=0.99, epochs=1),),  # the notebook's LSTM, after one epoch
    ),
    "rnn_vs_lstm": EchoPreset(
        "rnn_vs_lstm",
        (("compare", True), *RECIPE),
        (Claim("rnn", at_most=0.65), Claim("lstm", at_least=0.99)),
        seconds=30,
    ),
    "truncation": EchoPreset(  # the same LSTM with windows shorter than the echo, then the cure
        "truncation",
        (
            ("compare", False),
            ("cell", "lstm"),
            *RECIPE,
            ("truncated_backprop_length", 15),
            ("num_epochs", 20),
        ),
        (
            Claim("lstm", at_most=0.65),  # the window is shorter than the echo: at chance
            Claim(  # cured: the RNN vs LSTM preset's LSTM
                "lstm",
                at_least=0.99,
                changes=(("truncated_backprop_length", 60), ("num_epochs", 60)),
            ),
        ),
        seconds=30,
    ),
}


# ------------------------------------------------------------------ the BPTT page
def bptt_echo_config(cell: str, hidden: int, echo_step: int, seed: int) -> EchoConfig:
    """How the page "Backpropagation through time" trains its echo pair: the echo page's
    "RNN vs LSTM" recipe (optimizer, learning rate, batch) at the page's size and echo_step,
    with windows of the recipe's length or three times echo_step if that is longer, so that
    most targets share a window with their input. It trains for as many steps as the page asks."""
    recipe = ECHO_PRESETS["rnn_vs_lstm"].config(cell, seed)
    window = max(recipe.truncated_backprop_length, 3 * echo_step)
    return replace(
        recipe,
        state_size=hidden,
        echo_step=echo_step,
        truncated_backprop_length=window,
        total_series_length=max(recipe.total_series_length, recipe.batch_size * window),
        num_epochs=1_000_000,
    )


BPTT_ECHO_CLIP = 1.0  # each update's gradient clipped to this norm: steady at every size, 2 to 128


def bptt_echo_trainer(cell: str, hidden: int, echo_step: int, seed: int) -> EchoTrainer:
    """A trainer of the BPTT page's echo pair (`bptt_echo_config`, clipped by norm)."""
    trainer = EchoTrainer(bptt_echo_config(cell, hidden, echo_step, seed))
    trainer.clip_norm = BPTT_ECHO_CLIP
    return trainer


def bptt_echo_score(model: Model, echo_step: int) -> float:
    """The echo score the BPTT page shows for a model of its pair (as trained, or after the
    page's scale and forget shift): accuracy on 4000 fresh bits."""
    cell, hidden = model.config.cell, model.config.hidden_size
    return echo_accuracy(model, bptt_echo_config(cell, hidden, echo_step, 0), length=4000)


@dataclass(frozen=True)
class BPTTPreset:
    """The BPTT page's setup that shows its point: the page parameters it sets, its claims about
    the pair trained there (each cell's echo accuracy on fresh bits) and about their gradients:
    how many steps back the gradient of a map ("rnn_h", "lstm_c") stays above 1/1000 of its size
    at its own step (`bptt.reach` of `bptt.decay_by_distance`; None: over the whole sequence)."""

    settings: tuple[tuple[str, Any], ...]  # the page's parameter names
    scores: tuple[Claim, ...]
    reaches: tuple[tuple[str, int | None, int | None], ...]  # (map, at most, at least)
    seconds: float = 0.0  # the page promises the pair trains within this (0: no promise)

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.settings)

    def score(self, cell: str) -> Claim:
        return next(c for c in self.scores if c.cell == cell)

    def reach(self, panel: str) -> tuple[int | None, int | None]:
        """(at most, at least) steps for the map's reach; None where it is not bounded."""
        return next((lo_hi[1], lo_hi[2]) for lo_hi in self.reaches if lo_hi[0] == panel)

    def trainer(self, cell: str, seed: int) -> EchoTrainer:
        v = self.values
        return bptt_echo_trainer(cell, v["bptt_hidden"], v["bptt_echo_step"], seed)


BPTT_PRESET = BPTTPreset(
    (
        ("bptt_task", "echo"),
        ("bptt_echo_step", 20),
        ("bptt_hidden", 64),
        ("bptt_steps", 3000),
        ("bptt_length", 60),
        ("bptt_window", 60),
        ("bptt_scale", 1.0),
        ("bptt_forget", 0.0),
        ("bptt_truncated", False),
    ),
    (Claim("rnn", at_most=0.65), Claim("lstm", at_least=0.95)),
    (("rnn_h", 19, None), ("lstm_c", None, 21)),
    seconds=30,
)
