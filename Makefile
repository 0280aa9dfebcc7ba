# Procure: `make run` serves the site; `make test` runs every test tier.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
ASSETS := procure/static/govuk
STAMP := $(VENV)/.installed
CATALOGUES := $(wildcard procure/translations/*/LC_MESSAGES/messages.po)

.PHONY: run setup test test-fast worker beat lint translations clean bench

run: setup
	$(FLASK) db upgrade
	$(FLASK) values load
	$(FLASK) demo load
	$(FLASK) serve

setup: $(STAMP) $(ASSETS)/govuk-frontend.min.css $(CATALOGUES:.po=.mo)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(ASSETS)/govuk-frontend.min.css: node_modules/.package-lock.json
	rm -rf $(ASSETS) && mkdir -p $(ASSETS)
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css \
	   node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(ASSETS)/
	cp -r node_modules/govuk-frontend/dist/govuk/assets $(ASSETS)/assets

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -f -i $< -o $@

# Every tier. With PROCURE_TEST_DATABASE_URL and PROCURE_REDIS_URL set (CI sets them),
# the suite also runs on PostgreSQL and against a real Celery worker on Redis.
test: setup
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -n auto -m "not browser and not integration" $(PYTEST_ARGS)

worker: setup
	$(BIN)/celery -A workers worker --loglevel=INFO

beat: setup
	$(BIN)/celery -A workers beat --loglevel=INFO

# Time the ranking of a 1,000-proposal phase on a scratch SQLite database (RANKING_ARGS), then
# load the public pages with wrk against gunicorn, beside a minimal Flask app (the floor), at
# 1,000, 10,000 and 100,000 published challenges on PostgreSQL databases kept beside
# PROCURE_BENCH_DATABASE_URL's (built once by `flask demo generate`; BENCH_ARGS, e.g.
# BENCH_ARGS="--sizes 1000,10000" for a quick run, --fresh to build the data again); both write
# bench/results.md. Measurements, not tests: nothing fails on a slow machine.
bench: setup
	@command -v wrk >/dev/null 2>&1 || { \
	  as_root() { if [ "$$(id -u)" -eq 0 ]; then "$$@"; else sudo "$$@"; fi; }; \
	  as_root apt-get update -qq && \
	  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python bench/ranking.py $(RANKING_ARGS)
	$(BIN)/python bench/load.py $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check procure workers tests bench config.py wsgi.py

# Extract strings, merge them into the Welsh catalogue (translate the new ones, then commit).
translations: $(STAMP)
	$(BIN)/pybabel extract -F procure/translations/babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 -o procure/translations/messages.pot .
	$(BIN)/pybabel update -i procure/translations/messages.pot -d procure/translations --no-fuzzy-matching

clean:
	rm -rf $(ASSETS) instance/procure.db* instance/broker instance/mail
