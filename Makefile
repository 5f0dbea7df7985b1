# binsynth — every target sets up its own environment on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BENCH_ARGS ?=
DEMO_OUT ?= demo_out

.PHONY: setup system-deps test demo bench train clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned to the CPU wheel: anything that pulls torch later keeps it
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# nothing above may have replaced the pinned CPU torch (torchcodec in [dev] needs no torch)
	$(BIN)/python -c "import sys, torch; v = torch.__version__; sys.exit(0 if v.split('+')[0] == '2.13.0' else f'setup: torch became {v}; expected 2.13.0 (CPU)')"
	touch $@

setup: system-deps $(STAMP)

# FFmpeg's shared libraries: HF datasets decodes Audio() only through torchcodec, which loads
# them at import. Installed with apt when missing and we are root (CI, containers); elsewhere
# a warning says what to install. Idempotent: nothing happens once ffmpeg is on PATH.
system-deps:
	@if command -v ffmpeg >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing ffmpeg (apt) for torchcodec / HF datasets Audio decoding"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg; \
	else \
	  echo "warning: ffmpeg not found; install FFmpeg (e.g. sudo apt-get install ffmpeg) or tests/test_hf_decode.py fails" >&2; \
	fi

test: setup
	$(BIN)/python -m pytest -q

demo: setup
	$(BIN)/binsynth demo --out $(DEMO_OUT)
	$(BIN)/binsynth render recipes/demo.yaml --out $(DEMO_OUT)/dataset

# Renders recipes/train.yaml into runs/train/dataset if absent, builds a tiny Qwen2-Audio
# offline, then SFT -> GRPO -> held-out eval; resumes from runs/train/*/checkpoint.
train: setup
	$(BIN)/binsynth train all configs/train.yaml

bench: setup
	mkdir -p bench_out
	$(BIN)/python benchmarks/bench_pipeline.py > bench_out/pipeline.json
	$(BIN)/python benchmarks/bench_memory.py > bench_out/memory.json
	$(BIN)/python benchmarks/bench_receivers.py > bench_out/receivers.json
	BINSYNTH_BENCH_PIPELINE_JSON=bench_out/pipeline.json BINSYNTH_BENCH_MEMORY_JSON=bench_out/memory.json \
	    $(BIN)/python benchmarks/bench_render.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache runs

# Wheels (sofar, netCDF4, cftime, soundfile, ... for CPython 3.12 manylinux x86_64) and the
# AXD SOFA file for an offline GPU machine: carry .gpu_wheels and hrtf_cache, then run
# `bash scripts/gpu_check.sh` there.
.PHONY: gpu-wheels
gpu-wheels: setup
	bash scripts/fetch_gpu_wheels.sh
