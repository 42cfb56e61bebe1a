# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
# uv comes from PyPI into a private folder, so that a machine with only Python can start.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PYTEST_WORKERS ?= 2

.PHONY: install run status test lint typecheck pytest clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

install: $(if $(findstring .tools,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen --all-extras --python 3.11

# The whole portal on this machine (dev profile: SQLite, embedded Redis, S3 and SMTP under var/).
# Ctrl-C stops every process it started. See docs/dev-profile.md.
run: install
	$(UV) run --frozen --all-extras portail run

# What of a running `make run` answers (in another terminal).
status: install
	$(UV) run --frozen --all-extras portail status

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .

typecheck: install
	$(UV) run mypy services gateway portail

pytest: install
	$(UV) run pytest -n $(PYTEST_WORKERS) -q

test: lint typecheck pytest

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
