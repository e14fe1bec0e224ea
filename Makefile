# HeiCADLearn course book. Two commands set up everything:
#   make book   # create .venv, install pinned requirements + helper package + web assets, build the executed site
#   make test   # run the whole test suite (builds the book first if needed)
SHELL := /bin/bash
.DEFAULT_GOAL := book
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# A second, Colab-like environment (Python 3.12, tests/envs/colab.txt) for the launch-notebook runs.
COLAB_VENV := .venv-colab
COLAB_PYTHON ?= python3.12
COLAB_PYENV ?= 3.12.1
# Downloads are cached inside the checkout (git-ignored); the mirror HEICADLEARN_DATA is read first.
export HEICADLEARN_CACHE ?= $(CURDIR)/data/cache

.PHONY: book test serve clean clean-cache lint help chapter robustness weigh lighthouse

help:
	@echo "make book | make test | make serve | make lint | make clean | make clean-cache | make weigh | make lighthouse"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt code/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e ./code
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

book: $(VENV)/.installed node_modules/.installed
	@start=$$(date +%s); \
	if $(BIN)/jupyter-book build . --builder html -n -W --keep-going; then \
	  echo "Built _build/html in $$(( $$(date +%s) - start )) s"; \
	else \
	  echo "Build FAILED. Execution reports (one per failing chapter; the failed check is at the end):"; \
	  for report in $$(find _build/html/reports -name '*.err.log' 2>/dev/null); do \
	    echo "  $$report"; grep -E '^[A-Za-z]*(Error|Exception)' "$$report" | tail -n 1 | sed 's|^|    |'; \
	  done; \
	  exit 1; \
	fi

# The Colab-like stack alone; the tests install the course package into it as a learner's setup cell does.
$(COLAB_VENV)/.installed: tests/envs/colab.txt
	rm -rf $(COLAB_VENV)
	PYENV_VERSION=$(COLAB_PYENV) $(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COLAB_VENV)/bin/python -m pip install --quiet -r tests/envs/colab.txt
	$(COLAB_VENV)/bin/python -m ipykernel install --sys-prefix --name colab --display-name "Python 3 (Colab-like)" >/dev/null
	touch $@

test: book $(COLAB_VENV)/.installed
	$(BIN)/python -m pytest

# Lecture handouts: Debian's Chromium prints every slide deck of _build/html/slides to
# _build/slides-pdf/<chapter>.pdf, one page per slide (`make book` makes the decks;
# `make handouts` prints the site as it is, without building it first).
.PHONY: slides-pdf handouts
slides-pdf: book
	@$(MAKE) --no-print-directory handouts

handouts:
	@test -d _build/html/slides || { echo "No slide decks yet: run 'make book' first."; exit 1; }
	PYTHONPATH=book/_ext $(BIN)/python -m heicadlearn_book.handouts _build/html _build/slides-pdf

lint: $(VENV)/.installed
	$(BIN)/pre-commit run --all-files

serve:
	@test -d _build/html || { echo "No site yet: run 'make book' first."; exit 1; }
	@echo "Serving the book at http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	$(BIN)/python -m http.server $(PORT) --bind $(HOST) --directory _build/html

clean:
	rm -rf _build

clean-cache: clean
	rm -rf .jupyter_cache data/cache $(COLAB_VENV)

# While writing one chapter: strict build of a temporary copy that executes only that chapter.
chapter: $(VENV)/.installed node_modules/.installed
	@test -n "$(NAME)" || { echo "usage: make chapter NAME=<chapter file name without .md>"; exit 2; }
	$(BIN)/python scripts/build_chapter.py $(NAME)

# Benchmark (not part of `make test`): re-run the chapters that train or sample with other seeds
# and on one thread, outside the cache; prints every hidden check and glued value per run.
SEEDS ?= 1 2 3
robustness: $(VENV)/.installed
	$(BIN)/python scripts/robustness.py --seeds "$(SEEDS)"

# Page weight (issue #14): every page as Chromium fetches it on first load, text gzip-compressed,
# page by page with the largest items; fails when a page is over its budget (scripts/weigh.py).
weigh: $(VENV)/.installed
	@test -d _build/html || { echo "No site yet: run 'make book' first."; exit 1; }
	$(BIN)/python scripts/weigh.py

# Benchmark (not part of `make test`): Lighthouse performance, accessibility and best-practices
# scores of every page with mobile emulation; RUNS=3 reports each page's median run;
# THROTTLING=devtools throttles the browser itself instead of Lighthouse's simulation.
RUNS ?= 1
THROTTLING ?= simulate
lighthouse: $(VENV)/.installed node_modules/.installed
	@test -d _build/html || { echo "No site yet: run 'make book' first."; exit 1; }
	$(BIN)/python scripts/lighthouse.py --runs $(RUNS) --throttling $(THROTTLING)
