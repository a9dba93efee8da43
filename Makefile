# confhub: `make demo` and `make test` are the whole set-up; each builds .venv on first use
# from the hash-locked requirements, so a fresh machine runs exactly what CI tested.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.confhub-installed

.PHONY: demo test check coverage lint typecheck imports pytest lock clean help messages audit

help:
	@echo "make demo   - run the demo (fresh SQLite database, Thanh Hóa seeded) on http://127.0.0.1:8000"
	@echo "make test   - run the whole suite: pytest (on every core), ruff, mypy, the import layers"
	@echo "make check  - the fast subset while working: unit and integration tests without services, servers or browsers"
	@echo "make coverage - the whole pytest run under coverage.py (served processes included), its line total"
	@echo "make lock   - recompile requirements/*.txt from pyproject.toml (needs uv)"
	@echo "make audit  - check both locks (prod.txt, dev.txt) for known vulnerabilities with pip-audit"

$(STAMP): requirements/dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "confhub needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/confhub demo

# The whole suite. pytest runs on every core (pytest-xdist: PYTEST_WORKERS=auto is one worker a
# core; every fixture is safe across workers, tests/README.md) while ruff, mypy and the layers
# contract run beside it, using the moments the tests wait for a server, a browser or a socket.
# Output is kept whole per line; the first failure of any part fails the target.
PYTEST_WORKERS ?= auto
# pytest compiles and rewrites every test module and plugin it loads; with bytecode caching off
# (PYTHONDONTWRITEBYTECODE, set in many containers) it did so again in every worker of every run,
# and each served `confhub` process compiled confhub's source again: about half of collection.
# The suite writes its bytecode to __pycache__ (ignored by git) and reuses it.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest

test: $(STAMP)
	@$(MAKE) --no-print-directory -j 4 --output-sync=line pytest lint typecheck imports

pytest: $(STAMP)
	$(PYTEST) -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

# While working on the code: unit tests and the in-process integration tests, without PostgreSQL,
# Redis, browsers, served processes or the slow ones (well under a minute on two cores).
# schemathesis's pytest plugin only serves tests/integration/test_api_fuzz.py, which is slow:
# not loaded here, it no longer costs each process its import and the fuzz module's ~530 cases.
# One worker more than the cores: its tests wait on real timers (a notice worker's rest, a
# handshake window, a link's TTL) and on their first pages, and a third worker fills those waits
# on two cores (docs/performance.md, issue 15: 74-77 s against 94 s with two, 81 s with four).
CHECK_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

check: $(STAMP)
	$(PYTEST) -n $(CHECK_WORKERS) --dist worksteal -q -p no:schemathesis -m "not services and not e2e and not slow" tests/unit tests/integration $(PYTEST_ARGS)

# Line coverage of the whole pytest run ([tool.coverage] in pyproject.toml): the workers and every
# process a test starts (`confhub serve`, the command) are measured too (patch = subprocess, saved
# on SIGTERM), their data combined in .coverage-data/. Slower than `make test`; not part of it.
COVERAGE_DATA := $(CURDIR)/.coverage-data

coverage: $(STAMP)
	rm -rf $(COVERAGE_DATA) && mkdir -p $(COVERAGE_DATA)
	export COVERAGE_FILE=$(COVERAGE_DATA)/coverage; \
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/coverage run -m pytest -n $(PYTEST_WORKERS) --dist worksteal -q $(PYTEST_ARGS); \
	status=$$?; \
	$(BIN)/coverage combine -q $(COVERAGE_DATA) && $(BIN)/coverage report --skip-covered --sort=cover; \
	exit $$status

lock:
	uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q --custom-compile-command "make lock" -o requirements/prod.txt
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -q --custom-compile-command "make lock" -o requirements/dev.txt

# Known vulnerabilities of every locked release, from PyPI's advisory service through pip-audit.
# Fails on one that has a fixed release, and when the service cannot be used from this machine
# (exit 3; AUDIT_IF_UNREACHABLE=warn only prints that: .ci/run, docs/security.md "Dependencies").
# Exceptions live in requirements/audit-ignore.txt, each with its reason.
AUDIT_SERVICE ?= pypi
AUDIT_IF_UNREACHABLE ?= fail

audit: $(STAMP)
	$(BIN)/python requirements/audit.py --service $(AUDIT_SERVICE) --if-unreachable $(AUDIT_IF_UNREACHABLE) \
		--ignore-file requirements/audit-ignore.txt requirements/prod.txt requirements/dev.txt

clean:
	rm -rf $(VENV) .coverage-data .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache

# The UI's message catalogs. `messages` re-extracts every `_("...")` of src/ and templates/ into
# messages.pot and merges it into the Vietnamese catalog; then translate the new (empty or fuzzy)
# entries by hand — tests/unit/test_i18n.py fails until every one is done. English is the source
# language: its catalog holds only the run-time keys of confhub.core.i18n.DYNAMIC_MESSAGES.
LOCALES := src/confhub/locales

messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o $(LOCALES)/messages.pot --project=confhub --version=$$($(BIN)/python -c 'import confhub; print(confhub.__version__)') --copyright-holder="The confhub contributors" --sort-by-file --no-wrap .
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -l vi --init-missing --no-wrap
