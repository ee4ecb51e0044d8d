#!/usr/bin/env bash
# scripts/setup.sh -- create/refresh the project virtual environment (.venv).
#
# Called by `make setup` (a prerequisite of `make run`, `make test`, `make bench`).
# Idempotent; when nothing changed it only re-checks the imports and exits.
#
#  1. Find a Python that already imports mpi4py, petsc4py and an MPI-enabled h5py:
#     $BOLTZPHLOW_PYTHON, then `python3` on PATH, then /usr/bin/python3.
#  2. None found: on Debian/Ubuntu as root, apt-get the system packages and use
#     /usr/bin/python3; otherwise fail with a pointer to docs/install.md.
#  3. Create .venv (--system-site-packages) from it and `pip install -e '.[test]'`.
#  4. Write .venv/.../site-packages/000-boltzphlow-env.pth (PETSC_DIR for Debian's
#     petsc4py, H5PY_ALWAYS_USE_MPI=1) so .venv/bin/boltzphlow needs no exports.
#  5. Write the .venv/bin/mpirun wrapper (run-as-root, oversubscription, same env).
#  6. Record a stamp (interpreter + hash of pyproject.toml and this script).
#  7. Verify the imports from .venv/bin/python.
#
# Environment: BOLTZPHLOW_PYTHON  interpreter to use (command name or path)
#              BOLTZPHLOW_NO_APT=1 never call apt-get, fail instead
# See docs/install.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)
VENV="$ROOT/.venv"
STAMP="$VENV/.boltzphlow-setup"
DEBIAN_PETSC_DIR=/usr/lib/petscdir/petsc3.18/x86_64-linux-gnu-real
PTH_NAME=000-boltzphlow-env.pth
DOC="docs/install.md"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s (see %s)\n' "$*" "$DOC" >&2; exit 1; }

# Run a command with a time limit when coreutils `timeout` exists (an MPI
# singleton init that hangs must not hang `make`).
limit() { if command -v timeout >/dev/null 2>&1; then timeout --foreground -k 10 "$@"; else shift; "$@"; fi; }

