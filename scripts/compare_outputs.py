#!/usr/bin/env python3
"""Run the reference jobs and compare their outputs bitwise between two trees.

A refactor proves itself by bitwise-identical outputs against the commit before it. This
script runs the reference jobs (each shortened to seconds) with the package of a given
tree, and compares every dataset and attribute of every HDF5 file two such runs wrote:

    python scripts/compare_outputs.py run OUTDIR            # this tree's package
    python scripts/compare_outputs.py compare DIR_A DIR_B   # exit 1 on any difference
    python scripts/compare_outputs.py against REV           # REV (a git worktree) vs this tree

A change that is meant to move outputs at round-off only (a new floating-point order) says
so with ``compare --report`` (the largest absolute and relative difference of every
differing numeric dataset and attribute) and ``--tolerance REL`` (exit 0 when every
difference is numeric and its largest relative difference is at most REL).

The jobs: ``jobs/default.toml`` (0-D, self-consistent gap, 20 ns), ``jobs/eta_al.toml``
(43.8 ns), ``jobs/sn_bubble.toml`` on 2 ranks (1 ns, checkpoints) and its restart on 1
rank to 1.5 ns, ``jobs/eliashberg_al.toml`` (2 ns), a 0-D steady state with a photon drive
and a sweep of its power. The CLI is called as ``boltzphlow_mpi.cli.main(argv)`` with the
tree's root first on ``sys.path``. Runs take about a minute on two cores.
"""
import argparse
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent



def steady_job():
    """The text of the steady job: tests/jobs/steady.toml of this tree with ``readout_GHz = 5``
    (read from this tree whatever tree runs it; tests/jobs uses the standard library only)."""
    spec = importlib.util.spec_from_file_location("_compare_outputs_jobs", ROOT / "tests" / "jobs" / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.text("steady", solve__readout_GHz=5.0)


def jobs(tree):
    """(name, ranks, argv) of the reference runs; paths relative to the output directory."""
    j = lambda name: str(tree / "jobs" / name)
    return [
        ("default", 1, ["run", j("default.toml"), "-o", "default.h5", "--set", "time.t_end_ns=20.0"]),
        ("eta_al", 1, ["run", j("eta_al.toml"), "-o", "eta_al.h5", "--set", "time.t_end_ns=43.8"]),
        ("sn_bubble", 2, ["run", j("sn_bubble.toml"), "-o", "sn_bubble.h5", "--set", "time.t_end_ns=1.0",
                          "--set", "output.checkpoint_interval_ns=0.5", "--set", 'output.checkpoint_dir="ck_sn"',
                          "--set", f'geometry.mesh="{tree / "meshes" / "sn_bubble.toml"}"']),
        ("sn_restart", 1, ["restart", "ck_sn/ckpt_000005.h5", "--t-end", "1.5", "-o", "sn_restart.h5"]),
        ("eliashberg_al", 1, ["run", j("eliashberg_al.toml"), "-o", "eliashberg_al.h5", "--set", "time.t_end_ns=2.0"]),
        ("steady", 1, ["run", "steady.toml", "-o", "steady.h5"]),
        ("sweep", 1, ["sweep", "steady.toml", "--param", "drive.0.power_W_per_um3", "--values", "1e-12", "1e-11",
                      "-o", "sweep.h5"]),
    ]


def run(tree, outdir, python=sys.executable, mpirun=None):
    """Run every reference job with the package of ``tree`` into ``outdir``."""
    tree, outdir = pathlib.Path(tree).resolve(), pathlib.Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "steady.toml").write_text(steady_job())
    mpirun = mpirun or str(ROOT / ".venv" / "bin" / "mpirun")
    boot = (f"import sys; sys.path.insert(0, {str(tree)!r}); "
            "from boltzphlow_mpi import cli; sys.exit(cli.main(sys.argv[1:]))")
    env = dict(os.environ, PYTHONPATH=str(tree))
    for name, ranks, argv in jobs(tree):
        cmd = [python, "-c", boot, *argv, "-q"] if argv[0] != "sweep" else [python, "-c", boot, *argv]
        if ranks > 1:
            cmd = [mpirun, "-n", str(ranks), *cmd]
        print(f"compare_outputs: {name} ({ranks} rank{'s' if ranks > 1 else ''})", flush=True)
        done = subprocess.run(cmd, cwd=outdir, env=env, capture_output=True, text=True, check=False)
        (outdir / f"{name}.log").write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise SystemExit(f"compare_outputs: {name} failed (exit {done.returncode}); see {outdir / (name + '.log')}")


def _normal(value, roots):
    """An attribute value with the run directories and trees replaced (they differ by run)."""
    import numpy as np
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        for root, tag in roots:
            value = value.replace(root, tag)
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "OSU":
        return _normal(value.tolist(), roots)
    if isinstance(value, (list, tuple)):
        return [_normal(v, roots) for v in value]
    return value


