"""A model's weights at chosen moments of its training, so a learner can go back in time.

Early learning changes a model fastest, so the moments kept are dense at the start and spread
out later: every step up to `DENSE`, then each step at least `RATIO` times the last one kept, plus
always the latest step. A history lives within a memory budget (`BUDGET_BYTES` per student,
stated in budget.py's spirit: never unbounded): when the next snapshot would not fit, one interior
moment is dropped, the one whose neighbours lie closest together on a logarithmic scale of steps,
so what stays is still spread evenly in log(step). The first and the last moments are never
dropped. Snapshots are float32 copies of the model's flat parameter vector.

A checkpoint can carry its history (checkpoint.py: members `history.steps` and, for each weight
of the format, `history.<weight>` stacked over the kept steps), so an uploaded model can be
rewound too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .model import Model

BUDGET_BYTES = 20 * 2**20  # per history: 50 moments of a 128-unit char model, hundreds of echo
MAX_MOMENTS = 400  # however small the model: enough for any slider
DENSE = 10  # every step up to here is kept
RATIO = 1.15  # then each kept step at least this much later than the one before


@dataclass
class WeightHistory:
    """Kept (step, weights) pairs in step order; see the module docstring."""

    budget: int = BUDGET_BYTES
    steps: list[int] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    _latest_is_extra: bool = False  # the last pair is there only because it is the latest
    _grid_last: int | None = None  # the last step kept for being due

    def __post_init__(self) -> None:
        if self.budget <= 0:
            raise ValueError("a history needs a positive budget")

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        span = f"steps {self.steps[0]}..{self.steps[-1]}" if self.steps else "empty"
        return f"WeightHistory({len(self)} moments, {span}, {self.nbytes / 2**20:.1f} MB)"

    @property
    def nbytes(self) -> int:
        return sum(w.nbytes for w in self.weights)

    @property
    def provisional(self) -> bool:
        """Whether the last moment is there only for being the latest (the next step replaces it)."""
        return self._latest_is_extra

    def capacity(self, per_moment: int) -> int:
        """How many moments of `per_moment` bytes fit (at least 2: the first and the last)."""
        return max(2, min(MAX_MOMENTS, self.budget // max(1, per_moment)))

    def offer(self, step: int, flat: np.ndarray) -> None:
        """Training reached `step` with these weights: keep them if the step is due, and keep
        them as the latest in any case (replacing a latest kept only for being the latest)."""
        if self.steps and step <= self.steps[-1]:
            if step == self.steps[-1]:  # the same step again: its newest weights
                self.weights[-1] = np.array(flat, np.float32)
            return
        due = self._grid_last is None or step <= DENSE or step >= self._grid_last * RATIO
        if self._latest_is_extra:  # the previous latest was kept only for being the latest
            self.steps.pop()
            self.weights.pop()
        self.steps.append(int(step))
        self.weights.append(np.array(flat, np.float32))
        self._latest_is_extra = not due
        if due:
            self._grid_last = int(step)
        self._thin()

    def _thin(self) -> None:
        cap = self.capacity(self.weights[-1].nbytes)
        while len(self.steps) > cap:
            logs = np.log1p(np.asarray(self.steps, np.float64))
            gaps = logs[2:] - logs[:-2]  # the span left if moment i (1..n-2) went
            i = 1 + int(np.argmin(gaps))
            del self.steps[i]
            del self.weights[i]

    def index_at(self, step: int) -> int:
        """The last kept moment at or before `step` (the first one if step is earlier)."""
        i = int(np.searchsorted(np.asarray(self.steps), step, side="right")) - 1
        return max(0, i)

    def stacked(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps (K,), weights (K, P)) for saving."""
        return np.asarray(self.steps, np.int64), np.stack(self.weights)

    @classmethod
    def from_arrays(cls, steps: np.ndarray, weights: np.ndarray, budget: int = BUDGET_BYTES):
        history = cls(budget=max(budget, int(weights.nbytes) + 1))
        history.steps = [int(s) for s in steps]
        history.weights = [np.array(w, np.float32) for w in weights]
        history._grid_last = history.steps[-1] if history.steps else None  # goes on at its pace
        return history


def shared_budgets(models: list[Model], budget: int) -> list[int]:
    """Budgets for the histories of models trained side by side (an RNN and an LSTM): together
    within `budget`, and each of the same capacity in moments, so that offered the same steps
    they keep the same steps (a slider shows them all at one step)."""
    sizes = [m.flat.size * 4 for m in models]  # bytes of a float32 snapshot
    moments = max(2, min(MAX_MOMENTS, budget // max(1, sum(sizes))))
    return [moments * size for size in sizes]


def model_at(model: Model, history: WeightHistory, index: int) -> Model:
    """The model as it was at the history's moment `index` (same config and meta)."""
    return Model(model.config, history.weights[index].astype(model.dtype), model.meta)


def unit_over_training(
    model: Model,
    history: WeightHistory,
    inputs: np.ndarray,
    layer: int,
    unit: int,
    value: str = "c",
    moments=None,
) -> np.ndarray:
    """One unit's value ("c" or "h") at every step of `inputs` (T,), at every kept moment (or
    at the indices `moments` only): (K, T), row j = moment j. What only rewinding can show:
    when a unit starts to mean something."""
    inputs = np.asarray(inputs)[None, :]
    moments = range(len(history)) if moments is None else moments
    out = np.empty((len(moments), inputs.shape[1]), model.dtype)
    for row, j in enumerate(moments):  # the weights differ per moment: one pass each
        trace = model_at(model, history, j).run(inputs).layers[layer]
        out[row] = (trace.memory if value == "c" else trace.h)[1:, 0, unit]
    return out
