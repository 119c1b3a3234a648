# Every target builds its own virtualenv from pyproject.toml when it is missing or stale.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# The oldest Airflow this provider supports, for `make test-compat`.
COMPAT_AIRFLOW ?= 3.1.*
COMPAT_VENV ?= .venv-compat

.PHONY: test test-compat demo bench clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(INSTALLED)

test: $(INSTALLED)
	$(BIN)/python -m pytest

# The same tests on the oldest supported Airflow, in a virtualenv of its own.
test-compat:
	test -x $(COMPAT_VENV)/bin/python || $(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COMPAT_VENV)/bin/python -m pip install --quiet -e '.[test]' 'apache-airflow==$(COMPAT_AIRFLOW)'
	$(COMPAT_VENV)/bin/python -m pytest -p no:cacheprovider

demo: $(INSTALLED)
	$(BIN)/python scripts/demo.py

bench: $(INSTALLED)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(COMPAT_VENV) .demo .pytest_cache