def _comparable(h5, value):
    """An attribute value comparable across files: object references (the dimension scales'
    DIMENSION_LIST and REFERENCE_LIST) by the path of the object they point to."""
    import h5py
    import numpy as np
    if isinstance(value, h5py.Reference):
        return h5[value].name if value else None
    if isinstance(value, np.ndarray) and value.dtype.kind in "OV":
        return [_comparable(h5, v) for v in value.tolist()]
    if isinstance(value, (tuple, list)):
        return [_comparable(h5, v) for v in value]
    return value


def _same(a, b):
    import numpy as np
    if isinstance(a, list) or isinstance(b, list) or isinstance(a, str) or isinstance(b, str):
        return a == b
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:
        return bool(np.array_equal(a, b))


def file_differences(path_a, path_b, roots_a=(), roots_b=(), skip_attrs=("ranks",), equal_nan=True):
    """Every object, dataset and attribute of two HDF5 files that is not bitwise equal (serial
    h5py): strings with the directories of ``roots`` (pairs of path and tag) replaced, object
    references by the path they point to, ``skip_attrs`` (the rank count) left out; NaN equals
    NaN in float datasets unless ``equal_nan`` is false. (tests/parallel/test_mpi.py uses it too.)"""
    import h5py
    import numpy as np
    diffs = []
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        names_a, names_b = [], []
        a.visit(names_a.append)
        b.visit(names_b.append)
        if sorted(names_a) != sorted(names_b):
            diffs.append(f"objects differ: {sorted(set(names_a) ^ set(names_b))}")
        for name in ["/"] + names_a:
            oa, ob = a[name], b.get(name)
            if ob is None:
                continue
            if isinstance(oa, h5py.Dataset):
                va = oa[()]
                vb = ob[()] if isinstance(ob, h5py.Dataset) else None
                if vb is None:
                    same = False
                elif va.dtype.kind in "OSU" or va.dtype.names:
                    same = str(_normal(va, roots_a)) == str(_normal(vb, roots_b))
                else:
                    same = va.shape == vb.shape and np.array_equal(va, vb, equal_nan=equal_nan and va.dtype.kind in "fc")
                if not same:
                    diffs.append(f"dataset {name}")
            for k in sorted(set(oa.attrs) | set(ob.attrs)):
                if k in skip_attrs:
                    continue
                if k not in oa.attrs or k not in ob.attrs or not _same(_normal(_comparable(a, oa.attrs[k]), roots_a),
                                                                      _normal(_comparable(b, ob.attrs[k]), roots_b)):
                    diffs.append(f"attribute {name}@{k}")
    return diffs


def deviation(va, vb):
    """``(max_abs, max_rel, max_rel_to_max)`` of two numeric arrays of one shape, or None
    (not numeric, or shapes differ). ``max_rel`` is elementwise, ``|a - b| / max(|a|, |b|)``
    (0 where both are 0); ``max_rel_to_max`` is ``max |a - b| / max |a|``, the size of the
    change against the dataset's scale (the meaningful one for values that cross zero). NaN
    equals NaN; NaN against a number counts as an infinite difference."""
    import numpy as np
    if isinstance(va, (str, bytes)) and isinstance(vb, (str, bytes)):  # JSON text (the ledger's totals)
        va, vb = _json_numbers(va), _json_numbers(vb)
        if va is None or vb is None:
            return None
    a, b = np.asarray(va), np.asarray(vb)
    if a.shape != b.shape or a.dtype.kind not in "biufc" or b.dtype.kind not in "biufc":
        return None
    dtype = np.result_type(a.dtype, b.dtype, float)
    a, b = a.astype(dtype), b.astype(dtype)
    if a.size == 0:
        return 0.0, 0.0, 0.0
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(both_nan, 0.0, np.abs(a - b))
        diff = np.where(np.isnan(diff), np.inf, diff)
        scale = np.maximum(np.abs(a), np.abs(b))
        rel = np.where(diff == 0, 0.0, diff / np.where(scale > 0, scale, 1.0))
        top = np.nanmax(np.abs(np.where(np.isfinite(a), a, np.nan))) if np.isfinite(a).any() else 0.0
    max_abs = float(diff.max())
    return max_abs, float(rel.max()), (max_abs / top if top > 0 else (0.0 if max_abs == 0 else np.inf))


