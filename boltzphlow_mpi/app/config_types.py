"""Typed, frozen views of a validated config (``config.validate``): one dataclass per
section of the schema, fields named and typed as its keys (a key that is a Python keyword
gets a trailing underscore: ``gap.lambda`` is ``cfg.gap.lambda_``), and a ``Config`` with
one field per section plus ``drive``, the ``[[drive]]`` tables as a tuple.

Every layer reads ``cfg.section.key``; only ``config`` (validation) and the builder see
the raw TOML tables. ``as_dict`` gives the resolved tables back, key for key in schema
order (what output files and checkpoints store as JSON).
"""
import keyword
from dataclasses import fields, make_dataclass, replace


def attribute(key):
    """The field name of a schema key."""
    return key + "_" if keyword.iskeyword(key) else key


def _annotation(spec):
    kind = str if isinstance(spec.kind, tuple) else spec.kind
    return kind if spec.default is not None else kind | None


def _table(obj):
    return {k: getattr(obj, attribute(k)) for k in obj.keys}


def section_type(name, keys):
    """A frozen dataclass for the schema section ``name`` (``{key: config.Key}``)."""
    return make_dataclass(
        "".join(p.title() for p in name.split("_")) + "Config",
        [(attribute(k), _annotation(spec)) for k, spec in keys.items()], frozen=True,
        namespace={"keys": tuple(keys), "__doc__": f"The validated ``[{name}]`` table (docs/config.md)."})


def _as_dict(self):
    """The resolved config as plain tables (JSON-ready), in schema order."""
    out = {f.name: _table(getattr(self, f.name)) for f in fields(self) if f.name != "drive"}
    out["drive"] = [_table(d) for d in self.drive]
    return out


def _with_value(self, section, key, value):
    """A copy with ``section.key`` set to ``value`` (not validated again: for keys that do
    not change the physics, e.g. ``output.path``)."""
    return replace(self, **{section: replace(getattr(self, section), **{attribute(key): value})})


def config_type(types, drive_type):
    """The ``Config`` dataclass of the sections ``types`` (name -> ``section_type``)."""
    return make_dataclass(
        "Config", [(name, cls) for name, cls in types.items()] + [("drive", tuple)], frozen=True,
        namespace={"as_dict": _as_dict, "with_value": _with_value, "drive_type": drive_type,
                   "__doc__": "A validated job: ``cfg.time.t_end_ns``, ``cfg.drive[0].kind`` (docs/config.md)."})


def build(config_cls, types, resolved):
    """The ``config_cls`` instance of a resolved dict (``config.validate``)."""
    def make(cls, table):
        return cls(**{attribute(k): v for k, v in table.items()})
    drives = tuple(make(config_cls.drive_type, d) for d in resolved["drive"])
    return config_cls(**{name: make(cls, resolved[name]) for name, cls in types.items()}, drive=drives)
