"""What one student may ask of a shared server, stated once.

Every piece of work a page can start is bounded here: the sizes a model may have to be drawn or
trained, the characters a vocabulary may hold, the memory a training worker may use. Pages and
the loaders read these numbers; nothing else writes them. A request over a bound is refused with
one line that says which setting to lower, never silently clamped.
"""

from __future__ import annotations

from typing import NamedTuple

MAX_VOCAB = 1000  # distinct characters of a training text (one alphabet with accents: < 300)


class ModelLimits(NamedTuple):
    """The largest model a page takes from an uploaded checkpoint."""

    hidden: int  # units per layer
    layers: int
    vocab: int = MAX_VOCAB


# The belt page orders units by clustering (O(H³)) and draws every unit; the others draw a few
# units but run the whole model at every rerun. Beyond these, a page would hold the server for
# seconds per rerun.
UPLOAD_LIMITS = {
    "cell": ModelLimits(hidden=1024, layers=3),
    "belt": ModelLimits(hidden=512, layers=3),
    "text": ModelLimits(hidden=1024, layers=3),
}
