# Every target builds its own virtualenv from pyproject.toml when it is missing or stale.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# The oldest Airflow this provider supports, for `make test-compat`.
COMPAT_AIRFLOW ?= 3.1.*
COMPAT_VENV ?= .venv-compat
COMPAT_INSTALLED := $(COMPAT_VENV)/.installed

.PHONY: test test-latest test-compat demo bench clean

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(INSTALLED)

$(COMPAT_INSTALLED): pyproject.toml
	test -x $(COMPAT_VENV)/bin/python || $(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COMPAT_VENV)/bin/python -m pip install --quiet -e '.[test]' 'apache-airflow==$(COMPAT_AIRFLOW)'
	touch $(COMPAT_INSTALLED)

# The whole suite on the newest Airflow, then again on the oldest supported one.
test: test-latest test-compat

test-latest: $(INSTALLED)
	$(BIN)/python -m pytest

# Everything but the browser test (Airflow 3.1's form has no provider extra fields) on the
# oldest supported Airflow, in a virtualenv of its own.
test-compat: $(COMPAT_INSTALLED)
	$(COMPAT_VENV)/bin/python -m pytest -p no:cacheprovider -m "not browser"

demo: $(INSTALLED)
	$(BIN)/python scripts/demo.py

bench: $(INSTALLED)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(COMPAT_VENV) .demo .pytest_cache
