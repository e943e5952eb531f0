# The README's two set-up commands: `make demo` and `make test`. Both are idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ichsilent-installed
EXTRAS := airflow,dashboard,report,dev
APT_PACKAGES := orthanc orthanc-dicomweb poppler-utils libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core docker-compose
PG_CLUSTER := 15 main

.PHONY: help demo test venv system-packages postgres lint typecheck unit bench clean

help:
	@echo "make demo   set up everything and run the silent trial demo (ichsilent demo)"
	@echo "make test   set up everything and run lint, types and the whole test suite"
	@echo "make lint | typecheck | unit | bench | clean"

# --- set-up -------------------------------------------------------------------------------
# Re-installs only when the dependency files change; torch is pinned first so nothing can
# pull a multi-GB CUDA build.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt "torch==2.13.0"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[$(EXTRAS)]"
	@touch $(STAMP)

venv: $(STAMP)

# Debian packages for the real components (Orthanc, PDF tools); only as root, only if missing.
system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing Debian packages (run as root: apt-get install $$missing)"; fi; \
	fi

# Local PostgreSQL for the store tests: start the cluster if installed and stopped, and
# let the current user in as a superuser through the unix socket.
postgres:
	@if command -v pg_ctlcluster >/dev/null 2>&1; then \
	  pg_lsclusters -h 2>/dev/null | grep -q online || pg_ctlcluster $(PG_CLUSTER) start; \
	  if [ "$$(id -u)" = 0 ]; then \
	    su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='root'\"" | grep -q 1 || \
	      su postgres -c "createuser --superuser root"; \
	  fi; \
	else echo "PostgreSQL not installed: PostgreSQL store tests will be skipped"; fi

demo: venv system-packages
	$(BIN)/ichsilent demo

test: venv system-packages postgres lint typecheck
	$(BIN)/python -m pytest -q

# --- extras -------------------------------------------------------------------------------
lint: venv
	$(BIN)/ruff check src dags plugins dashboards tests bench
	$(BIN)/ruff format --check src dags plugins dashboards tests bench

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/python -m pytest -q tests/unit

bench: venv system-packages
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
