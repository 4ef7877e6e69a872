# Two commands do all set-up on a fresh machine: `make run` and `make test`.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# The second test run uses real services, under names of its own: pytest-django creates
# and drops test_sessions_cookies_jwt, and the tests write only under their own Redis prefix.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/sessions_cookies_jwt
TEST_REDIS_URL ?= redis://127.0.0.1:6379/11
PYTEST_ARGS ?=

.PHONY: install install-runtime run migrate compare queries lint format test test-embedded test-services test-newest \
	security-matrix clean load-check check-secrets bench-scale screenshots \
	cluster cluster-stop cluster-drill

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# `make run` installs what the server needs (requirements.txt); everything else, the test
# and benchmark tools too (requirements-dev.txt), comes with the first target that needs it.
$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed: requirements.txt requirements-dev.txt $(VENV)/.installed-runtime
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install-runtime: $(VENV)/.installed-runtime

install: $(VENV)/.installed

# A PostgreSQL DATABASE_URL may name a database that does not exist yet: it is created.
migrate: install-runtime
	$(BIN)/python manage.py ensure_database
	$(BIN)/python manage.py migrate --no-input

# HOST and PORT choose where the dev server listens: make run HOST=0.0.0.0 PORT=8080
# (a host other than loopback also needs ALLOWED_HOSTS).
# A second user, alice, is the one the plain-cookie way lets anyone become.
run: migrate
	$(BIN)/python manage.py ensure_demo_user
	$(BIN)/python manage.py ensure_demo_user --username alice --password alice-password --email alice@example.com
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# What each way costs, against the floor, its stock peer and its fast profile: writes
# docs/comparison.md, .json and .png (on whatever DATABASE_URL / REDIS_URL say).
compare: install migrate
	$(BIN)/python manage.py compare

# Queries one resource request costs, per way, on whatever DATABASE_URL / REDIS_URL say.
queries: install migrate
	$(BIN)/python manage.py queries_per_request --sql

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every suite twice: on the embedded default (SQLite + local memory), then on PostgreSQL +
# Redis. Without those services the second run skips, unless REQUIRE_SERVICES=1 (CI).
test: lint test-embedded test-services

# The embedded run also regenerates the security matrix and fails when the committed one is
# stale: every claim in docs/security-matrix.md comes from this run's tests.
test-embedded: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest $(PYTEST_ARGS) --security-matrix=.security-matrix.md
	@diff -u docs/security-matrix.md .security-matrix.md \
		|| { echo "docs/security-matrix.md is stale: run make security-matrix and commit it."; exit 1; }

security-matrix: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest -q --security-matrix=docs/security-matrix.md

test-services: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)

# The suite on the newest Python found (3.13, else 3.12) with the newest releases of every
# dependency, pins ignored: an early warning of what the next upgrade will break.
# badsecrets (the known-secrets check) caps Django below 6, which held this run on Django 5.2
# unnoticed. It only verifies signatures: the newest Django goes in over its cap last, and
# pip's complaint about that cap is expected. django-user-sessions, at its newest, still imports
# pkg_resources, which setuptools 81 removed: setuptools stays below it.
NEWEST_PYTHON ?= $(shell command -v python3.13 || command -v python3.12)
NEWEST_VENV ?= .venv-newest
test-newest:
	@test -n "$(NEWEST_PYTHON)" || { echo "No Python 3.12+ found: set NEWEST_PYTHON."; exit 1; }
	$(NEWEST_PYTHON) -m venv $(NEWEST_VENV)
	$(NEWEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	sed -E '/^(-r|#)/d; s/[=<>~!].*//' requirements.txt requirements-dev.txt \
		| xargs $(NEWEST_VENV)/bin/python -m pip install --quiet --upgrade
	$(NEWEST_VENV)/bin/python -m pip install --quiet --upgrade Django
	$(NEWEST_VENV)/bin/python -m pip install --quiet "setuptools<81"
	env -u DATABASE_URL -u REDIS_URL $(NEWEST_VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(NEWEST_VENV) .pytest_cache .ruff_cache

# A bounded load check (about half a minute a run): 16 clients per way against gunicorn on
# loopback, on the embedded default, then on PostgreSQL + Redis when they can be reached
# (skipped otherwise, unless REQUIRE_SERVICES=1). Any answer but 200 fails it.
load-check: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python scripts/load_check.py
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/python scripts/load_check.py --if-reachable

# badsecrets against a session cookie and a JWT signed with this environment's keys: fails
# on a known key, the development default included. CI runs it as production would.
check-secrets: install
	$(BIN)/python scripts/check_secrets.py

# A million sessions and tokens on databases of its own (a SQLite file, and a PostgreSQL
# database it creates and drops when the server answers; Redis db 14 under a key prefix of
# its own): stock cleanup against ours, and the cost per request at 1,000 and at a million
# stored. Writes docs/scale.json. 15 to 30 minutes; SCALE_COUNT=10000 for a quick look.
SCALE_COUNT ?= 1000000
bench-scale: install
	$(BIN)/python manage.py bench_scale --count $(SCALE_COUNT)

# The playground photographed in Chromium, one panel per way: docs/playground-<way>.png.
screenshots: install
	$(BIN)/python scripts/playground_screenshots.py

# A cluster on loopback, in the foreground until Ctrl-C: HAProxy in front of three gunicorn
# nodes sharing PostgreSQL and Redis (a primary, a replica, three Sentinels), each on ports
# free at the start. STICKY=1 sticks each client to its node; LOCAL_MEMORY=1 gives each node
# its own cache instead of Redis. `make cluster-stop` stops one started in the background.
CLUSTER_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/sessions_cookies_jwt_cluster)
STICKY ?=
LOCAL_MEMORY ?=
cluster: install
	scripts/cluster_packages.sh
	DATABASE_URL=$(CLUSTER_DATABASE_URL) $(BIN)/python manage.py ensure_database
	DATABASE_URL=$(CLUSTER_DATABASE_URL) $(BIN)/python manage.py migrate --no-input
	DATABASE_URL=$(CLUSTER_DATABASE_URL) $(BIN)/python manage.py ensure_demo_user
	DATABASE_URL=$(CLUSTER_DATABASE_URL) $(BIN)/python scripts/cluster.py \
		$(if $(STICKY),--sticky) $(if $(LOCAL_MEMORY),--local-memory)

cluster-stop:
	$(BIN)/python scripts/cluster.py stop

# The cluster drill, every way in both session policies, on a database of its own beside
# CLUSTER_DATABASE_URL's (created and dropped): writes docs/cluster.md, docs/cluster.json and
# the README's table, in a few minutes. Smaller: make cluster-drill DRILL_ARGS="--clients 2".
DRILL_ARGS ?=
cluster-drill: install
	scripts/cluster_packages.sh
	DATABASE_URL=$(CLUSTER_DATABASE_URL) $(BIN)/python manage.py cluster_drill $(DRILL_ARGS)
