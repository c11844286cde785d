"""How many threads NumPy's matrix products may use, read and changed while running.

NumPy's wheels carry their own OpenBLAS. By default it starts a thread per core and uses them
for every product big enough, which is best for one program alone on a machine and worst for a
busy server: on 2 cores shared with other work, its threads wait for each other and the small
products of a recurrent network ran 5-20 times slower with two threads than with one (measured
here on the page "Backpropagation through time", H=64, T=100: 328 ms against 43 ms).
OPENBLAS_NUM_THREADS only counts before NumPy is first imported; these functions change it at
any time, through OpenBLAS's own C functions (found with ctypes in the library NumPy loaded).
With another BLAS (MKL, Accelerate, a system OpenBLAS under another name) they do nothing and
say so by returning None.
"""

from __future__ import annotations

import ctypes
import os
from functools import cache

_PREFIXES = ("scipy_openblas", "openblas")  # NumPy's wheels name it scipy_openblas(64_)
_SUFFIXES = ("64_", "")


@cache
def _functions() -> tuple | None:
    """(get, set) of the OpenBLAS NumPy loaded, or None."""
    import numpy  # noqa: F401  (loads the library, so that its path shows in the map below)

    paths = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.split(maxsplit=5)[-1].strip()
                if "openblas" in os.path.basename(path).lower() and path not in paths:
                    paths.append(path)
    except OSError:  # not Linux: nothing to find this way
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    get.restype, put.restype = ctypes.c_int, None
                    put.argtypes = [ctypes.c_int]
                    return get, put
    return None


def threads() -> int | None:
    """How many threads the matrix products may use now; None if that cannot be told."""
    found = _functions()
    return None if found is None else int(found[0]())


def set_threads(n: int) -> int | None:
    """Let the matrix products use n threads (at least 1); returns the number before, or None
    (and changes nothing) if NumPy's BLAS is not an OpenBLAS this can reach."""
    found = _functions()
    if found is None:
        return None
    before = int(found[0]())
    found[1](max(1, int(n)))
    return before
