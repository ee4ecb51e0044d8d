"""Named points of a run where code can be attached: the one mechanism for extensions and
for the fault injection of the tests (docs/architecture.md, "Hooks").

``register(point, fn)`` attaches ``fn``; the run calls ``fire(point, **kwargs)`` there. The
points and their keyword arguments:

* ``"before_step"``: ``sim`` (the ``Simulation``), before each attempted step;
* ``"checkpoint_written"``: ``par``, ``path`` (the temporary file), ``records``, after the
  data of a checkpoint are written and before the file is marked complete and renamed.

A process started from the command line loads hook modules named in the environment
variable ``BOLTZPHLOW_HOOKS`` (``module:function``, comma-separated; each function is called
once with ``register``), read once by ``boltzphlow`` at start-up, never inside a run.
"""
import importlib
import os

POINTS = ("before_step", "checkpoint_written")
_attached = {p: [] for p in POINTS}


def register(point, fn):
    if point not in _attached:
        raise ValueError(f"hook point {point!r}: expected one of {', '.join(POINTS)}")
    _attached[point].append(fn)


def clear():
    for fns in _attached.values():
        fns.clear()


def fire(point, **kwargs):
    for fn in _attached[point]:
        fn(**kwargs)


def load_from_environment(variable="BOLTZPHLOW_HOOKS"):
    """Import ``module:function`` entries of ``$BOLTZPHLOW_HOOKS`` and call each with
    ``register``. Returns the entries loaded."""
    spec = os.environ.get(variable, "").strip()
    loaded = []
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        module, _, name = entry.partition(":")
        getattr(importlib.import_module(module), name or "install")(register)
        loaded.append(entry)
    return loaded
