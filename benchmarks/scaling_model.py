"""Weak-scaling model of the radial step to 1000 ranks and 1e5 cells, written from the
measured numbers (no new timing here): per-cell compute cost of the full step (serial,
from two cell counts), the ghost exchange (DMDA globalToLocal of the phonon block) and
the all-to-all transpose per call, their calls per step, the ping-pong latency and
bandwidth between two ranks, the HDF5 record bandwidth and the memory per cell.

Model, per step and rank, for ``c`` cells per rank on ``P`` ranks (``C = c P`` cells, N
energies, M angles):

    T(P) = t_fixed + t_cell c max(1, P/N)                  compute (see below)
         + n_ghost t_ghost                                   nearest-neighbour, independent of P
         + n_tr [t_tr(2) + (P - 2)^+ alpha]                  Alltoallv: P messages per rank, same bytes
         + n_red [ceil(log2 P) alpha + 8 C / beta]           gathers of one value per cell (gap, outflow)

``max(1, P/N)``: the QP diffusion solves each energy column over all C cells after the
transpose; for P > N a rank gets one column of C = c P cells, more than its c N share.

With the partition QP-diffusion solver (``transport.qp_solver = "partition"``, measured
step ``step_small_p``/``step_large_p`` and interface solve times ``reduced``), per step:

    T_p(P) = t_fixed' + t_cell' c                           compute: own cells only, any P
           + n_ghost t_ghost + n_red [...]                    as above
           + n_solve [2 alpha + 2 (P alpha) + 64 N / beta + t_red(P)]
                 (neighbour rows, two all-to-alls of 6 N and 2 N numbers per rank, the
                  banded interface solve of ceil(N / P) energies)
The HDF5 record (f, n and gap of every cell, ``(2N+1) C 8`` bytes) is written at
``B_io`` (the 2-rank value measured here, and an assumed parallel file system).
Assumptions are marked in the output; the network parameters are those of two ranks on
one node (shared memory), a lower bound for an interconnect.

    python benchmarks/scaling_model.py step1_64.json step1.json comm2.json io2.json mem.json
"""
import json
import math
import sys

ASSUMED_FS_B_PER_S = 5e9      # aggregate parallel file-system bandwidth (assumption)
ASSUMED_NET_ALPHA_S = 2e-6    # interconnect latency (assumption, InfiniBand class)
ASSUMED_NET_BETA_B_PER_S = 10e9  # interconnect bandwidth per rank (assumption)


def model(step_small, step_large, comm, io, mem, cells_per_rank=100, ranks=(1, 2, 8, 64, 256, 1000),
          network="measured", partition=None):
    """The rows of the model; ``partition``: ``(step_small_p, step_large_p, reduced)`` adds the
    partition solver's step (``partition_s``, ``partition_efficiency``) to every row."""
    N = step_large["energies"]
    dc = step_large["cells"] - step_small["cells"]
    t_cell = (step_large["s_per_step"] - step_small["s_per_step"]) / dc
    t_fixed = max(0.0, step_small["s_per_step"] - t_cell * step_small["cells"])
    calls = step_large["calls_per_step"]
    n_ghost, n_tr = calls.get("ghost_exchange", 4), calls.get("transpose", 5)
    n_red = 3  # gap gather in set_spectra + QP outflow allgather x 2 half steps
    if network == "measured":
        alpha, beta = comm["latency_s"], comm["bandwidth_B_per_s"]
        t_ghost, t_tr = comm["ghost_exchange_s"], comm["transpose_roundtrip_s"] / 2
    else:
        alpha, beta = ASSUMED_NET_ALPHA_S, ASSUMED_NET_BETA_B_PER_S
        t_ghost = 2 * alpha + comm["ghost_bytes_per_neighbour"] / beta
        t_tr = alpha + comm["transpose_bytes_per_rank"] / 2 * (cells_per_rank / comm["cells_per_rank"]) / beta
    io_bw = io["MB_per_s"] * 1e6
    part = None
    if partition is not None:
        small_p, large_p, reduced = partition
        t_cell_p = (large_p["s_per_step"] - small_p["s_per_step"]) / (large_p["cells"] - small_p["cells"])
        t_fixed_p = max(0.0, small_p["s_per_step"] - t_cell_p * small_p["cells"])
        t_red = {r["ranks"]: r["reduced_solve_s"] for r in reduced["rows"]}
        n_tr_p = large_p["calls_per_step"].get("transpose", 0)
        part = (t_cell_p, t_fixed_p, t_red, n_tr_p)
    rows, t1, t1_p = [], None, None
    for P in ranks:
        C = cells_per_rank * P
        compute = t_fixed + t_cell * cells_per_rank * max(1.0, P / N)
        ghost = n_ghost * t_ghost if P > 1 else 0.0
        tr = n_tr * (t_tr + max(0, P - 2) * alpha) if P > 1 else 0.0
        red = n_red * (math.ceil(math.log2(P)) * alpha + 8 * C / beta) if P > 1 else 0.0
        total = compute + ghost + tr + red
        t1 = total if t1 is None else t1
        rec = (2 * N + 1) * C * 8
        extra = {}
        if part is not None:
            t_cell_p, t_fixed_p, t_red, n_tr_p = part
            n_solve = 2  # two half steps of QP diffusion per step
            comm_p = (n_solve * (2 * alpha + 2 * P * alpha + 64 * N / beta) if P > 1 else 0.0)
            total_p = (t_fixed_p + t_cell_p * cells_per_rank + ghost + red + comm_p
                       + n_solve * t_red.get(P, 0.0) + (n_tr_p * (t_tr + max(0, P - 2) * alpha) if P > 1 else 0.0))
            t1_p = total_p if t1_p is None else t1_p
            extra = {"partition_s": total_p, "partition_comm_s": comm_p, "partition_efficiency": t1_p / total_p}
        rows.append({**extra, "ranks": P, "cells": C, "compute_s": compute, "ghost_s": ghost, "transpose_s": tr,
                     "gather_s": red, "total_s": total, "weak_efficiency": t1 / total,
                     "record_MB": rec / 1e6, "record_s_measured_bw": rec / io_bw,
                     "record_s_assumed_fs": rec / ASSUMED_FS_B_PER_S,
                     "memory_MB_per_rank": (mem["peak_bytes_fixed"] + mem["peak_bytes_per_cell"] * cells_per_rank
                                            + 8 * C * 8) / 1e6})
    return {"t_cell_partition_s": part[0] if part else None, "t_cell_s": t_cell, "t_fixed_s": t_fixed, "n_ghost": n_ghost, "n_transpose": n_tr, "n_gather": n_red,
            "alpha_s": alpha, "beta_B_per_s": beta, "t_ghost_s": t_ghost, "t_transpose_s": t_tr,
            "energies": N, "cells_per_rank": cells_per_rank, "network": network, "rows": rows}


if __name__ == "__main__":
    data = [json.load(open(p)) for p in sys.argv[1:6]]
    print(json.dumps({"measured": model(*data), "assumed_network": model(*data, network="assumed")}, indent=1))
