# make demo: set up (first run) and run xlcrm on the built-in sample.
# make test: set up (first run), lint, type-check and run the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint format templates docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/xlcrm demo --out xlcrm-demo

test: lint
	$(PY) -m pytest -q -n auto

lint: $(STAMP)
	$(VENV)/bin/ruff check xlcrm tests benchmarks
	$(VENV)/bin/ruff format --check xlcrm tests benchmarks
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format xlcrm tests benchmarks
	$(VENV)/bin/ruff check --fix xlcrm tests benchmarks

# Regenerate the committed templates, and the generated tables of README.md and docs/policy.md.
templates: $(STAMP)
	$(VENV)/bin/xlcrm templates --out workbook_templates --force

docs: $(STAMP)
	$(PY) -m xlcrm.docs README.md docs/policy.md

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/bench_check.py
	$(PY) benchmarks/bench_process.py
	$(PY) benchmarks/bench_consolidate.py

clean:
	rm -rf $(VENV) xlcrm-demo .pytest_cache .mypy_cache .ruff_cache
