# Two commands on a fresh clone: `make demo` and `make test`. Everything else is set up on the way.
# Dependencies install from requirements.lock (exact versions, the ones the golden files were made with),
# written by uv from pyproject.toml: `make lock` after changing pyproject's dependencies.
PYTHON     ?= python3
VENV       := .venv
BIN        := $(VENV)/bin
STAMP      := $(VENV)/.installed-stamp
LOCK       := requirements.lock
UV_VERSION := 0.13.8
UV         := $(BIN)/uv
# the lock holds for every platform and every Python >= 3.11 (uv --universal)
LOCK_ARGS  := pyproject.toml --extra dev --universal --python-version 3.11 --quiet -o $(LOCK)

.PHONY: demo test lint install lock lock-upgrade seed bench bench-service proto serve clean help

help:
	@echo "make demo   - create .venv, install from $(LOCK), seed the SQLite database, print the sample rebalance"
	@echo "make test   - same set-up, then ruff and the whole test suite (SQLite + PostgreSQL at 127.0.0.1:5432)"
	@echo "make lock   - rewrite $(LOCK) from pyproject.toml, keeping every pin it already has"
	@echo "make lock-upgrade - the same, moving every pin to the newest version pyproject.toml allows"
	@echo "make lint   - ruff check on the whole tree"
	@echo "make bench  - end-to-end benchmark (bench/bench_propose.py)"
	@echo "make bench-service - load test of a running-for-the-test dawsos serve (bench/bench_service.py)"
	@echo "make proto  - regenerate the committed gRPC modules from proto/ (grpcio-tools)"
	@echo "make serve  - seed, then dawsos serve (REST :8000, gRPC :50051)"

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s); run make PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)

# --compile-bytecode: write every .pyc now. Where PYTHONDONTWRITEBYTECODE is set (as on CI), Python never
# caches bytecode itself, and each `dawsos` process would compile pandas, scipy, cvxpy and Riskfolio-Lib from
# source again (seen: a rebalance 16.7 s instead of 6.7 s, the suite 55 min).
$(STAMP): pyproject.toml $(LOCK) | $(UV)
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -r $(LOCK)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@# a dependency added to pyproject.toml but not to the lock fails here: run `make lock`
	$(UV) pip check --quiet --python $(BIN)/python
	@touch $(STAMP)

install: $(STAMP)

lock: | $(UV)
	$(UV) pip compile $(LOCK_ARGS)

lock-upgrade: | $(UV)
	$(UV) pip compile $(LOCK_ARGS) --upgrade

seed: $(STAMP)
	$(BIN)/dawsos seed

demo: $(STAMP)
	$(BIN)/dawsos seed
	$(BIN)/dawsos policies list
	$(BIN)/dawsos packs list
	$(BIN)/dawsos rebalance --portfolio P1 --policy quality_focused

lint: $(STAMP)
	$(BIN)/ruff check .

# one pytest worker per core (pytest-xdist); each test file stays on one worker (module fixtures are built once,
# and some browser tests follow on from the one before them in their file)
test: lint
	$(BIN)/python -m pytest -n auto --dist loadfile

bench: $(STAMP)
	$(BIN)/python bench/bench_propose.py

bench-service: $(STAMP)
	$(BIN)/python bench/bench_service.py

proto: $(STAMP)
	$(BIN)/python scripts/gen_proto.py

serve: $(STAMP)
	$(BIN)/dawsos seed
	$(BIN)/dawsos serve

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