# Debian 12's PETSc build is the default; where it is missing (other Debian or
# Ubuntu releases: petsc3.15 in 22.04, petsc3.19 in 24.04, ...) use the
# real-scalar build that carries petsc4py.
find_debian_petsc_dir() {
    local d
    [ -d "$DEBIAN_PETSC_DIR" ] && return 0
    for d in /usr/lib/petscdir/petsc3.*/*-linux-gnu-real; do
        if [ -d "$d/lib/python3/dist-packages/petsc4py" ]; then DEBIAN_PETSC_DIR=$d; fi
    done
    return 0
}
# Environment under which a candidate interpreter is tested: Debian's petsc4py
# is only on sys.path when PETSC_DIR is set at start-up, Debian's h5py loads its
# MPI build only with H5PY_ALWAYS_USE_MPI set.
set_probe_env() {
    find_debian_petsc_dir
    probe_env=(env H5PY_ALWAYS_USE_MPI=1)
    if [ -z "${PETSC_DIR:-}" ] && [ -d "$DEBIAN_PETSC_DIR" ]; then
        probe_env+=("PETSC_DIR=$DEBIAN_PETSC_DIR")
    fi
}
set_probe_env

hash_inputs() {
    if command -v sha256sum >/dev/null 2>&1; then
        cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1
    else
        cat pyproject.toml scripts/setup.sh | cksum | tr ' ' '-'
    fi
}

stamp_get() { [ -f "$STAMP" ] && sed -n "s/^$1=//p" "$STAMP" | head -n1 || true; }

VERIFY='import mpi4py, petsc4py, h5py, boltzphlow_mpi; assert h5py.get_config().mpi, "h5py.get_config().mpi is False"'

verify_venv() {
    # No exported variables: the .pth file must be enough.
    limit 300 env -u H5PY_ALWAYS_USE_MPI "$VENV/bin/python" -c "$VERIFY"
}

# Prints key=value lines describing a working interpreter; fails otherwise.
PROBE='
import os, sys, site
from mpi4py import MPI
import petsc4py
petsc4py.init()
from petsc4py import PETSc
import h5py
if not h5py.get_config().mpi:
    raise SystemExit("h5py is not MPI-enabled (h5py.get_config().mpi is False)")
import numpy
from importlib import metadata
print("exe=" + sys.executable)
print("petsc4py=" + os.path.dirname(os.path.realpath(petsc4py.__file__)))
venv = sys.prefix != sys.base_prefix
print("venv=" + ("1" if venv else "0"))
own = [d for d in site.getsitepackages() if venv and d.startswith(sys.prefix + os.sep)]
print("site=" + os.pathsep.join(own))
pins = []
for name in ("numpy", "mpi4py", "h5py", "petsc4py"):
    try:
        pins.append(name + "==" + metadata.version(name))
    except Exception:
        pass
print("pins=" + " ".join(pins))
'

PROBE_OUT=""
probe() {  # probe CMD -> sets PROBE_OUT, returns status
    local cmd=$1 err
    command -v "$cmd" >/dev/null 2>&1 || { PROBE_ERR="not found"; return 1; }
    err=$(mktemp)
    if PROBE_OUT=$(limit 120 "${probe_env[@]}" "$cmd" -c "$PROBE" 2>"$err"); then
        rm -f "$err"; return 0
    fi
    PROBE_ERR=$(grep -v '^\s*$' "$err" | tail -n1 || true)
    rm -f "$err"
    return 1
}
field() { printf '%s\n' "$PROBE_OUT" | sed -n "s/^$1=//p" | head -n1; }

resolve_exe() {  # sys.executable of a command, or empty
    limit 60 "$1" -c 'import sys; print(sys.executable)' 2>/dev/null || true
}

want_hash=$(hash_inputs)

# ---------------------------------------------------------------- fast path
if [ -f "$STAMP" ] && [ "$(stamp_get hash)" = "$want_hash" ]; then
    old_exe=$(stamp_get python)
    same=1
    if [ -n "${BOLTZPHLOW_PYTHON:-}" ] && [ "$(resolve_exe "$BOLTZPHLOW_PYTHON")" != "$old_exe" ]; then
        same=0
    fi
    if [ "$same" = 1 ] && [ -x "$old_exe" ] && [ -x "$VENV/bin/boltzphlow" ] \
        && [ -x "$VENV/bin/mpirun" ] && verify_venv 2>/dev/null; then
        say "up to date (.venv from $old_exe)"
        exit 0
    fi
fi

# ------------------------------------------------- 1. find a working Python
candidates=()
[ -n "${BOLTZPHLOW_PYTHON:-}" ] && candidates+=("$BOLTZPHLOW_PYTHON")
candidates+=(python3 /usr/bin/python3)

chosen=""
seen=" "
for c in "${candidates[@]}"; do
    path=$(command -v "$c" 2>/dev/null || true)
    # Never build .venv from .venv itself (e.g. when it is activated).
    case "$path" in "$VENV"/*) say "skipping $c ($path is inside .venv)"; continue ;; esac
    [ -n "$path" ] && case "$seen" in *" $path "*) continue ;; esac
    seen="$seen$path "
    if probe "$c"; then
        chosen=$c
        break
    fi
    if [ "$c" = "${BOLTZPHLOW_PYTHON:-}" ]; then
        say "warning: BOLTZPHLOW_PYTHON=$c does not work: ${PROBE_ERR:-?}"
    else
        say "$c: not usable (${PROBE_ERR:-?})"
    fi
done

# ------------------------------------- 2. none: install Debian packages (root)
if [ -z "$chosen" ]; then
    is_debian=0
    if [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then is_debian=1; fi
    if [ "$is_debian" = 1 ] && [ "$(id -u)" = 0 ] && [ "${BOLTZPHLOW_NO_APT:-0}" != 1 ]; then
        say "no Python with mpi4py + petsc4py + MPI h5py found; installing Debian packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update || die "apt-get update failed"
        apt-get install -y --no-install-recommends \
            python3-mpi4py python3-petsc4py python3-h5py-mpi openmpi-bin \
            python3-venv python3-numpy python3-scipy python3-numba python3-pip python3-pytest \
            hdf5-tools ca-certificates \
            || die "apt-get install failed"
        set_probe_env
        probe /usr/bin/python3 \
            || die "/usr/bin/python3 still cannot import mpi4py, petsc4py and MPI h5py after apt-get: ${PROBE_ERR:-?}"
        chosen=/usr/bin/python3
    else
        die "no Python imports mpi4py, petsc4py and an MPI-enabled h5py (tried: ${candidates[*]}); install them or set BOLTZPHLOW_PYTHON"
    fi
fi

exe=$(field exe)
petsc4py_dir=$(field petsc4py)
say "using $exe (petsc4py in $petsc4py_dir)"

# ------------------------- 2b. optional extras: plots (matplotlib), xarray output reading
# `boltzphlow plot` needs matplotlib, the xarray tests xarray + h5netcdf. On Debian as root
# they come from apt (built against the system numpy); elsewhere install the `plot` extra
# or conda packages. Missing extras are not fatal: those tests are skipped.
if ! limit 120 "$exe" -c 'import matplotlib, xarray, h5netcdf' >/dev/null 2>&1; then
    if [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] \
        && [ "${BOLTZPHLOW_NO_APT:-0}" != 1 ]; then
        say "installing the optional extras (python3-matplotlib python3-xarray python3-h5netcdf)"
        export DEBIAN_FRONTEND=noninteractive
        extras=(python3-matplotlib python3-xarray python3-h5netcdf)
        apt-get install -y --no-install-recommends "${extras[@]}" >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends "${extras[@]}" >/dev/null 2>&1; } \
            || say "warning: could not install the optional extras; plot and xarray tests will be skipped"
    else
        say "note: matplotlib / xarray / h5netcdf missing: 'boltzphlow plot' and the xarray tests need them"
    fi
fi

# ------------------------- 2c. numba (the compiled loops of a step, boltzphlow_mpi/physics/jit.py)
# On Debian as root from apt (python3-numba is built against the system numpy); elsewhere
# pip takes it from PyPI as a dependency of the package, with numpy pinned below.
if ! limit 120 "$exe" -c 'import numba' >/dev/null 2>&1; then
    if [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] \
        && [ "${BOLTZPHLOW_NO_APT:-0}" != 1 ]; then
        say "installing python3-numba"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends python3-numba >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends python3-numba >/dev/null 2>&1; } \
            || say "note: apt-get could not install python3-numba; pip installs numba from PyPI"
    fi
fi

# Debian's petsc4py needs PETSC_DIR at interpreter start-up; other builds don't.
need_petsc_dir=0
case "$petsc4py_dir" in /usr/lib/petscdir/*) need_petsc_dir=1 ;; esac
if [ "$need_petsc_dir" = 1 ] && [ ! -d "$DEBIAN_PETSC_DIR" ]; then
    # PETSC_DIR was set by the user; take the build that petsc4py lives in.
    DEBIAN_PETSC_DIR=${petsc4py_dir%/lib/python3/dist-packages/petsc4py}
fi

# ------------------------------------------------------------ 3. the venv
recreate=1
if [ -x "$VENV/bin/python" ] && [ "$(stamp_get python)" = "$exe" ] \
    && grep -qi '^include-system-site-packages *= *true' "$VENV/pyvenv.cfg" 2>/dev/null \
    && "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
    recreate=0
fi
if [ "$recreate" = 1 ]; then
    if [ -e "$VENV" ]; then say "removing stale .venv"; rm -rf "$VENV"; fi
    say "creating .venv"
    "$exe" -m venv --system-site-packages "$VENV" \
        || die "'$exe -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
    printf 'python=%s\nhash=\n' "$exe" >"$STAMP"
fi

SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

# ------------------------------------------- 4. environment via a .pth file
{
    echo "# Written by scripts/setup.sh. Lines starting with 'import' run at start-up."
    if [ "$need_petsc_dir" = 1 ]; then
        echo "import os; os.path.isdir('$DEBIAN_PETSC_DIR') and os.environ.setdefault('PETSC_DIR', '$DEBIAN_PETSC_DIR')"
    fi
    echo "import os; os.environ.setdefault('H5PY_ALWAYS_USE_MPI', '1')"
    # one BLAS thread per rank: a threaded LU rounds differently with the thread count
    echo "import os; [os.environ.setdefault(v, '1') for v in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'BLIS_NUM_THREADS')]"
    if [ "$(field venv)" = 1 ]; then
        # The base interpreter is itself a virtualenv: a venv made from it only
        # sees the *base* installation, so add that venv's site-packages too.
        IFS=: read -ra extra <<<"$(field site)"
        for d in "${extra[@]}"; do
            if [ -n "$d" ]; then echo "import site; site.addsitedir('$d')"; fi
        done
    fi
} >"$SITE/$PTH_NAME"

# ------------------------------------------------------- 3b. pip install
# Pin the ABI-sensitive packages to the versions of the base interpreter so
# that pip never shadows them with PyPI wheels (numpy 2, serial h5py, ...).
constraints="$VENV/.boltzphlow-constraints.txt"
: >"$constraints"
for p in $(field pins); do echo "$p" >>"$constraints"; done
say "pip install -e '.[test]'"
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore \
    "$VENV/bin/python" -m pip install -q --progress-bar off -c "$constraints" -e '.[test]' \
    || die "pip install -e '.[test]' failed (PyPI reachable? PIP_INDEX_URL?)"

# ---------------------------------------------------- 5. mpirun wrapper
mpi_hint_dir=$(dirname "$exe")
{
    cat <<'EOF'
#!/usr/bin/env bash
# Written by scripts/setup.sh (rerun `make setup` to regenerate).
# Runs the MPI launcher matching the interpreter .venv was built from, with
# settings that make `mpirun -n 3` work as root and on fewer cores.
# Variables already set in the environment win.
self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/$(basename "${BASH_SOURCE[0]}")
export OMPI_ALLOW_RUN_AS_ROOT="${OMPI_ALLOW_RUN_AS_ROOT:-1}"
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}"
export OMPI_MCA_rmaps_base_oversubscribe="${OMPI_MCA_rmaps_base_oversubscribe:-1}"
# Cross-memory attach is blocked in many containers ("Read -1, expected ...").
export OMPI_MCA_btl_vader_single_copy_mechanism="${OMPI_MCA_btl_vader_single_copy_mechanism:-none}"
export H5PY_ALWAYS_USE_MPI="${H5PY_ALWAYS_USE_MPI:-1}"
# One BLAS/OpenMP thread per rank: results must not depend on how the ranks are bound.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
EOF
    if [ "$need_petsc_dir" = 1 ]; then
        echo "if [ -z \"\${PETSC_DIR:-}\" ] && [ -d '$DEBIAN_PETSC_DIR' ]; then export PETSC_DIR='$DEBIAN_PETSC_DIR'; fi"
    fi
    echo "hint_dir='$mpi_hint_dir'"
    cat <<'EOF'
real=${BOLTZPHLOW_MPIRUN:-}
if [ -z "$real" ]; then
    IFS=: read -ra path_dirs <<<"${PATH:-}"
    for name in mpirun mpiexec; do
        for d in "$hint_dir" "${path_dirs[@]}"; do
            c="${d:-.}/$name"
            if [ -x "$c" ] && [ ! -d "$c" ] && ! [ "$c" -ef "$self" ]; then
                # Canonical directory: Open MPI derives its prefix from it, and
                # /bin/mpirun on a merged-/usr system gives prefix "/" (fatal).
                real="$(cd "$(dirname "$c")" && pwd -P)/$name"
                break 2
            fi
        done
    done
fi
if [ -z "$real" ]; then
    echo "mpirun wrapper: no mpirun/mpiexec found on PATH (set BOLTZPHLOW_MPIRUN; see docs/install.md)" >&2
    exit 127
fi
exec "$real" "$@"
EOF
} >"$VENV/bin/mpirun.tmp"
chmod 755 "$VENV/bin/mpirun.tmp"
mv -f "$VENV/bin/mpirun.tmp" "$VENV/bin/mpirun"

# ------------------------------------------------------------- 7. verify
verify_venv || die ".venv/bin/python cannot import mpi4py, petsc4py, h5py (MPI) and boltzphlow_mpi"
[ -x "$VENV/bin/boltzphlow" ] || die ".venv/bin/boltzphlow was not installed"

# ------------------------------------------------------------- 6. stamp
printf 'python=%s\nhash=%s\n' "$exe" "$want_hash" >"$STAMP"
say "done: .venv from $exe"
