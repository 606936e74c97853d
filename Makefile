# Astute — everything runs from the project's own virtual environment in .venv/
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup setup-train demo test lint bench clean

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

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/python -m ruff check astute_cli tests benchmarks

bench: setup
	$(BIN)/astute benchmark --data ../shared/data/rtsd-sample/annotations.json --data annotations/ --threads 2 \
		--json benchmarks/results/bundled.json --chart benchmarks/results/lead_time_by_size.png

clean:
	rm -rf out .pytest_cache
