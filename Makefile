# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench reliability clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/propsync demo --if-empty
	$(BIN)/propsync serve $(ARGS)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

reliability: install  # the probes of tests/reliability, ten times larger, with their tallies
	PROPSYNC_PROBE_SCALE=$(or $(SCALE),10) $(BIN)/pytest tests/reliability -p no:xdist $(PYTEST_ARGS)

bench: install  # make bench [SCALE=tiny|small|medium|large] [ARGS="--database-url ..."]
	$(BIN)/propsync bench --scale $(or $(SCALE),small) $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
