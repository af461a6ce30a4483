# The two commands a newcomer needs: `make dev` and `make test`.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: dev test lint check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[all]'
	touch $(STAMP)

dev: $(STAMP)  ## the embedded stack with sample data: write API :8000, read API :8001
	$(VENV)/bin/slotwise dev --demo

test: $(STAMP)  ## every test, against real SQLite files, the local PostgreSQL and Redis, and a Kafka-protocol broker it starts
	scripts/ensure-postgres
	scripts/ensure-redis
	scripts/ensure-chromium
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

check: lint test
