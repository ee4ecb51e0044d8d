"""Cost of the Eliashberg gap in a run: one warm and one cold self-energy update per cell
against one FFT collision evaluation, with the solver and kernel of the 0-D Al (weak
coupling) and Pb (strong coupling) jobs (``bench.eliashberg_cost``); and the error and
wall time of updating the gap every k steps (``bench.eliashberg_update_every``). Serial.

    python benchmarks/eliashberg_cost.py [--t-end 40] [--json out.json]
"""
from boltzphlow_mpi.extras import bench

import _common  # noqa: F401  (sys.path)
from _common import arg, dump

if __name__ == "__main__":
    t_end = arg("--t-end", 40.0)
    materials = list(bench.ELIASHBERG_GRIDS)
    dump({"cost": [bench.eliashberg_cost(m) for m in materials],
          "update_every": [r for m in materials for r in bench.eliashberg_update_every((1, 4, 16), t_end, m)]})
