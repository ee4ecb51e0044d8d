"""QP generation efficiency of a steady state under drive (issue 6; Guruswamy, Goldie and
Withington 2014), and the pair-process rates it is built from. Pure numpy: no PETSc, no MPI.

Internal units (``kinetics``): numbers per cell in units of ``N_0`` (``4 h sum`` over the
grid), time ``tau_0``. From the collision sums (eqs. (36), (37), (39)-(40); docs/physics.md,
"Collision integrals"), per phonon mode ``Omega`` (pair support ``Omega >= 2 Delta`` only)::

    made by recombination   R(Omega)   = c_r h [conv(a,a) + conv(b,b)] (1 + n)
    pair-breaking rate      1/tau_B(Omega) = c_r h [conv(c,c) + conv(d,d)]     (per phonon)

each phonon number counted with the weight ``4 W h Omega^2`` (``E_ph = 4 W h sum Omega^3 n``);
a recombination removes two QPs. A phonon of mode ``Omega`` breaks a pair before it escapes
with the probability ``p(Omega) = tau_esc / (tau_esc + tau_B(Omega))``.

Generation efficiency (Guruswamy et al. 2014, with the Rothwarf-Taylor trapping correction):
in a steady state the excess recombination rate ``Gamma_rec = 2 sum (R - R_bath)`` (QPs per
unit time) counts each QP pair the drive made ``1 + tau_esc/tau_B`` times, because a
recombination phonon breaks a pair again ``tau_esc/tau_B`` times on average before it
escapes. The QPs the drive generates per unit time are therefore

    Gamma_gen = Gamma_rec / (1 + tau_esc/tau_B) = 2 sum (R - R_bath) (1 - p),
    eta = Delta Gamma_gen / P_abs,

with ``tau_esc/tau_B = sum (R - R_bath) p / sum (R - R_bath) (1 - p)``: the Rothwarf-Taylor
ratio averaged over the spectrum of the excess recombination phonons (they lie a few
``k T*`` above ``2 Delta``, where ``tau_B`` still changes). For a photon with
``2 Delta < h nu < 4 Delta`` no phonon from the relaxation can break a pair, and the QP
balance gives ``Gamma_gen = 2 P / h nu``, ``eta = 2 Delta / h nu``; for phonons injected at
``Omega < 4 Delta``, ``eta = (2 Delta / Omega) p(Omega)`` (those that escape first are lost).
"""
import numpy as np

from boltzphlow_mpi.physics.collisions import conv


def pair_rates(model, y):
    """Per cell and phonon mode: phonons made by recombination (numbers per unit time,
    weighted), the break-before-escape probability ``p``, the pair-breaking rate per phonon
    ``1/tau_B`` (zero off the pair support), the pair support and the number weight
    ``4 W h Omega^2``; rows of ``y`` are states."""
    fbar, nbar, _ = model.unpack(y)
    kern, sp, grid = model.kernel, model.spectra, model.grid
    a, b = sp.rho * fbar, sp.phi * fbar
    c, d = sp.rho * (1.0 - fbar), sp.phi * (1.0 - fbar)
    h, x = grid.step, grid.x
    has_states = sp.rho > 0
    first = np.where(has_states.any(axis=1), np.argmax(has_states, axis=1), grid.size)
    pair = (np.arange(grid.size)[None, :] >= 2 * first[:, None]) & grid.phonon_mask
    weight = 4.0 * model.phonon_weight * h * x ** 2
    made_sum, breaking_sum = h * (conv(a, a) + conv(b, b)), h * (conv(c, c) + conv(d, d))
    if kern.edge is not None:  # the strip weights at the gap edge (physics.pair_correction)
        dm, db = kern.edge.mode_sums(fbar, sp)
        made_sum, breaking_sum = made_sum + dm, breaking_sum + db
    made = weight * kern.c_pair * made_sum * (1.0 + nbar) * pair
    breaking = kern.c_pair * breaking_sum * pair
    lost = breaking + model.escape
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(lost > 0, breaking / np.where(lost > 0, lost, 1.0), 0.0)
    return {"made": made, "p_break": p, "breaking": breaking, "pair": pair, "weight": weight}


def generation_efficiency(model, y, absorbed_power):
    """``eta`` per cell (see the module docstring) with ``Gamma_rec`` and ``Gamma_gen`` (QPs
    per unit time, internal units) and the trapping factor ``tau_esc/tau_B``."""
    now = pair_rates(model, y)
    bath = pair_rates(model, np.broadcast_to(model.reference_state, np.shape(y)))
    extra = now["made"] - bath["made"]
    p = now["p_break"]
    gamma_rec = 2.0 * np.sum(extra, axis=1)
    gamma_gen = 2.0 * np.sum(extra * (1.0 - p), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        trapping = np.sum(extra * p, axis=1) / np.sum(extra * (1.0 - p), axis=1)
        eta = np.asarray(model.delta) * gamma_gen / np.asarray(absorbed_power, float)
    return {"eta": eta, "gamma_rec": gamma_rec, "gamma_gen": gamma_gen, "trapping": trapping}


def averaged_trapping_efficiency(model, y, absorbed_power):
    """``eta`` with the trapping correction of one averaged pair-breaking rate (the
    convention of the thin-film solver nestfsss; docs/physics.md, "eta under phonon
    trapping"), per cell: ``Delta (Gamma_rec - 2 B N_2D,bath) / (1 + B tau_esc) / P_abs``
    with ``Gamma_rec`` all recombinations (QPs per unit time), ``N_2D,bath`` the bath's
    phonon number above ``2 Delta`` and ``B`` the pair-breaking rate ``1/tau_B(Omega)``
    averaged over the state's phonons above ``2 Delta``, weighted by their number. For
    comparison only: ``generation_efficiency`` resolves ``tau_B(Omega)`` mode by mode."""
    nbar = model.unpack(y)[1]
    rates = pair_rates(model, y)
    weight, pair = rates["weight"], rates["pair"]
    number = np.sum(weight * nbar * pair, axis=1)
    bath = np.broadcast_to(model.unpack(model.reference_state)[1], nbar.shape)
    number_bath = np.sum(weight * bath * pair, axis=1)
    gamma_rec = 2.0 * np.sum(rates["made"], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        B = np.sum(weight * nbar * rates["breaking"], axis=1) / number
        tau_esc = 1.0 / model.escape_rate
        net = (gamma_rec - 2.0 * B * number_bath) / (1.0 + B * tau_esc)
        return np.asarray(model.delta) * net / np.asarray(absorbed_power, float)
