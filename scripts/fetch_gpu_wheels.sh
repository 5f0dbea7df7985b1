#!/usr/bin/env bash
# Prepare what an offline GPU machine needs to run scripts/gpu_check.sh (run it HERE,
# where the package registries can be reached; `make gpu-wheels` does).
# The GPU image has python3 3.12 with torch (CUDA), numpy, scipy, typer, rich, pyarrow,
# pyyaml, matplotlib, pytest and hypothesis, but no network and no sofar / netCDF4 /
# cftime / soundfile (pydantic may be missing too). This script
#   1. downloads CPython 3.12 manylinux x86_64 wheels (no dependency resolution: the list
#      is the runtime closure of binsynth's `sofar`, `soundfile` and `pydantic` requirements,
#      read from this checkout's .venv, minus what the image has) into .gpu_wheels/ (git-ignored), pinned to the
#      versions the .venv runs where it has them;
#   2. makes sure the measured AXD HRTF set is in hrtf_cache/axd-example.sofa
#      (`binsynth hrtf pull axd-example`, verified against its SHA-256).
# Carry .gpu_wheels and hrtf_cache to the GPU machine; gpu_check.sh installs the wheels
# into a scratch folder without network. Both together must stay well under 60 MiB.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
DEST=${GPU_WHEELS:-$ROOT/.gpu_wheels}
LIMIT_MIB=${GPU_WHEELS_LIMIT_MIB:-60}

if [ ! -x "$PY" ]; then
    echo "fetch_gpu_wheels.sh: $PY not found; run 'make setup' first (or set PY=...)" >&2
    exit 2
fi

# Runtime closure of sofar + soundfile + pydantic as "name==version" lines (markers evaluated for
# CPython 3.12 on Linux x86_64), minus what the GPU machine already has.
mapfile -t REQS < <("$PY" - <<'EOF'
import importlib.metadata as md
from packaging.requirements import Requirement

ENV = {
    "python_version": "3.12", "python_full_version": "3.12.0", "sys_platform": "linux",
    "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "os_name": "posix", "extra": "",
}
# on the GPU machine already (and compiled against its torch/numpy): never shipped
PRESENT = {"numpy", "scipy", "torch", "typer", "rich", "pyyaml", "matplotlib", "pytest", "hypothesis", "pyarrow"}

def norm(name):
    return name.lower().replace("_", "-").replace(".", "-")

# pydantic is not on every image's list: shipped, and skipped there if present
seen, todo = {}, ["sofar", "soundfile", "pydantic"]
while todo:
    name = todo.pop()
    if norm(name) in seen or norm(name) in PRESENT:
        continue
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        seen[norm(name)] = name  # not in the .venv: download the newest
        continue
    seen[norm(name)] = f"{dist.metadata['Name']}=={dist.version}"
    for req in dist.requires or []:
        r = Requirement(req)
        if r.marker is None or r.marker.evaluate(ENV):
            todo.append(r.name)
print("\n".join(sorted(seen.values(), key=str.lower)))
EOF
)

echo "wheels for CPython 3.12 manylinux x86_64 -> $DEST:"
printf '  %s\n' "${REQS[@]}"
# download into a fresh folder, then replace $DEST: no stale versions are left behind
TMP=$(mktemp -d "$DEST.tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PIP_ARGS=(download --quiet --disable-pip-version-check --only-binary=:all: --no-deps
          --python-version 3.12 --implementation cp
          --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64
          -d "$TMP")
for req in "${REQS[@]}"; do
    if ! "$PY" -m pip "${PIP_ARGS[@]}" "$req"; then
        name=${req%%==*}
        echo "fetch_gpu_wheels.sh: no cp312 wheel for $req; trying the newest $name" >&2
        "$PY" -m pip "${PIP_ARGS[@]}" "$name"
    fi
done

# every wheel must install on CPython 3.12 / manylinux x86_64 (pure Python or cp312)
bad=0
for whl in "$TMP"/*.whl; do
    tags=$(basename "$whl" .whl | awk -F- '{print $(NF-2)"-"$(NF-1)"-"$NF}')
    case "$tags" in
        py3-none-any|py2.py3-none-any|*-none-any) ;;
        cp312-cp312-*manylinux*x86_64*|cp312-abi3-*manylinux*x86_64*|cp3*-abi3-*manylinux*x86_64*) ;;
        py3-none-*manylinux*x86_64*|py2.py3-none-*manylinux*x86_64*) ;;
        *) echo "fetch_gpu_wheels.sh: $(basename "$whl"): tags $tags do not fit CPython 3.12 x86_64" >&2; bad=1 ;;
    esac
done
[ "$bad" = 0 ] || exit 1
rm -rf "$DEST"
mv "$TMP" "$DEST"
trap - EXIT

# the measured HRTF set the tests and the benchmark use (verified on every pull)
if [ -n "${BINSYNTH_HRTF_CACHE:-}" ] && [ "$(realpath -m "$BINSYNTH_HRTF_CACHE")" != "$ROOT/hrtf_cache" ]; then
    echo "fetch_gpu_wheels.sh: note: BINSYNTH_HRTF_CACHE=$BINSYNTH_HRTF_CACHE is ignored here;" \
         "the GPU check reads $ROOT/hrtf_cache" >&2
fi
BINSYNTH_HRTF_CACHE="$ROOT/hrtf_cache" "$ROOT/.venv/bin/binsynth" hrtf pull axd-example
test -f "$ROOT/hrtf_cache/axd-example.sofa"

size_kib=$(du -skL "$DEST" "$ROOT/hrtf_cache" | awk '{s += $1} END {print s}')
echo "carry: .gpu_wheels $(du -shL "$DEST" | cut -f1), hrtf_cache $(du -shL "$ROOT/hrtf_cache" | cut -f1)," \
     "$((size_kib / 1024)) MiB in all (limit ${LIMIT_MIB} MiB)"
if [ "$size_kib" -ge $((LIMIT_MIB * 1024)) ]; then
    echo "fetch_gpu_wheels.sh: .gpu_wheels + hrtf_cache exceed ${LIMIT_MIB} MiB" >&2
    exit 1
fi
ls -1 "$DEST"
