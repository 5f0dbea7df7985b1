#!/usr/bin/env bash
# GPU check, in ONE command on an offline CUDA machine: `bash scripts/gpu_check.sh`
# from the repository root, with .gpu_wheels/ and hrtf_cache/ carried along (both made
# here by `make gpu-wheels`).
#
# Steps (each is logged with its exit status and time; a failing step does not stop the
# ones after it, so the log always comes back; the script exits non-zero if any failed):
#   install    the carried wheels (sofar, netCDF4, cftime, soundfile, ...) into a scratch
#              folder, without network; wheels whose distribution python3 already has are
#              skipped (the machine's own packages are never shadowed)
#   env        nvidia-smi, python/torch/CUDA versions; fails if torch sees no CUDA GPU
#   imports    binsynth and its SOFA/audio dependencies import; the AXD SOFA file verifies
#   pytest-cuda   tests/test_render.py -k cuda (CUDA vs CPU rendering, noise); fails if
#              they are skipped rather than run
#   agreement  CPU vs CUDA: max abs difference of a few rendered 3 s scenes per rate and
#              air setting (printed; fails above 1e-3 of the scene's peak)
#   pipeline-{16k,48k}-CORPUS (CORPUS in PIPE_CORPORA, default "synthetic flac")
#              end to end (issue 4): benchmarks/bench_pipeline.py --device cuda, cold
#              `binsynth render` commands with one worker per CPU core, 10 s scenes with three
#              sources, FLAC out; dry sources generated (synthetic) or read from a folder of
#              FLAC/WAV files; scenes/s cold and steady, stage shares, GPU utilisation
#   bench      benchmarks/bench_render.py --device cuda --no-pra --rates 16000,48000
#              --scenes 1024,256 --repeats 2 (both air settings; one warm-up chunk each)
#   profile    benchmarks/profile_render.py --device cuda: host vs device time of one chunk
# (The CPU physics tests are CI's; they are not repeated here.)
#
# Output in $OUT (default ./gpu_check_out): gpu_check.log (everything), bench_gpu.json
# (the render benchmark's JSON line), pipeline_{16000,48000}_CORPUS.json, profiles.tgz,
# pytest_cuda.xml. Sized for ~8 minutes at most: every step runs under its own `timeout`,
# and none runs past a budget of GPU_CHECK_BUDGET_S (default 450) seconds from the start.
#
# Environment overrides (for a dry run elsewhere): PYTHON (default python3), OUT,
# GPU_SITE (default /tmp/gpu_site), BENCH_ARGS (replaces the benchmark's scene options),
# GPU_CHECK_BUDGET_S, GPU_CHECK_STEPS, PIPE_CORPORA, PIPE_SCENES_16K, PIPE_SCENES_48K,
# PIPE_WORKERS, PIPE_DEVICE, PIPE_FLAC_LEVEL.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$ROOT/gpu_check_out}
SITE=${GPU_SITE:-/tmp/gpu_site}
WHEELS=$ROOT/.gpu_wheels
BENCH_ARGS=${BENCH_ARGS:---scenes 1024,256 --repeats 2}
PIPE_SCENES_16K=${PIPE_SCENES_16K:-12288}
PIPE_SCENES_48K=${PIPE_SCENES_48K:-6144}
PIPE_WORKERS=${PIPE_WORKERS:-$(nproc)}
mkdir -p "$OUT" "$SITE"

export PYTHONPATH="$ROOT:$SITE${PYTHONPATH:+:$PYTHONPATH}"
export BINSYNTH_HRTF_CACHE=$ROOT/hrtf_cache
export MPLBACKEND=Agg
export PYTHONUNBUFFERED=1
export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# run CMD under a time limit: its own cap (seconds), never past the whole check's deadline
DEADLINE=$((SECONDS + ${GPU_CHECK_BUDGET_S:-450}))
limit() {
    local s=$1 left=$((DEADLINE - SECONDS))
    shift
    [ "$left" -lt "$s" ] && s=$left
    if [ "$s" -lt 5 ]; then
        echo "(no time left in the ${GPU_CHECK_BUDGET_S:-450} s budget: skipped)"
        return 124
    fi
    if command -v timeout >/dev/null 2>&1; then
        timeout --kill-after=10 "$s" "$@"
    else
        "$@"
    fi
}

FAILED=()
step() {
    local name=$1
    shift
    local t0=$SECONDS
    echo
    echo "=== [$name] start $(date -u +%H:%M:%S) UTC ==="
    "$@"
    local rc=$?
    [ "$rc" -eq 124 ] && echo "($name: timed out)"
    echo "=== [$name] rc=$rc, $((SECONDS - t0)) s ==="
    [ "$rc" -eq 0 ] || FAILED+=("$name(rc=$rc)")
    return 0
}

