"""Compiled element-wise loops: the ``njit`` decorator every such loop of the package uses.

The hot loops of a step (streaming rates, the QP remap of a gap update, the collision
algebra around the FFTs) are numba-compiled (docs/performance.md, "Full radial step").
Each loop does the arithmetic of the numpy expression it replaces in the same order, so
that its results are the same to the last bit; transcendental functions (``exp``, ``log``)
and reductions (``sum``, norms) stay in numpy, whose SIMD versions differ in the last bit
from the C library's. Compiled code is cached on disk (next to the module, or in numba's
per-user cache where the package directory is read-only), so a process compiles a loop
only the first time it is ever used.
"""
import os

# numba colours its error messages with colorama, whose start-up registers an exit handler
# that writes a terminal reset code to stdout: every command's output (and --json) would
# end in "\x1b[0m". Plain error messages instead.
os.environ.setdefault("NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING", "1")

import numba  # noqa: E402


def njit(function):
    """``numba.njit`` with the package's options: cached, no GIL, numpy's floating-point
    error model (a division by zero gives inf or NaN, as in numpy, not an exception)."""
    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)
