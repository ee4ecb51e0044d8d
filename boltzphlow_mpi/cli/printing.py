"""What a command prints: text lines, or its result as JSON with ``--json`` (rank 0 prints,
``Parallel.print``)."""
import json


def print_lines(par, lines):
    """Print each of ``lines``.

    Parameters
    ----------
    par : Parallel
        The communicator wrapper; only rank 0 prints.
    lines : iterable of str
        The lines, without their line ends.
    """
    for line in lines:
        par.print(line)


def print_result(par, as_json, result, lines):
    """Print a command's ``result`` as indented JSON when ``as_json``, else its text ``lines``.

    Parameters
    ----------
    par : Parallel
        The communicator wrapper; only rank 0 prints.
    as_json : bool
        The command's ``--json`` flag.
    result : dict or list
        The numbers of the result (JSON-serialisable).
    lines : iterable of str
        The same result as text (a table and its caption).

    Returns
    -------
    int
        0, the exit status of a command that succeeded.
    """
    if as_json:
        par.print(json.dumps(result, indent=2))
    else:
        print_lines(par, lines)
    return 0
