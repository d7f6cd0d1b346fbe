# Ville Intelligente — the two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
CITIZENS ?= 500000

.DEFAULT_GOAL := help
.PHONY: help demo test lint format bench messages clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/ville: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.test-deps: $(BIN)/ville pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: $(BIN)/ville ## Install, migrate SQLite, load the demo and serve on http://127.0.0.1:$(PORT)
	VILLE_DEMO=1 $(BIN)/ville demo --port $(PORT)

test: $(VENV)/.test-deps ## Install the test extras and run the whole suite
	$(BIN)/pytest -n 2 --dist loadgroup

lint: $(VENV)/.test-deps ## ruff (lint + format check) and mypy
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	VILLE_TESTING=1 $(BIN)/mypy src

format: $(VENV)/.test-deps ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(VENV)/.test-deps ## Dashboard timings at scale (DATABASE_URL, CITIZENS=N)
	$(BIN)/python bench/dashboard.py --citizens $(CITIZENS)

messages: $(VENV)/.test-deps ## Extract messages into the .po catalogues (needs gettext)
	cd src/ville && VILLE_TESTING=1 ../../$(BIN)/django-admin makemessages --settings=ville.settings -l fr -l en -l es -l ar -l pt --no-obsolete --ignore='*/tests/*'

clean: ## Remove the virtualenv and the local data
	rm -rf $(VENV) var
