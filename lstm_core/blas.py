"""How many threads NumPy's matrix products may use, read and changed while running.

NumPy's BLAS (OpenBLAS in its wheels; MKL, BLIS or Accelerate elsewhere) starts a thread per core
and uses them for every product big enough, which is best for one program alone on a machine and
worst for a busy server: on 2 cores shared with other work, its threads wait for each other and
the small products of a recurrent network run many times slower with two threads than with one.
OPENBLAS_NUM_THREADS only counts before NumPy is first imported; these functions change the count
at any time, on every platform, through threadpoolctl (which finds the BLAS NumPy loaded). With a
BLAS it cannot reach they do nothing and say so by returning None.

threadpoolctl lets one live thread at a time control a process-wide OpenBLAS pool (the first to
set it; calls from other threads change nothing while it lives): the app server sets its count
once, a training worker from its main thread.
"""

from __future__ import annotations

from functools import cache


@cache
def _controllers() -> tuple:
    """The BLAS libraries NumPy loaded, as threadpoolctl's controllers (found once)."""
    import numpy  # noqa: F401  (loads the library, so that threadpoolctl can find it)

    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - it is a dependency; without it, nothing to change
        return ()
    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


def threads() -> int | None:
    """How many threads the matrix products may use now; None if that cannot be told."""
    found = _controllers()
    return int(found[0].num_threads) if found else None


def set_threads(n: int) -> int | None:
    """Let the matrix products use n threads (at least 1); returns the number before, or None
    (and changes nothing) if NumPy's BLAS is not one threadpoolctl can reach."""
    found = _controllers()
    if not found:
        return None
    before = int(found[0].num_threads)
    for lib in found:
        lib.set_num_threads(max(1, int(n)))
    return before


def describe() -> list[dict]:
    """Each BLAS NumPy loaded: its name, version, kernel (architecture) and thread count."""
    return [
        {
            "library": lib.internal_api,
            "version": lib.version,
            "kernel": getattr(lib, "architecture", None),
            "threads": int(lib.num_threads),
        }
        for lib in _controllers()
    ]


def warm() -> None:
    """Run a matrix product of each kind NumPy's training uses, on every thread the BLAS has,
    so that its work buffers are mapped now. OpenBLAS maps them on first use and keeps them; an
    allocation that fails inside it (a worker under its address-space limit) ends the process
    instead of raising MemoryError, so a worker warms it before the limit is set."""
    import os

    import numpy as np

    before = set_threads(os.cpu_count() or 1)
    try:
        for dtype in (np.float32, np.float64):
            a = np.ones((512, 512), dtype)
            a @ a  # matrix-matrix, split over the threads
            a @ a[0]  # matrix-vector
    finally:
        if before is not None:
            set_threads(before)
