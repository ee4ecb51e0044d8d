"""PETSc options with the package's defaults: ``set_from_options(obj, prefix, defaults)``."""


def set_from_options(obj, prefix, defaults):
    """``obj.setFromOptions()`` (a TS, SNES, ...) with ``defaults`` (option name without the
    prefix -> value) for what the options database does not set under ``prefix``. The
    defaults are inserted for this call only, so another solve in the process starts from
    the user's options alone."""
    from petsc4py import PETSc
    opts = PETSc.Options()
    inserted = [prefix + k for k in defaults if not opts.hasName(prefix + k)]
    for key in inserted:
        opts.setValue(key, defaults[key[len(prefix):]])
    try:
        obj.setFromOptions()
    finally:
        for key in inserted:
            opts.delValue(key)
