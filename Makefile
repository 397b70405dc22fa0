# Two commands set up everything: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

CHROMIUM := /usr/bin/chromium

.PHONY: install browser fonts run test lint format bench bench-growth bench-load bench-library

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: $(INSTALLED)
	mkdir -p $${DATA_DIR:-data}
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py fetch_clip_weights --if-reachable
	@echo "The first account made on the sign-up page administers the site; or make one with: $(BIN)/python manage.py createsuperuser"
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

# The end-to-end test drives Debian's chromium; where it cannot be installed that test is skipped, saying why.
browser:
	@test -x $(CHROMIUM) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		echo "Chromium could not be installed: the browser test will be skipped"

# HarfBuzz's subsetter keeps the PDF report small; without it fonts are embedded whole.
fonts:
	@ldconfig -p | grep -q libharfbuzz-subset.so.0 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq libharfbuzz-subset0 >/dev/null; } || \
		echo "HarfBuzz-Subset could not be installed: PDF reports will embed whole fonts"

test: $(INSTALLED) browser fonts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(INSTALLED)
	$(BIN)/python -m analysis.bench

bench-growth: $(INSTALLED)
	$(BIN)/python -m analysis.bench.growth

bench-load: $(INSTALLED)
	$(BIN)/python -m analysis.bench.load

bench-library: $(INSTALLED)
	$(BIN)/python -m analysis.bench.library
