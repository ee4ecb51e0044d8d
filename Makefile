# BoltzPhlow-MPI -- developer entry points.  `make help` lists the targets.
#
# Every variable below can be overridden, e.g. `make test PYTEST_ARGS=-x`,
# `make run JOB=jobs/other.toml OUT=out/other.h5`, `make test-mpi TIMEOUT=`.
# Each recipe line runs in its own shell and any non-zero status stops make
# (pytest's "no tests collected", status 5, included).

PY          ?= .venv/bin/python
MPIRUN      ?= .venv/bin/mpirun
BOLTZPHLOW  ?= .venv/bin/boltzphlow
SETUP       ?= bash scripts/setup.sh

TESTS       ?= tests
PYTEST_ARGS ?= -q
# pytest under mpirun: no cache plugin (ranks would race on .pytest_cache).
MPI_PYTEST  ?= $(PY) -m pytest $(PYTEST_ARGS) -p no:cacheprovider --with-mpi -m mpi $(TESTS)
NOSIMD_PYTEST = @if [ "$$(uname -m)" = x86_64 ]; then \
	    echo "serial tests with numpy SIMD off: NPY_DISABLE_CPU_FEATURES=\"$(NOSIMD)\""; \
	    NPY_DISABLE_CPU_FEATURES="$(NOSIMD)" $(PY) -m pytest $(PYTEST_ARGS) $(TESTS); \
	else echo "serial tests with numpy SIMD off: skipped (needs x86_64, this is $$(uname -m))"; fi
# A deadlocked MPI test must fail CI, not hang it (exit status 124).
# --foreground keeps Ctrl-C working; mpirun takes its ranks down on SIGTERM.
TIMEOUT     ?= timeout --foreground -k 30 3600

# The serial suite runs twice: natively, then with numpy's AVX2/AVX-512/FMA paths off, which
# emulates the round-off of a CPU without those units on any x86_64 machine (numpy refuses
# the variable elsewhere, so other machines run the native mode only).
NOSIMD      ?= AVX512F AVX512_SKX AVX2 FMA3

JOB         ?= jobs/default.toml
OUT         ?= out/default.h5

.PHONY: help setup run test test-serial test-nosimd test-mpi bench validation clean distclean

help:
	@echo "make setup        create/refresh .venv (scripts/setup.sh; idempotent)"
	@echo "make run          run $(JOB) -> $(OUT)"
	@echo "make test         serial tests (native, then numpy SIMD off), then MPI tests on 2 and 3 ranks"
	@echo "make test-serial  serial tests only (native)"
	@echo "make test-nosimd  serial tests with NPY_DISABLE_CPU_FEATURES=\"$(NOSIMD)\" (x86_64)"
	@echo "make test-mpi     MPI tests only (mpirun -n 2, then -n 3)"
	@echo "make bench        kernel benchmarks"
	@echo "make validation   validation figures -> docs/figures/*.png, docs/validation_figures.md"
	@echo "make clean        remove build artefacts (keeps .venv and out/)"
	@echo "make distclean    clean + remove .venv and out/"

setup:
	$(SETUP)

run: setup
	mkdir -p $(dir $(OUT))
	$(BOLTZPHLOW) run $(JOB) -o $(OUT) --force

test: setup
	$(PY) -m pytest $(PYTEST_ARGS) $(TESTS)
	$(NOSIMD_PYTEST)
	$(TIMEOUT) $(MPIRUN) -n 2 $(MPI_PYTEST)
	$(TIMEOUT) $(MPIRUN) -n 3 $(MPI_PYTEST)

test-serial: setup
	$(PY) -m pytest $(PYTEST_ARGS) $(TESTS)

test-nosimd: setup
	$(NOSIMD_PYTEST)

test-mpi: setup
	$(TIMEOUT) $(MPIRUN) -n 2 $(MPI_PYTEST)
	$(TIMEOUT) $(MPIRUN) -n 3 $(MPI_PYTEST)

bench: setup
	$(BOLTZPHLOW) bench kernels
	$(PY) benchmarks/report.py

validation: setup
	$(PY) validation/figures.py

clean:
	rm -rf build dist .pytest_cache *.egg-info
	find . -path ./.venv -prune -o -path ./.git -prune -o \
		\( -name __pycache__ -o -name '*.egg-info' \) -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf .venv out
