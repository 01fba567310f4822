# What CI runs, for running it before pushing: `make check`. CI (.ci/run) sets up a fresh
# virtual environment, PostgreSQL and Redis, then runs the same .ci/check.
# The project's .venv, when there is one, comes first on PATH.
export PATH := $(if $(wildcard .venv/bin),$(CURDIR)/.venv/bin:,)$(PATH)

.PHONY: check lint format typecheck test

check:
	.ci/check

lint:
	ruff check
	ruff format --check

format:
	ruff check --fix
	ruff format

test:
	pytest -q
typecheck:
	mypy
