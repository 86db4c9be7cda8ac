# `make run` and `make test` work from a fresh clone: both create .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app app

.PHONY: run test lint format translations messages bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		(echo "CareRoute needs Python 3.11 or newer (set PYTHON=python3.11)"; exit 1)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

DOMAINS := messages console

translations: $(STAMP)
	for domain in $(DOMAINS); do \
		$(BIN)/pybabel compile -d app/translations -D $$domain || exit 1; done

# After changing user-facing text: refresh both domains' templates and every catalogue.
messages: $(STAMP)
	for domain in $(DOMAINS); do \
		$(BIN)/pybabel extract -F app/translations/$$domain.cfg -k _l -k lazy_gettext \
			--add-comments=TRANSLATORS: --omit-header -o app/translations/$$domain.pot . \
		&& $(BIN)/pybabel update -i app/translations/$$domain.pot -d app/translations \
			-D $$domain --ignore-obsolete --no-fuzzy-matching || exit 1; done

run: $(STAMP) translations
	$(FLASK) db upgrade
	$(FLASK) catalog load
	$(FLASK) demo load
	@echo "Open http://127.0.0.1:5000/ (site), /dev/mail (caught email), /staff/login (console)."
	$(BIN)/honcho start -f Procfile.dev

test: $(STAMP) translations
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .


bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
