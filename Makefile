# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
export PYTHONPATH := $(CURDIR)

.PHONY: run test system-packages test-unit test-integration test-e2e bench lint format install translations babel-extract clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile -d web/translations -f

run: install
	$(BIN)/supplychain db upgrade
	$(BIN)/supplychain demo --if-empty --base-url http://$(HOST):$(PORT)
	@echo ""
	@echo "  Brand console:   http://$(HOST):$(PORT)/console/suppliers"
	@echo "  Sign in:         http://$(HOST):$(PORT)/login"
	@echo "  (SQLite in instance/, jobs run inline; set DATABASE_URL / REDIS_URL for servers)"
	@echo ""
	$(BIN)/supplychain serve --host $(HOST) --port $(PORT)

system-packages:
	@bash scripts/ensure-system-packages.sh

test: system-packages install
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-unit: install
	$(BIN)/python -m pytest -q tests/unit

test-integration: system-packages install
	$(BIN)/python -m pytest -q tests/integration

test-e2e: system-packages install
	$(BIN)/python -m pytest -q tests/e2e

bench: install
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

babel-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
