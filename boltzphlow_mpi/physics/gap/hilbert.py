"""The Kramers-Kronig (Hilbert) transform on the symmetric energy grid (docs/numerics.md,
"Eliashberg self-energies: FFT sums, Hilbert transform, Anderson iteration").

The real parts of the Eliashberg self-energies are the Hilbert transforms of their
imaginary parts; ``Hilbert`` evaluates it as one zero-padded FFT convolution.
"""
import numpy as np
from scipy import fft as sfft


def hilbert_weights(m):
    """Weights of the exact Hilbert transform of a piecewise-linear function.

    Parameters
    ----------
    m : int
        The largest shift.

    Returns
    -------
    ndarray, shape (2m + 1,)
        ``w_s``, ``s = -m .. m``, such that ``H[u](x_k) = sum_j u_j w_{j-k}`` (independent
        of the step).
    """
    k = np.arange(-m, m + 1, dtype=float)

    def xlx(x):
        a = np.abs(x)
        return np.where(a > 0, x * np.log(np.where(a > 0, a, 1.0)), 0.0)

    return (xlx(k + 1) - 2 * xlx(k) + xlx(k - 1)) / np.pi


class Hilbert:
    """``(1/pi) P int u(y)/(y - x) dy`` for samples on the symmetric grid ``j h``,
    ``j = -(M-1) .. M-1``: zero-padded FFT convolution with ``hilbert_weights``, applied to
    ``u - (1/12) delta^2 u`` (fourth order for smooth u), plus the closed-form tail of
    ``u(y) = u(+-L) L / y`` beyond ``|y| > L``."""

    def __init__(self, m):
        self.M = m
        n = 2 * m - 1
        self.size = sfft.next_fast_len(3 * n - 2, real=True)
        w = hilbert_weights(n - 1)  # shifts -(n-1) .. n-1
        # out_k = sum_j u_j w_{j-k} = sum_j u_j wr_{k-j}, wr_s = w_{-s} = -w_s
        self._what = sfft.rfft(-w, self.size)
        self.n = n
        x = np.arange(-(m - 1), m, dtype=float)
        top = m - 0.5  # the tail starts half a step above the last node (in units of h)
        with np.errstate(divide="ignore", invalid="ignore"):
            # (1/pi) int_{|y|>L} (L/y)/(y - x) dy = L ln((L + x)/(L - x)) / (pi x), per unit u(L)
            tail = np.where(x != 0, top / (np.pi * x) * np.log((top + x) / (top - x)), 2.0 / np.pi)
        self._tail = tail  # per unit u(L), for an odd u; in units where h = 1 (scale free)

    def __call__(self, u, odd_tail=True):
        """``u`` shape (..., 2M-1) on ``j = -(M-1) .. M-1``."""
        u = np.asarray(u)
        d2 = np.zeros_like(u)
        d2[..., 1:-1] = u[..., 2:] - 2 * u[..., 1:-1] + u[..., :-2]
        v = u - d2 / 12.0
        out = sfft.irfft(sfft.rfft(v, self.size, axis=-1) * self._what, self.size, axis=-1)
        out = out[..., self.n - 1: 2 * self.n - 1]
        if odd_tail:
            out = out + u[..., -1:] * self._tail
        return out
