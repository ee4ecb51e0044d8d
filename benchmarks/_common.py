"""Shared helpers of the benchmark scripts (not part of the package)."""
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


def best_time(fn, repeat, budget_s=20.0, min_repeat=1):
    """Smallest wall time (s) of ``repeat`` calls (stops after ``budget_s`` once ``min_repeat`` ran)."""
    best, start, out = np.inf, time.perf_counter(), None
    for i in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        if i + 1 >= min_repeat and time.perf_counter() - start > budget_s:
            break
    return best, out


def dump(result, argv=None):
    """Write ``result`` as JSON to the path after ``--json`` (else stdout)."""
    argv = sys.argv[1:] if argv is None else argv
    text = json.dumps(result, indent=1, default=float)
    if "--json" in argv:
        with open(argv[argv.index("--json") + 1], "w") as fh:
            fh.write(text)
    else:
        print(text)


def arg(name, default, cast=float):
    argv = sys.argv[1:]
    return cast(argv[argv.index(name) + 1]) if name in argv else default
