"""The layers: physics imports only numpy and scipy; no module-level import cycles."""
import ast
import pathlib
import subprocess
import sys

import pytest

PKG = pathlib.Path(__file__).resolve().parents[2] / "boltzphlow_mpi"

BLOCK = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("mpi4py", "petsc4py", "h5py"):
            raise ImportError(f"blocked: {name}")
sys.meta_path.insert(0, Block())
import pkgutil, importlib
import boltzphlow_mpi.physics as physics
names = [m.name for m in pkgutil.walk_packages(physics.__path__, "boltzphlow_mpi.physics.")]
for name in names:
    importlib.import_module(name)
assert not any(k.split(".")[0] in ("mpi4py", "petsc4py", "h5py") for k in sys.modules)
print(len(names))
"""


def test_physics_imports_no_mpi_petsc_or_h5py():
    """Every module under physics/ imports in a process where mpi4py, petsc4py and h5py
    cannot be imported (a function-local import would fail in the tests of the module)."""
    done = subprocess.run([sys.executable, "-c", BLOCK], capture_output=True, text=True, cwd=PKG.parent, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) >= 15


def _module_imports(path):
    """boltzphlow_mpi modules imported at module level (not inside functions)."""
    tree = ast.parse(path.read_text())
    out = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("boltzphlow_mpi"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                out.add(candidate if (PKG.parent / (candidate.replace(".", "/") + ".py")).exists() else node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("boltzphlow_mpi"))
    return out


def test_no_module_level_import_cycles():
    graph = {}
    for path in PKG.rglob("*.py"):
        name = ".".join(path.relative_to(PKG.parent).with_suffix("").parts)
        graph[name.removesuffix(".__init__")] = _module_imports(path)
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                pytest.fail("import cycle: " + " -> ".join(stack + [node, nxt]))
            if nxt not in state:
                visit(nxt, stack + [node])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


@pytest.mark.parametrize("layer,forbidden", [
    ("physics", ("numerics", "parallel", "fileio", "app", "cli", "extras")),
    ("numerics", ("fileio", "app", "cli", "extras")),
    ("fileio", ("app", "cli", "extras")),
    ("app", ("cli", "extras")),
])
def test_layers_import_only_below(layer, forbidden):
    bad = []
    for path in (PKG / layer).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] == "boltzphlow_mpi" and len(parts) > 1 and parts[1] in forbidden:
                    bad.append(f"{path.relative_to(PKG)} imports {node.module}")
    assert not bad, bad
