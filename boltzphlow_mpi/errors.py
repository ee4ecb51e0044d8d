"""Error types shared by every layer (no PETSc/MPI imports)."""


class InputError(Exception):
    """Bad user input: a key, the value given and what was expected.

    ``str()`` is one line, meant to be printed as is (the CLI exits with code 2).
    """

    def __init__(self, key, value, expected, hint=""):
        self.key, self.value, self.expected, self.hint = key, value, expected, hint
        msg = f"{key} = {value!r}: expected {expected}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class SolverError(RuntimeError):
    """The integration cannot continue (non-finite or unphysical state)."""
