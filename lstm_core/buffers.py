"""Arrays that start on a 64-byte boundary, where the matrix products read them fastest.

NumPy takes an array's memory from malloc, which promises 16-byte alignment only: a training
step's arrays started 0, 16, 32 or 48 bytes past a 64-byte boundary, a different offset from one
allocation to the next. OpenBLAS's AVX-512 kernels, the ones NumPy's wheels run on a machine
with AVX-512, read a matrix that starts on the boundary faster. Measured on the project's 2-core
machine, one thread, best of 5 (µs):

    product                                  at +16 bytes   on the boundary
    (32, 256) · (256, 1024), the recurrence       261-268         223-229
    (32, 1024) · (1024, 256), its backward        197-199         190
    (321, 1920) · (1920, 1024), the W gradient  13465-13638     13067-13125

So every buffer a training step multiplies comes from here, and so do the parameters (the first
layer's W then starts on the boundary; a block further into the flat vector may not, and the layer
multiplies a copy of it).
"""

from __future__ import annotations

import math

import numpy as np

ALIGNMENT = 64  # bytes: one cache line, one AVX-512 register


def empty(shape, dtype=np.float32) -> np.ndarray:
    """Like `np.empty`, but the first element sits on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    size = math.prod(shape) * dtype.itemsize
    if not size:  # no first element to place
        return np.empty(shape, dtype)
    raw = np.empty(size + ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start : start + size].view(dtype).reshape(shape)


def aligned(a: np.ndarray) -> bool:
    """Whether a's first element sits on a 64-byte boundary."""
    return a.ctypes.data % ALIGNMENT == 0


def empty_like(a: np.ndarray) -> np.ndarray:
    """`empty` with a's shape and dtype."""
    return empty(a.shape, a.dtype)


def zeros(shape, dtype=np.float32) -> np.ndarray:
    """Like `np.zeros`, on a 64-byte boundary."""
    out = empty(shape, dtype)
    out.fill(0)
    return out
