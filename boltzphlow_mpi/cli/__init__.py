"""The command line: ``boltzphlow`` (``main``)."""
from boltzphlow_mpi.cli.main import main  # noqa: F401
