# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# make test-fast leaves out the tests marked so (pyproject.toml): the inner loop's suite.
FAST := not (fuzz or crash or model or reliability or slow)

.PHONY: help install run test test-fast lint bench reliability clean

install: $(STAMP)  # create .venv and install propsync with its development tools

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: install  # seed a demo account (once) and serve it: make run ARGS="--port 8123"
	$(BIN)/propsync demo --if-empty
	$(BIN)/propsync serve $(ARGS)

lint: install  # ruff and mypy
	$(BIN)/ruff check src tests
	$(BIN)/mypy

test: lint  # lint, then the whole suite on SQLite and PostgreSQL
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: install  # the inner loop: the suite without fuzzing, crash, model, probe or slow tests
	$(BIN)/pytest -n 2 --dist loadgroup -m "$(FAST)" $(PYTEST_ARGS)

reliability: install  # the probes of tests/reliability, ten times larger, with their tallies
	PROPSYNC_PROBE_SCALE=$(or $(SCALE),10) $(BIN)/pytest tests/reliability -p no:xdist $(PYTEST_ARGS)

bench: install  # make bench [SCALE=tiny|small|medium|large] [ARGS="--database-url ..."]
	$(BIN)/propsync bench --scale $(or $(SCALE),small) $(ARGS)

clean:  # remove .venv and the caches
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

help:  # this list
	@grep -E '^[a-z-]+:.*#' Makefile | sed -E 's/:[^#]*#/\t/' | expand -t 14
