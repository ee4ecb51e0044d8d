"""Radial meshes of the sphere (SPEC section 5): cell-centred finite volumes on [0, R].

A mesh is its edges ``0 = r_0 < r_1 < ... < r_C = R`` (um). ``uniform`` spaces them
evenly; ``graded`` makes them finer towards ``r = 0`` with a constant growth ratio
``dr_{i+1} / dr_i = ratio`` (> 1). Mesh files (``meshes/*.toml``, docs/meshes.md)::

    kind = "uniform"            # or "graded", or "edges"
    radius_um = 100.0
    cells = 200
    grading_ratio = 1.02        # graded only
    edges_um = [0.0, 1.0, ...]  # kind = "edges" only: explicit, increasing, first 0, last R
"""
import tomllib
from dataclasses import dataclass

import numpy as np

from .errors import InputError


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
        return (4.0 * np.pi / 3.0) * (self.edges[1:] ** 3 - self.edges[:-1] ** 3)

    @property
    def areas(self):
        """Face areas (um^2) at every edge, the first (r = 0) being zero."""
        return 4.0 * np.pi * self.edges ** 2

    @classmethod
    def uniform(cls, radius, cells):
        return cls(np.linspace(0.0, float(radius), int(cells) + 1))

    @classmethod
    def graded(cls, radius, cells, ratio):
        widths = ratio ** np.arange(int(cells), dtype=float)
        edges = np.concatenate([[0.0], np.cumsum(widths)])
        return cls(edges * (float(radius) / edges[-1]))

    @classmethod
    def from_edges(cls, edges, key="edges_um"):
        e = np.asarray(edges, dtype=float)
        if e.ndim != 1 or len(e) < 2 or e[0] != 0.0 or not np.all(np.isfinite(e)) or np.any(np.diff(e) <= 0):
            raise InputError(key, list(edges)[:4] + (["..."] if len(edges) > 4 else []),
                             "an increasing list of edges starting at 0 (um)")
        return cls(e)


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
        if isinstance(radius, bool) or not isinstance(radius, (int, float)) or not np.isfinite(radius) or radius <= 0:
            raise InputError(f"{where}.radius_um", radius, "a positive number (um)")
        if isinstance(cells, bool) or not isinstance(cells, int) or not 1 <= cells <= 10_000_000:
            raise InputError(f"{where}.cells", cells, "an integer in 1..10000000")
        if kind == "uniform":
            mesh = RadialMesh.uniform(radius, cells)
        else:
            ratio = table.get("grading_ratio")
            if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not (1.0 < ratio <= 10.0):
                raise InputError(f"{where}.grading_ratio", ratio, "a number in (1, 10]")
            mesh = RadialMesh.graded(radius, cells, float(ratio))
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
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError("geometry.mesh", str(path), "a valid TOML mesh file", str(exc)) from None
    return mesh_from_table(table, f"mesh {path}", radius_expected)
