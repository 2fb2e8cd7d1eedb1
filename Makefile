# hydrorisk developer tasks.
#
#   make venv    create .venv and install the package with test/dask/postgres extras
#   make run     start the demo (SQLite store + bundled data + worker + dashboard
#                on http://127.0.0.1:8050)
#   make test    ruff, mypy, the dependency audit and the whole test suite (fails on a lint
#                or type error, a known-vulnerable dependency, a test failure, and when
#                nothing is collected)
#   make lint    ruff check
#   make clean   remove .venv, var/ and .pytest_cache
#
# Variables: PYTHON (interpreter used to create the venv, default python3),
#            PYTEST_ARGS (extra pytest arguments, e.g. make test PYTEST_ARGS='-k store -x').

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := venv
.PHONY: venv run test lint clean

venv: $(STAMP)

# Create the interpreter only when it is missing (--clear repairs a half-made .venv).
$(VPY):
	$(PYTHON) -m venv --clear $(VENV)

# Reinstall only when pyproject.toml changes; the stamp is written last, so a
# failed install is retried on the next run.
$(STAMP): pyproject.toml | $(VPY)
	$(VPY) -m pip install --upgrade pip
	$(VPY) -m pip install -e '.[test,dask,postgres]'
	touch $@

run: venv
	$(VENV)/bin/hydrorisk demo

# pytest's exit code goes straight to make (no pipes, no '|| true'), so test
# failures (1) and "no tests collected" (5) both fail the target.
test: venv
	$(VPY) -m ruff check hydro dashboard tests bench
	$(VPY) -m mypy
	$(VPY) scripts/audit_dependencies.py
	$(VPY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VPY) -m ruff check hydro dashboard tests bench

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache hydrorisk.egg-info