do_install() {
    local list
    list=$(mktemp)
    # wheels whose distribution is missing: the rest are already on this python
    "$PYTHON" - "$WHEELS" "$list" <<'EOF' || return 1
import importlib.metadata as md
import pathlib
import sys

wheels = sorted(pathlib.Path(sys.argv[1]).glob("*.whl"))
if not wheels:
    sys.exit(f"no wheels in {sys.argv[1]}: run `make gpu-wheels` where the network is, and carry .gpu_wheels")
need = []
for w in wheels:
    name = w.name.split("-")[0]
    try:
        print(f"  {name}: already installed ({md.version(name)}), wheel skipped")
    except md.PackageNotFoundError:
        need.append(str(w))
        print(f"  {name}: installing {w.name}")
pathlib.Path(sys.argv[2]).write_text("\n".join(need))
EOF
    mapfile -t need <"$list"
    rm -f "$list"
    [ "${#need[@]}" -gt 0 ] && [ -n "${need[0]}" ] || { echo "  nothing to install"; return 0; }
    if "$PYTHON" -m pip --version >/dev/null 2>&1; then
        limit 60 "$PYTHON" -m pip install --quiet --no-index --no-deps --no-compile --upgrade --target "$SITE" "${need[@]}"
    else  # no pip: a wheel is a zip laid out for site-packages (none of these has .data/)
        echo "  (no pip for $PYTHON: unpacking the wheels)"
        "$PYTHON" -c 'import sys, zipfile; [zipfile.ZipFile(w).extractall(sys.argv[1]) for w in sys.argv[2:]]' \
            "$SITE" "${need[@]}"
    fi
}

do_env() {
    limit 30 nvidia-smi || echo "(nvidia-smi failed)"
    "$PYTHON" - <<'EOF'
import platform, sys
import torch
print(f"python {platform.python_version()} ({sys.executable})")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
print(f"CPU threads (torch): {torch.get_num_threads()}")
if not torch.cuda.is_available():
    sys.exit("torch sees no CUDA GPU")
for i in range(torch.cuda.device_count()):
    p = torch.cuda.get_device_properties(i)
    print(f"cuda:{i}: {p.name}, {p.total_memory / 2**30:.1f} GiB, capability {p.major}.{p.minor}")
EOF
}

do_imports() {
    "$PYTHON" - <<'EOF'
import importlib

for mod in ("numpy", "scipy", "torch", "sofar", "netCDF4", "cftime", "soundfile", "typer", "rich", "pydantic",
            "yaml", "matplotlib", "pytest", "hypothesis"):
    m = importlib.import_module(mod)
    print(f"  {mod} {getattr(m, '__version__', '?')}  {getattr(m, '__file__', '')}")
import binsynth
import binsynth.acoustics.hrtf
import binsynth.acoustics.registry as registry
import binsynth.render.renderer
print(f"  binsynth {binsynth.__version__}  {binsynth.__file__}")
print(f"  HRTF cache {registry.cache_dir()}")
print(f"  axd-example verified: {registry.pull('axd-example')}")
EOF
}

# pytest with a JUnit report; with --require-run, fail if nothing ran or anything skipped
do_pytest() {
    local cap=$1 xml=$2 require=$3
    shift 3
    limit "$cap" "$PYTHON" -m pytest -q -p no:cacheprovider --junitxml="$xml" "$@"
    local rc=$?
    [ "$rc" -ne 0 ] && return "$rc"
    [ "$require" = "--require-run" ] || return 0
    "$PYTHON" - "$xml" <<'EOF'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
n, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
print(f"  {n} tests, {skipped} skipped")
if n == 0 or skipped:
    sys.exit("the CUDA tests were skipped, not run")
EOF
}

