# The commands a newcomer needs: `make dev`, `make test-fast` while working, `make test` (CI).
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: dev test test-fast lint check

# Every marked test needs a server, a process or minutes of its own (README, "Tests").
FAST := not (postgres or kafka or redis or subprocess or fuzz or slow)
# Two workers (two cores). Bytecode caching stays on even where the environment turns it
# off: each worker would otherwise compile and assertion-rewrite every module again.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(VENV)/bin/pytest -n 2 --dist loadgroup

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
	$(PYTEST)

test-fast: $(STAMP)  ## while working: unit and end-to-end tests on embedded SQLite, no servers (< 90 s)
	SLOTWISE_HYPOTHESIS_PROFILE=dev $(PYTEST) -q -m "$(FAST)"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

check: lint test
