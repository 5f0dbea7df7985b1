# binsynth — every target sets up its own environment on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH_ARGS ?=
DEMO_OUT ?= demo_out

.PHONY: setup test demo bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned to the CPU wheel: anything that pulls torch later keeps it
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(STAMP)

test: setup
	$(BIN)/python -m pytest -q

demo: setup
	$(BIN)/binsynth demo --out $(DEMO_OUT)
	$(BIN)/binsynth render recipes/demo.yaml --out $(DEMO_OUT)/dataset

bench: setup
	$(BIN)/python benchmarks/bench_render.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache

# Wheels (sofar, netCDF4, cftime, soundfile, ... for CPython 3.12 manylinux x86_64) and the
# AXD SOFA file for an offline GPU machine: carry .gpu_wheels and hrtf_cache, then run
# `bash scripts/gpu_check.sh` there.
.PHONY: gpu-wheels
gpu-wheels: setup
	bash scripts/fetch_gpu_wheels.sh
