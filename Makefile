# CRM Usage Metrics: developer commands. `make help` lists them.
#
# Each recipe runs as one bash script (.ONESHELL) with -euo pipefail.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.install-stamp
# `make install PYTHON=/path/to/python3.12` skips the search for an interpreter.
PYTHON ?=
# Where `make run` serves.
RUN_ADDR ?= 127.0.0.1:8000
# Extra arguments for every pytest run, e.g. `make test PYTEST_ARGS='-k rollups -x'`.
PYTEST_ARGS ?=
# The environment a test pass must not inherit from the caller's shell.
TEST_UNSET := -u DATABASE_URL -u CELERY_BROKER_URL -u REDIS_CACHE_URL -u DJANGO_DEBUG -u DJANGO_SECRET_KEY \
	-u DJANGO_ALLOWED_HOSTS -u DJANGO_SETTINGS_MODULE

.PHONY: help install run test test-fast lint bench screenshots

help:
	@echo "make run          install, migrate, seed the demo workspace and serve http://127.0.0.1:8000"
	echo "make test         the whole test suite on SQLite and, side by side, on a throwaway PostgreSQL + Redis + Celery worker"
	echo "make test-fast    the test suite on SQLite only (no services)"
	echo "make install      create $(VENV) (Python >= 3.12) and install the project with its dev tools"
	echo "make lint         ruff check, ruff format --check, mypy, import-linter (the layers)"
	echo "make bench        the benchmark: N=1000000 for a quick run (default 10,000,000 events; bench/README.md)"
	echo "make screenshots  screenshots of the tabs (tests/screenshots.py)"

install: $(STAMP)

