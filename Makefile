# Two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: install install-dev run classroom test test-fast bench train-classic train-demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# The project itself, editable, for the `genre-lab` command (dependencies come pinned from requirements.txt).
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements-reference.txt $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-reference.txt
	bash scripts/install_chromium.sh
	bash scripts/install_nginx.sh
	touch $@

install: $(VENV)/.runtime

install-dev: $(VENV)/.dev

## Install and start the app on http://localhost:$(PORT)
run: install
	$(BIN)/python -m genre_core.app.launch --server.port $(PORT)

WORKERS ?= 2
## A class on one server: WORKERS app processes behind Debian's nginx on http://<this machine>:$(PORT)
classroom: install
	bash scripts/install_nginx.sh
	$(BIN)/python -m genre_core serve --workers $(WORKERS) --port $(PORT)

## Install the test tools (incl. Debian chromium) and run every test
test: install-dev
	$(BIN)/python -m pytest

## Everything but the browser and slow training tests (doctests included), under 3 min on 2 cores
test-fast: install-dev
	$(BIN)/python -m pytest -m "not slow and not browser"

bench: install-dev
	$(BIN)/python -m benchmarks.bench_features
	$(BIN)/python -m benchmarks.bench_tfrecords
	$(BIN)/python -m benchmarks.bench_app
	$(BIN)/python -m benchmarks.bench_memory
	$(BIN)/python -m benchmarks.bench_browser
	$(BIN)/python -m benchmarks.bench_classroom --students 8 --compare-workers 2

train-classic: install
	$(BIN)/python -m train classic --data ../shared/data/gtzan/features_30_sec.csv \
		--split-dir ../shared/data/gtzan/splits/fault_filtered --out models --n-jobs 2

clean:
	rm -rf $(VENV) .pytest_cache logs
