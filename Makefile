# Two commands on a fresh clone: `make demo` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test install seed bench clean help

help:
	@echo "make demo   - create .venv, install, seed the SQLite database, print the sample rebalance"
	@echo "make test   - same set-up, then the whole test suite (SQLite + PostgreSQL at 127.0.0.1:5432)"
	@echo "make bench  - end-to-end benchmark (bench/bench_propose.py)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found %s); run make PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

seed: $(STAMP)
	$(BIN)/dawsos seed

demo: $(STAMP)
	$(BIN)/dawsos seed
	$(BIN)/dawsos policies list
	$(BIN)/dawsos packs list
	$(BIN)/dawsos rebalance --portfolio P1 --policy quality_focused

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_propose.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
