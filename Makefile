# Astute — everything runs from the project's own virtual environment in .venv/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup setup-train demo test lint bench clean chromium

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Training tools (torch, ultralytics): a few GB, only needed for `astute train` / `astute export MODEL.pt`.
setup-train: setup
	$(BIN)/python -m pip install -q -e '.[train,dev]'

demo: setup
	mkdir -p out
	$(BIN)/astute annotate astute_cli/clips/demo.mp4 -o out/demo.astute.mp4
	@echo "Watch out/demo.astute.mp4; the alerts are in out/demo.astute.events.json"

test: setup chromium
	$(BIN)/python -m pytest -q

# The drive report's browser test needs Chromium (Debian package): installed here when missing and run as root,
# otherwise that test is skipped and says why.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	echo "no Chromium (apt-get install chromium as root): the report's browser test will be skipped"

lint: setup
	$(BIN)/python -m ruff check astute_cli tests benchmarks

bench: setup
	$(BIN)/astute benchmark --data ../shared/data/rtsd-sample/annotations.json --data annotations/ --threads 2 \
		--json benchmarks/results/bundled.json --chart benchmarks/results/lead_time_by_size.png

clean:
	rm -rf out .pytest_cache
