# Workforce Hub. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: install run serve migrate seed test test-services lint format clean bench-mentoring bench-room bench-forum

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo ""
	@echo "  Workforce Hub is serving at http://$(HOST):$(PORT)/"
	@echo "  Demo logins (password hub-demo-2026):"
	@echo "    learner      otieno_brian"
	@echo "    mentor       adaeze.okafor"
	@echo "    facilitator  achieng.odhiambo"
	@echo "    moderator    mod.kim"
	@echo "    staff/admin  hubadmin   (admin site: http://$(HOST):$(PORT)/admin/)"
	@echo "  E-mails (sign-up confirmations, password resets) are printed here."
	@echo ""
	$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

serve: install
	$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench-mentoring: install
	$(BIN)/python bench/mentoring.py $(ARGS)

bench-room: install
	$(BIN)/python -m bench.room $(ARGS)

bench-forum: install
	$(BIN)/python bench/forum.py $(ARGS)

clean:
	rm -rf $(VENV) var db.sqlite3 .pytest_cache .mypy_cache .ruff_cache
