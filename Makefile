# Every target builds its own virtualenv from pyproject.toml when it is missing or stale.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# The oldest Airflow this provider supports, for `make test-compat`.
COMPAT_AIRFLOW ?= 3.1.*
COMPAT_VENV ?= .venv-compat
COMPAT_INSTALLED := $(COMPAT_VENV)/.installed

# make dist: each wheel alone, installed into a virtualenv made anew each time.
DIST_VENV ?= .venv-dist
DIST_EMULATOR_VENV ?= .venv-dist-emulator

# make docs: MkDocs alone (the dependency group "docs"), in a virtualenv of its own, without
# Airflow, so that the docs build in seconds from a fresh clone.
DOCS_VENV ?= .venv-docs
DOCS_INSTALLED := $(DOCS_VENV)/.installed

.PHONY: test test-latest test-compat test-deployment lint docs dist demo bench clean

# The provider and the emulator (emulator/, a distribution of its own), both editable. The
# development tools are dependency groups (PEP 735) of pyproject.toml, not published
# extras: pip installs them from 25.1 on (--group).
$(INSTALLED): pyproject.toml emulator/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install --quiet -e ./emulator -e . --group dev
	touch $(INSTALLED)

$(COMPAT_INSTALLED): pyproject.toml emulator/pyproject.toml
	test -x $(COMPAT_VENV)/bin/python || $(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(COMPAT_VENV)/bin/python -m pip install --quiet -e ./emulator -e . --group test 'apache-airflow==$(COMPAT_AIRFLOW)'
	touch $(COMPAT_INSTALLED)

# pip >= 25.1 installs a dependency group (PEP 735) with --group.
$(DOCS_INSTALLED): pyproject.toml
	test -x $(DOCS_VENV)/bin/python || $(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(DOCS_VENV)/bin/python -m pip install --quiet --group docs
	touch $(DOCS_INSTALLED)

# Lint and the docs first (seconds), then the release files (about 1-2 minutes), then the whole
# suite on the newest Airflow, again on the oldest supported one, then a real deployment.
test: lint docs dist test-latest test-compat test-deployment

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# README.md and docs/ built into a site in site/ (mkdocs.yml, scripts/docs/hooks.py). --strict
# fails the build on any warning: a link between the README and the docs pages, or among them,
# whose page or anchor does not exist, a link to a repository file that does not, an address
# that is not one. Addresses of other sites are checked for syntax only (no network). Not
# --quiet: it would silence the warnings that --strict counts. Then scripts/docs/selftest.py
# proves that a copy with one broken link of each kind fails the same build (about 3 s).
docs: $(DOCS_INSTALLED)
	$(DOCS_VENV)/bin/mkdocs build --strict
	$(DOCS_VENV)/bin/python scripts/docs/selftest.py

# The release files: the provider's and the emulator's (emulator/) sdist and wheel built in
# dist/ and checked (twine, then scripts/dist/check_metadata.py). Then, each in a
# virtualenv made anew: the provider's wheel alone (pip resolves Airflow; no -e, no extras:
# no emulator), the emulator's wheel alone (no provider, no Airflow), and the provider's
# extra emulator added to the first one from dist/ — each smoke-tested
# (scripts/dist/smoke.py). The fresh virtualenvs have no pip of their own: .venv's newer pip
# installs into them, about twice as fast as the one venv bundles; all reuse pip's cache.
PROVIDER_WHEEL = dist/airflow_provider_automation_anywhere-*-py3-none-any.whl
EMULATOR_WHEEL = dist/automation_anywhere_emulator-*-py3-none-any.whl
PIP_INTO = $(BIN)/python -m pip --python

dist: $(INSTALLED)
	rm -rf dist $(DIST_VENV) $(DIST_EMULATOR_VENV)
	$(BIN)/python -m build --quiet --outdir dist .
	$(BIN)/python -m build --quiet --outdir dist emulator
	$(BIN)/twine check --strict dist/*
	$(BIN)/python scripts/dist/check_metadata.py dist
	$(PYTHON) -m venv --without-pip $(DIST_VENV)
	$(PIP_INTO) $(DIST_VENV)/bin/python install --quiet $(PROVIDER_WHEEL)
	$(DIST_VENV)/bin/python scripts/dist/smoke.py $(PROVIDER_WHEEL)
	$(PYTHON) -m venv --without-pip $(DIST_EMULATOR_VENV)
	$(PIP_INTO) $(DIST_EMULATOR_VENV)/bin/python install --quiet $(EMULATOR_WHEEL)
	$(DIST_EMULATOR_VENV)/bin/python scripts/dist/smoke.py $(EMULATOR_WHEEL)
	$(PIP_INTO) $(DIST_VENV)/bin/python install --quiet --no-index --find-links dist "$$(echo $(PROVIDER_WHEEL))[emulator]"
	$(DIST_VENV)/bin/python scripts/dist/smoke.py $(EMULATOR_WHEEL)

# Two pytest-xdist workers, each with its own AIRFLOW_HOME (tests/conftest.py); the UI tests
# stay in one worker (xdist_group "ui": one API server and one browser).
PYTEST_WORKERS := -n 2 --dist loadgroup

test-latest: $(INSTALLED)
	$(BIN)/python -m pytest $(PYTEST_WORKERS)

# On the oldest supported Airflow, in a virtualenv of its own: everything that touches
# Airflow, but the browser test (Airflow 3.1's form has no provider extra fields). The
# protocol, emulator, transport and benchmark-count tests do not depend on Airflow's
# version, nor do the fault matrix's cases that need no task retry; they run once, in
# test-latest, to keep make test within CI's time.
test-compat: $(COMPAT_INSTALLED)
	$(COMPAT_VENV)/bin/python -m pytest $(PYTEST_WORKERS) -p no:cacheprovider \
		-m "not browser and (not fault_matrix or airflow_retries)" \
		--ignore=tests/control_room --ignore=tests/emulator --ignore=tests/transport --ignore=tests/bench

# Airflow's components as separate processes (api-server, scheduler with LocalExecutor,
# dag-processor, triggerer; PostgreSQL from Debian's package) against the emulator: DAG runs
# triggered through the REST API, workers and the triggerer killed (scripts/deployment/run.py).
# Two legs, one after the other (each starts a deployment of its own and fills both cores):
# - LocalExecutor, one triggerer: about 4 minutes on CI's 2 cores (budget 570 s);
# - CeleryExecutor (Debian's Redis as broker), two Celery workers, two triggerers: 335-440 s
#   measured on 2 cores (the leg used to take about 13 minutes there with 100 waits), c8's
#   38-70 s included (most of it Airflow's 15-s triggerer health-check threshold and the
#   watcher's takeover); budget 1080 s. Its fanout case waits for 1,000 work items (--waits)
#   with sensors that start and end in the triggerer (start_from_trigger: no task process on
#   the workers; deferrable sensors cost two each, and 300 of them alone took 532 s), in 50
#   DAGs of 20: 137-155 s. A liveness probe restarts a triggerer whose heartbeat stopped
#   (60 s, and one more login): about 75 s more when it happens. What more waits cost the
#   Control Room and the triggerer is in docs/running-at-scale.md.
test-deployment: $(INSTALLED)
	$(BIN)/python scripts/deployment/run.py
	$(BIN)/python scripts/deployment/run.py --executor celery

demo: $(INSTALLED)
	$(BIN)/python scripts/demo.py

bench: $(INSTALLED)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(COMPAT_VENV) $(DIST_VENV) $(DIST_EMULATOR_VENV) $(DOCS_VENV) dist site .demo .pytest_cache
