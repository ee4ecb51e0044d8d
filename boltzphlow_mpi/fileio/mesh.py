"""Radial meshes of the sphere (docs/physics.md, "Radial transport"; docs/meshes.md): cell-centred
finite volumes on [0, R].

A mesh is its edges ``0 = r_0 < r_1 < ... < r_C = R`` (um). ``uniform`` spaces them
evenly; ``graded`` makes them finer towards ``r = 0`` with a constant growth ratio
``dr_{i+1} / dr_i = ratio`` (> 1). Mesh files (``meshes/*.toml``, docs/meshes.md)::

    kind = "uniform"            # or "graded", or "edges"
    radius_um = 100.0
    cells = 200
    grading_ratio = 1.02        # graded only
    edges_um = [0.0, 1.0, ...]  # kind = "edges" only: explicit, increasing, first 0, last R
"""
import math
import sys
import tomllib
from dataclasses import dataclass

import numpy as np

from boltzphlow_mpi.errors import InputError
from boltzphlow_mpi.physics.transport import shell_volumes, sphere_areas


@dataclass(frozen=True)
class RadialMesh:
    edges: np.ndarray

    @property
    def cells(self):
        return len(self.edges) - 1

    @property
    def radius(self):
        return float(self.edges[-1])

    @property
    def centres(self):
        """Cell centres (um): midpoints of the cells."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def widths(self):
        return np.diff(self.edges)

    @property
    def volumes(self):
        """Cell volumes (um^3)."""
        return shell_volumes(self.edges)

    @property
    def areas(self):
        """Face areas (um^2) at every edge, the first (r = 0) being zero."""
        return sphere_areas(self.edges)

    @classmethod
    def uniform(cls, radius, cells, key="geometry.radius_um"):
        return cls(np.linspace(0.0, float(radius), int(cells) + 1)).checked(key, radius)

    @classmethod
    def graded(cls, radius, cells, ratio, key="grading_ratio"):
        # ratio**cells beyond the floating-point range gives inf widths and NaN edges: checked() reports it
        with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
            widths = ratio ** np.arange(int(cells), dtype=float)
            edges = np.concatenate([[0.0], np.cumsum(widths)])
            edges = edges * (float(radius) / edges[-1])
        return cls(edges).checked(key, ratio)

    @classmethod
    def from_edges(cls, edges, key="edges_um"):
        if isinstance(edges, np.ndarray) and edges.ndim == 1:
            edges = edges.tolist()
        is_list = isinstance(edges, (list, tuple))
        shown = (list(edges)[:4] + (["..."] if len(edges) > 4 else [])) if is_list else edges
        if not (is_list and len(edges) >= 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= sys.float_info.max
                        for v in edges)):
            raise InputError(key, shown, "an increasing list of edges starting at 0 (um)")
        e = np.array([float(v) for v in edges])
        if e[0] != 0.0 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
            raise InputError(key, shown, "an increasing list of edges starting at 0 (um)")
        return cls(e).checked(key, shown)

    def checked(self, key, value):
        """Raise an InputError naming ``key`` unless every cell has a finite, positive width
        and volume (a ratio**cells or a radius beyond the floating-point range fails here)."""
        e = self.edges
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            ok = (e.ndim == 1 and len(e) >= 2 and e[0] == 0.0 and bool(np.all(np.isfinite(e)))
                  and bool(np.all(np.diff(e) > 0)))
            if ok:
                v = self.volumes
                ok = bool(np.all(np.isfinite(v)) and np.all(v > 0)) and math.isfinite(float(np.sum(v)))
        if not ok:
            raise InputError(key, value, "a mesh whose cells all have a positive, finite width and volume "
                             "in floating point")
        return self


def mesh_from_table(table, where, radius_expected=None):
    """Build a mesh from a mesh-file table; errors name ``where.key``."""
    kind = table.get("kind", "uniform")
    known = {"kind", "radius_um", "cells", "grading_ratio", "edges_um"}
    for k in table:
        if k not in known:
            raise InputError(f"{where}.{k}", table[k], "a mesh key: " + ", ".join(sorted(known)))
    if kind == "edges":
        mesh = RadialMesh.from_edges(table.get("edges_um", []), f"{where}.edges_um")
    elif kind in ("uniform", "graded"):
        radius, cells = table.get("radius_um"), table.get("cells")
        if (isinstance(radius, bool) or not isinstance(radius, (int, float)) or abs(radius) > sys.float_info.max
                or not math.isfinite(radius) or radius <= 0):
            raise InputError(f"{where}.radius_um", radius, "a positive number (um)")
        if isinstance(cells, bool) or not isinstance(cells, int) or not 1 <= cells <= 10_000_000:
            raise InputError(f"{where}.cells", cells, "an integer in 1..10000000")
        if kind == "uniform":
            mesh = RadialMesh.uniform(radius, cells, f"{where}.radius_um")
        else:
            ratio = table.get("grading_ratio")
            if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not (1.0 < ratio <= 10.0):
                raise InputError(f"{where}.grading_ratio", ratio, "a number in (1, 10]")
            mesh = RadialMesh.graded(radius, cells, float(ratio), f"{where}.grading_ratio")
    else:
        raise InputError(f"{where}.kind", kind, "one of 'uniform', 'graded', 'edges'")
    if radius_expected is not None and abs(mesh.radius - radius_expected) > 1e-9 * radius_expected:
        raise InputError(f"{where}.radius_um", mesh.radius,
                         f"the radius of [geometry] radius_um = {radius_expected:g} um")
    return mesh


def load_mesh_file(path, radius_expected=None):
    try:
        with open(path, "rb") as fh:
            table = tomllib.load(fh)
    except OSError as exc:
        raise InputError("geometry.mesh", str(path), "a readable mesh file", exc.strerror or "") from None
    except ValueError as exc:  # TOMLDecodeError, UnicodeDecodeError, or an integer too long to convert
        raise InputError("geometry.mesh", str(path), "a valid TOML mesh file", str(exc)) from None
    return mesh_from_table(table, f"mesh {path}", radius_expected)
