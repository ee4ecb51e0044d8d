"""``python -m boltzphlow_mpi.cli``: the ``boltzphlow`` command."""
import sys

from boltzphlow_mpi.cli.main import main

sys.exit(main())