# Django 6.1 needs Python >= 3.12. Look for 3.12 first, then 3.13 and 3.14: on PATH (a pyenv shim
# for a version that is not selected exists but fails, so each candidate is run), in pyenv's
# versions, then plain python3.
$(STAMP): pyproject.toml
	@works() { "$$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
	find_python() {
		local minor cand root roots="/root/.pyenv"
		if [ -n "$(PYTHON)" ]; then
			works "$(PYTHON)" && { echo "$(PYTHON)"; return 0; }
			echo "error: PYTHON=$(PYTHON) is not a working Python >= 3.12." >&2
			return 1
		fi
		if command -v pyenv >/dev/null 2>&1; then roots="$$(pyenv root 2>/dev/null) $$roots"; fi
		for minor in 12 13 14; do
			if command -v "python3.$$minor" >/dev/null 2>&1 && works "python3.$$minor"; then
				"python3.$$minor" -c 'import sys; print(sys.executable)'
				return 0
			fi
			for root in $$roots; do
				for cand in $$(ls -d "$$root"/versions/3.$$minor* 2>/dev/null | sort -V -r); do
					if [ -x "$$cand/bin/python3" ] && works "$$cand/bin/python3"; then echo "$$cand/bin/python3"; return 0; fi
				done
			done
		done
		if command -v python3 >/dev/null 2>&1 && works python3; then
			python3 -c 'import sys; print(sys.executable)'
			return 0
		fi
		return 1
	}
	if [ -x "$(PY)" ] && ! works "$(PY)"; then
		echo "$(VENV) has no working Python >= 3.12 ($$($(PY) --version 2>&1 || true)): recreating it."
		rm -rf "$(VENV)"
	fi
	if [ ! -x "$(PY)" ]; then
		if ! interpreter="$$(find_python)"; then
			[ -z "$(PYTHON)" ] || exit 1
			echo "error: no Python >= 3.12 found (Django 6.1 needs it)." >&2
			echo "  Looked for: python3.12, python3.13, python3.14 on PATH (each one run, to skip broken pyenv shims)," >&2
			echo "  $$(pyenv root 2>/dev/null || echo '$$(pyenv root)')/versions/3.1[234]*/bin/python3, /root/.pyenv/versions/3.1[234]*/bin/python3," >&2
			echo "  and python3 ($$(python3 --version 2>&1 || echo 'not found'))." >&2
			echo "  Install one, e.g.: apt-get install python3.12 python3.12-venv (Debian/Ubuntu with 3.12 packaged)," >&2
			echo "  or: pyenv install 3.12, then run: make install PYTHON=/path/to/python3.12" >&2
			exit 1
		fi
		echo "Creating $(VENV) with $$interpreter ($$("$$interpreter" --version 2>&1))"
		"$$interpreter" -m venv "$(VENV)"
	fi
	echo "Installing the project and its dev tools into $(VENV) (log: $(VENV)/pip-install.log)"
	if ! $(PY) -m pip install --disable-pip-version-check --editable '.[dev]' >"$(VENV)/pip-install.log" 2>&1; then
		tail -n 40 "$(VENV)/pip-install.log" >&2
		echo "error: pip install failed (full log: $(VENV)/pip-install.log)." >&2
		exit 1
	fi
	touch "$(STAMP)"

# SQLite, Celery tasks in-process: no server needed. seed_demo is idempotent and prints the login.
run: install
	@$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	exec $(PY) manage.py runserver $(RUN_ADDR)

# Two passes at once, one per core: SQLite with eager tasks, and a throwaway PostgreSQL and Redis
# (tests/services.sh), where tasks go through the broker and the integration tests start a real
# Celery worker. Run one after the other they took 35 min; side by side, the time of the longer one.
# The PostgreSQL pass prints as it goes, the SQLite pass's output follows when both are done. Both
# passes always run; the services are stopped whatever happens.
test: install
	@trap 'exit 130' INT TERM
	bash tests/services.sh packages
	started=$$(date +%s)
	sqlite=0 postgres=0 sqlite_pid=
	svc="$$(mktemp -d "$${TMPDIR:-/tmp}/crm-usage-test.XXXXXX")"
	trap '[ -z "$$sqlite_pid" ] || kill "$$sqlite_pid" 2>/dev/null || true; bash tests/services.sh stop "$$svc"' EXIT
	echo "==> Starting PostgreSQL and Redis"
	bash tests/services.sh start "$$svc" >/dev/null
	source "$$svc/env"
	echo "==> Pass 1/2 in the background: pytest on SQLite, Celery eager (its output follows pass 2's)"
	env $(TEST_UNSET) $(VENV)/bin/pytest $(PYTEST_ARGS) >"$$svc/sqlite.log" 2>&1 &
	sqlite_pid=$$!
	echo "==> Pass 2/2: pytest on PostgreSQL ($$DATABASE_URL), Celery broker $$CELERY_BROKER_URL"
	env $(TEST_UNSET) DATABASE_URL="$$DATABASE_URL" CELERY_BROKER_URL="$$CELERY_BROKER_URL" \
		$(VENV)/bin/pytest $(PYTEST_ARGS) || postgres=$$?
	wait "$$sqlite_pid" || sqlite=$$?
	sqlite_pid=
	echo "==> Pass 1/2's output (SQLite)"
	cat "$$svc/sqlite.log"
	echo "==> SQLite pass: $$([ $$sqlite = 0 ] && echo passed || echo "FAILED (exit $$sqlite)")," \
		"PostgreSQL pass: $$([ $$postgres = 0 ] && echo passed || echo "FAILED (exit $$postgres)")" \
		"($$(( $$(date +%s) - started )) s)"
	[ $$sqlite = 0 ] && [ $$postgres = 0 ]

test-fast: install
	@env $(TEST_UNSET) $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	@status=0
	$(VENV)/bin/ruff check . || status=1
	$(VENV)/bin/ruff format --check . || status=1
	$(VENV)/bin/mypy crm_usage demo tenancy events records core views_home funnels useranalysis behaviour accounts sales perception adoption reports dashboards alerts || status=1
	$(VENV)/bin/lint-imports || status=1
	exit $$status

# The benchmark (bench/README.md): N generated events (default 10,000,000; `make bench N=1000000` for a
# quick run) through the product's own paths on a throwaway PostgreSQL, every figure a ratio to a
# reference measured in the same run. Its extra needs (numpy, pyarrow: the generator's) go into the
# venv here only; they are not dependencies of the project. Writes bench/results/latest.md.
N ?= 10000000
BENCH_ARGS ?=
bench: install
	@trap 'exit 130' INT TERM
	bash tests/services.sh packages
	$(PY) -m pip install --disable-pip-version-check -q -r bench/requirements.txt
	env $(TEST_UNSET) $(PY) bench/run.py --rows $(N) $(BENCH_ARGS)

screenshots: install
	@if [ -f tests/screenshots.py ]; then
		exec $(PY) tests/screenshots.py
	fi
	echo "not yet: tests/screenshots.py does not exist, so there are no screenshots to take."
