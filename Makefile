# The README's commands. Each target installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run serve test test-pg bench deps dev-deps assets translations extract-messages lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt $(VENV)/.deps
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

# Front-end libraries come from npm into node_modules, then into the ignored static/vendor.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

static/vendor/.built: node_modules/.package-lock.json scripts/build-assets.mjs scripts/echarts-entry.mjs
	node scripts/build-assets.mjs

assets: static/vendor/.built

# Catalogues are compiled by the build, never at run time.
translations: $(VENV)/.deps
	$(BIN)/pybabel compile -d translations -D messages >/dev/null

extract-messages: $(VENV)/.deps
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs '.* __pycache__ node_modules .venv' -o translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i translations/messages.pot -d translations -D messages --no-wrap --ignore-obsolete

run: deps assets translations
	$(BIN)/flask db upgrade
	$(BIN)/flask seed demo --if-empty
	$(BIN)/gunicorn --worker-class gthread --workers 1 --threads 100 --no-control-socket --bind 127.0.0.1:$(PORT) \
		--access-logfile - wsgi:app

# Production: SERVE_PROCESSES (default 2) gunicorn processes sharing REDIS_URL behind nginx
# (sticky) on http://127.0.0.1:$(PORT). See scripts/serve.sh and deploy/nginx.conf.
serve: deps assets translations
	PORT=$(PORT) scripts/serve.sh

# The suite runs on every core (pytest-xdist; PYTEST_WORKERS=0 runs it in one process). loadfile:
# a file's tests run on one worker in order (the bad-input suite's closing count needs them all);
# the Redis tests take turns through a lock file (tests/workers.py).
PYTEST_WORKERS ?= auto
XDIST := -n $(PYTEST_WORKERS) --dist loadfile

test: dev-deps assets translations
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

# The suite against the machine's PostgreSQL and Redis (what .ci/run does on CI).
test-pg: dev-deps assets translations
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
	TEST_REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15} \
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

bench: dev-deps assets translations
	$(BIN)/python -m bench

lint: dev-deps
	$(BIN)/ruff check portal tests bench

clean:
	rm -rf $(VENV) node_modules static/vendor