def _json_numbers(text):
    """The numbers of a JSON text in document order (a list), or None if it is not JSON or
    holds anything but numbers, lists and objects."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    out = []

    def walk(v):
        if isinstance(v, dict):
            return all(walk(x) for x in v.values())
        if isinstance(v, list):
            return all(walk(x) for x in v)
        if isinstance(v, (int, float)) and not isinstance(v, bool) or v is None:
            out.append(float("nan") if v is None else float(v))
            return True
        return False
    return out if walk(value) else None


def deviations(path_a, path_b, diffs):
    """{difference: deviation(...)} for the ``dataset NAME`` and ``attribute NAME@KEY``
    entries of ``diffs`` (``file_differences``) between two HDF5 files."""
    import h5py
    out = {}
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        for d in diffs:
            kind, _, name = d.partition(" ")
            if kind == "dataset" and isinstance(a.get(name), h5py.Dataset) and isinstance(b.get(name), h5py.Dataset):
                out[d] = deviation(a[name][()], b[name][()])
            elif kind == "attribute":
                obj, _, key = name.rpartition("@")
                oa, ob = a.get(obj), b.get(obj)
                if oa is not None and ob is not None and key in oa.attrs and key in ob.attrs:
                    out[d] = deviation(oa.attrs[key], ob.attrs[key])
    return out


def compare(dir_a, dir_b, tree_a=None, tree_b=None):
    """Differences between the HDF5 files of two output directories (relative names)."""
    dir_a, dir_b = pathlib.Path(dir_a).resolve(), pathlib.Path(dir_b).resolve()
    roots_a = [(str(dir_a), "<OUT>")] + ([(str(pathlib.Path(tree_a).resolve()), "<TREE>")] if tree_a else [])
    roots_b = [(str(dir_b), "<OUT>")] + ([(str(pathlib.Path(tree_b).resolve()), "<TREE>")] if tree_b else [])
    files_a = sorted(p.relative_to(dir_a) for p in dir_a.rglob("*.h5"))
    files_b = sorted(p.relative_to(dir_b) for p in dir_b.rglob("*.h5"))
    report = {}
    if files_a != files_b:
        report["(files)"] = [f"only in one: {sorted(set(map(str, files_a)) ^ set(map(str, files_b)))}"]
    for rel in files_a:
        if (dir_b / rel).exists():
            d = file_differences(dir_a / rel, dir_b / rel, roots_a, roots_b)
            if d:
                report[str(rel)] = d
    return files_a, report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the reference jobs with this tree's package")
    r.add_argument("outdir")
    r.add_argument("--tree", default=str(ROOT), help="the source tree whose package runs (default: this one)")
    c = sub.add_parser("compare", help="compare two output directories bitwise")
    c.add_argument("dir_a")
    c.add_argument("dir_b")
    c.add_argument("--tree-a")
    c.add_argument("--tree-b")
    c.add_argument("--report", action="store_true",
                   help="print the largest absolute and relative difference of each differing numeric object")
    c.add_argument("--tolerance", type=float, metavar="REL",
                   help="exit 0 if every difference is numeric with a relative difference <= REL (implies --report)")
    g = sub.add_parser("against", help="run the jobs at REV (a temporary git worktree) and here, and compare")
    g.add_argument("rev")
    g.add_argument("--keep", help="keep the two output directories under this directory")
    args = p.parse_args(argv)
    if args.cmd == "run":
        run(args.tree, args.outdir)
        return 0
    if args.cmd == "compare":
        files, report = compare(args.dir_a, args.dir_b, args.tree_a, args.tree_b)
    else:
        base = pathlib.Path(args.keep or tempfile.mkdtemp(prefix="compare_outputs_")).resolve()
        wt = base / "tree_rev"
        if wt.exists():
            subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=ROOT, check=False)
        subprocess.run(["git", "worktree", "add", "--detach", str(wt), args.rev], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            run(wt, base / "rev")
            run(ROOT, base / "here")
            files, report = compare(base / "rev", base / "here", wt, ROOT)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=ROOT, check=False)
            if not args.keep:
                shutil.rmtree(base, ignore_errors=True)
    for name, diffs in report.items():
        print(f"{name}: {len(diffs)} differences: {', '.join(diffs[:8])}{' ...' if len(diffs) > 8 else ''}")
    print(f"compare_outputs: {len(files)} files, {len(report)} with differences"
          + ("" if report else ": bitwise identical"))
    print(json.dumps({"files": len(files), "differing": sorted(report)}))
    tolerance = getattr(args, "tolerance", None)
    if report and (getattr(args, "report", False) or tolerance is not None):
        within = True
        print(f"{'file':>18} {'object':48} {'max abs':>10} {'max rel':>10} {'rel to max':>10}")
        for name, diffs in report.items():
            dev = deviations(pathlib.Path(args.dir_a) / name, pathlib.Path(args.dir_b) / name, diffs) \
                if name != "(files)" else {}
            for d in diffs:
                v = dev.get(d)
                within &= v is not None and tolerance is not None and v[1] <= tolerance
                print(f"{name:>18} {d:48} " + ("not numeric" if v is None else "{:10.3g} {:10.3g} {:10.3g}".format(*v)))
        if tolerance is not None:
            print(f"compare_outputs: every difference within a relative {tolerance:g}: {'yes' if within else 'no'}")
            return 0 if within else 1
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())