do_agreement() {
    limit 60 "$PYTHON" - <<'EOF'
import sys

import numpy as np
import torch

sys.path.insert(0, "benchmarks")
import bench_render as b  # noqa: E402
from binsynth.acoustics.brir import BRIRSynthesizer  # noqa: E402
from binsynth.acoustics.sets import load_hrtf  # noqa: E402
from binsynth.render.renderer import Renderer  # noqa: E402

N, DUR, TOL_REL = 4, 3.0, 1e-3
worst = 0.0
geoms = b.make_geometries(N, seed=7)
for fs in (16000, 48000):
    hrtf = load_hrtf("axd-example", fs)
    bank = b.make_dry_bank(fs, DUR, 7)
    cpu_r = Renderer(BRIRSynthesizer(hrtf, fs, "cpu"))
    gpu_r = Renderer(BRIRSynthesizer(hrtf, fs, "cuda"))
    for air in (False, True):
        scenes = b.build_scenes(geoms, bank, DUR, air)
        cpu, _ = cpu_r.render(scenes)
        gpu, _ = gpu_r.render(scenes)
        torch.cuda.synchronize()
        for i, (a, g) in enumerate(zip(cpu, gpu)):
            a, g = np.asarray(a, np.float64), np.asarray(g, np.float64)
            diff, peak = float(np.max(np.abs(a - g))), float(np.max(np.abs(a)))
            rel = diff / max(peak, 1e-30)
            worst = max(worst, rel)
            print(f"  {fs} Hz air {'on ' if air else 'off'} scene {i}: max|cpu-cuda| = {diff:.2e} "
                  f"(peak {peak:.3f}, {20 * np.log10(max(rel, 1e-30)):.0f} dB re peak)")
print(f"  worst: {worst:.2e} of peak (limit {TOL_REL:g})")
sys.exit(0 if worst <= TOL_REL else 1)
EOF
}

do_bench() {
    rm -f "$OUT/bench_gpu.json"
    # shellcheck disable=SC2086  # BENCH_ARGS is a list of options
    limit 120 "$PYTHON" benchmarks/bench_render.py --device cuda --no-pra --rates 16000,48000 $BENCH_ARGS \
        | tee /tmp/bench_gpu.out
    local rc=$?
    tail -n 1 /tmp/bench_gpu.out >"$OUT/bench_gpu.json"
    "$PYTHON" -c 'import json, sys; json.load(open(sys.argv[1]))' "$OUT/bench_gpu.json" 2>/dev/null \
        || { echo "no JSON line from the benchmark"; rm -f "$OUT/bench_gpu.json"; [ "$rc" -ne 0 ] || rc=1; }
    return "$rc"
}

do_pipeline() {
    local fs=$1 scenes=$2 corpus=$3
    rm -f "$OUT/pipeline_${fs}_$corpus.json"
    limit 110 "$PYTHON" benchmarks/bench_pipeline.py --device "${PIPE_DEVICE:-cuda}" --runs local_N \
        --workers "$PIPE_WORKERS" --fs "$fs" --duration 10 --sources 3 --scenes "$scenes" --shard-size 32 \
        --corpus "$corpus" --flac-level "${PIPE_FLAC_LEVEL:-5}" --keep "$OUT/profiles" >"$OUT/pipeline_${fs}_$corpus.json"
}

# GPU_CHECK_STEPS: the steps to run (default all); e.g. "install env imports pipeline"
want() { [ -z "${GPU_CHECK_STEPS:-}" ] || [[ " $GPU_CHECK_STEPS " == *" $1 "* ]]; }

main() {
    echo "binsynth GPU check: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(hostname), repo $ROOT"
    echo "git: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')" \
         "($(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l) changed/untracked paths)"
    echo "PYTHON=$PYTHON PYTHONPATH=$PYTHONPATH BINSYNTH_HRTF_CACHE=$BINSYNTH_HRTF_CACHE OUT=$OUT"
    want install && step install do_install
    want env && step env do_env
    want imports && step imports do_imports
    want pytest-cuda && step pytest-cuda do_pytest 60 "$OUT/pytest_cuda.xml" --require-run tests/test_render.py -k cuda
    want agreement && step agreement do_agreement
    if want pipeline; then
        for corpus in ${PIPE_CORPORA:-synthetic flac}; do
            step "pipeline-16k-$corpus" do_pipeline 16000 "$PIPE_SCENES_16K" "$corpus"
            step "pipeline-48k-$corpus" do_pipeline 48000 "$PIPE_SCENES_48K" "$corpus"
        done
        # one file back instead of one per run (the device tool returns at most 8)
        [ -d "$OUT/profiles" ] && tar czf "$OUT/profiles.tgz" -C "$OUT" profiles && rm -rf "$OUT/profiles"
    fi
    want bench && step bench do_bench
    want profile && step profile limit 60 "$PYTHON" benchmarks/profile_render.py --device cuda --fs 16000 --scenes 128
    echo
    if [ "${#FAILED[@]}" -eq 0 ]; then
        echo "GPU check: all steps passed ($SECONDS s)"
        return 0
    fi
    echo "GPU check: FAILED steps: ${FAILED[*]} ($SECONDS s)"
    return 1
}

main 2>&1 | tee "$OUT/gpu_check.log"
exit "${PIPESTATUS[0]}"
