"""Smoke tests of the render benchmark: it runs end to end and ends with one JSON line.

Runs ``benchmarks/bench_render.py --quick`` (2 short scenes per renderer, 16 kHz, air off,
CPU) in a subprocess, once with pyroomacoustics and once with ``--no-pra`` (where
pyroomacoustics is made unimportable, to prove the path never touches it). Speed is never
asserted here — only that every figure is present, finite and positive, and that the
JSON has the documented shape. Needs the measured HRTF set; the first test also needs
pyroomacoustics (the reference renderer).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_render.py"

TOP_KEYS = {
    "machine", "device", "device_name", "threads", "pra_max_order", "duration_s", "n_sources",
    "pra", "air_absorption_modes", "results", "floors", "floors_met",
}
RESULT_KEYS = {
    "fs_hz", "air_absorption", "device", "binsynth_scenes", "binsynth_scenes_per_s",
    "binsynth_best_scenes_per_s", "pra_scenes", "pra_scenes_per_s", "ratio", "ratio_best", "sanity",
}
BINSYNTH_POSITIVE = ("binsynth_scenes_per_s", "binsynth_best_scenes_per_s")
PRA_FIELDS = ("pra_scenes", "pra_scenes_per_s", "ratio", "ratio_best", "sanity", "pra_stage_share")
FLOOR_KEYS = {"air_off", "air_on"}

# Runs the benchmark with pyroomacoustics unimportable (``import pyroomacoustics`` raises).
_NO_PRA_RUNNER = (
    "import runpy, sys; sys.modules['pyroomacoustics'] = None; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def _hrtf_args(axd_path) -> list[str]:
    # a local copy of the SOFA file, as the fixture uses
    return ["--hrtf", str(axd_path)] if os.environ.get("BINSYNTH_TEST_SOFA") else []


def _run(cmd: list[str]) -> tuple[dict, str]:
    proc = subprocess.run(cmd, cwd=BENCH.parents[1], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert lines, "benchmark printed nothing"
    report = json.loads(lines[-1])
    # the human-readable table comes before the JSON line
    assert "scenes/s" in proc.stdout[: proc.stdout.rfind(lines[-1])]
    return report, proc.stderr


def _check_common(report: dict) -> None:
    assert TOP_KEYS <= report.keys(), TOP_KEYS - report.keys()
    assert report["device"] == "cpu"
    assert report["pra_max_order"] == 10
    assert _positive(report["threads"])
    assert report["duration_s"] == 2.0 and report["n_sources"] == 3

    assert set(report["floors"]) == set(report["floors_met"])
    assert all(_positive(v) for v in report["floors"].values())
    for name, met in report["floors_met"].items():
        assert isinstance(met, dict) and set(met) == FLOOR_KEYS, (name, met)
        # floors apply to 10 s scenes only: a quick run reports them as not applicable
        assert all(v is None for v in met.values()), (name, met)

    for res in report["results"]:
        assert RESULT_KEYS <= res.keys(), RESULT_KEYS - res.keys()
        assert res["fs_hz"] == 16000 and res["device"] == "cpu"
        assert isinstance(res["air_absorption"], bool)
        assert res["binsynth_scenes"] == 2
        for key in BINSYNTH_POSITIVE:
            assert _positive(res[key]), (key, res[key])


@pytest.mark.slow
def test_bench_quick_ends_with_one_json_line(axd_path):
    pytest.importorskip("pyroomacoustics")
    report, _ = _run([sys.executable, str(BENCH), "--quick", "--device", "cpu", *_hrtf_args(axd_path)])
    _check_common(report)
    assert report["pra"] is True and report["pyroomacoustics"]
    # --quick runs one air setting (off) to stay fast
    assert report["air_absorption_modes"] == ["off"]

    (res,) = report["results"]
    assert res["air_absorption"] is False
    assert res["pra_scenes"] == 2
    for key in ("pra_scenes_per_s", "ratio", "ratio_best"):
        assert _positive(res[key]), (key, res[key])
    diff = res["sanity"]["rms_diff_db"]
    assert len(diff) == 2 and all(math.isfinite(d) for d in diff)


@pytest.mark.slow
def test_bench_no_pra_never_imports_pyroomacoustics(axd_path):
    cmd = [
        sys.executable, "-c", _NO_PRA_RUNNER, str(BENCH),
        "--quick", "--device", "cpu", "--no-pra", "--air", "off,on", "--no-breakdown", *_hrtf_args(axd_path),
    ]
    report, _ = _run(cmd)
    _check_common(report)
    assert report["pra"] is False and report["pyroomacoustics"] is None
    assert report["air_absorption_modes"] == ["off", "on"]
    assert [r["air_absorption"] for r in report["results"]] == [False, True]
    for res in report["results"]:
        for key in PRA_FIELDS:
            assert res[key] is None, (key, res[key])


def _load_bench():
    if "bench_render" in sys.modules:
        return sys.modules["bench_render"]
    spec = importlib.util.spec_from_file_location("bench_render", BENCH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_render"] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def test_bench_air_option():
    bench = _load_bench()
    assert bench.parse_args([]).air == [False, True]  # both rows by default
    assert bench.parse_args(["--quick"]).air == [False]
    assert bench.parse_args(["--quick", "--air", "off,on"]).air == [False, True]
    assert bench.parse_args(["--air", "on"]).air == [True]
    assert bench.parse_args(["--air", "ON, off"]).air == [True, False]
    assert bench.parse_args(["--air-absorption"]).air == [True]  # the old spelling
    assert bench.parse_args(["--no-pra"]).no_pra is True
    for bad in (["--air", "maybe"], ["--air", ","], ["--air", "off", "--air-absorption"]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)


def test_bench_floors_are_per_air_setting():
    bench = _load_bench()

    def row(air, ratio, rate=100.0, fs=16000):
        return {"fs_hz": fs, "air_absorption": air, "ratio": ratio, "binsynth_scenes_per_s": rate}

    rows = [row(False, 4.9), row(True, 84.0), row(False, 1.0, fs=48000)]
    met = bench.floors_met(rows, cuda=False, full_scenes=True)
    assert met["cpu_ratio_vs_pra_16k"] == {"air_off": False, "air_on": True}
    assert met["gpu_scenes_per_s_16k"] == {"air_off": None, "air_on": None}
    # an air setting that was not run, or no pyroomacoustics: not applicable
    assert bench.floors_met([row(True, 84.0)], False, True)["cpu_ratio_vs_pra_16k"] == {"air_off": None, "air_on": True}
    assert bench.floors_met([row(False, None)], False, True)["cpu_ratio_vs_pra_16k"] == {"air_off": None, "air_on": None}
    gpu = bench.floors_met([row(False, None, 3500.0), row(True, None, 2900.0)], cuda=True, full_scenes=True)
    assert gpu["gpu_scenes_per_s_16k"] == {"air_off": True, "air_on": False}
    assert gpu["cpu_ratio_vs_pra_16k"] == {"air_off": None, "air_on": None}
    assert all(v is None for m in bench.floors_met(rows, False, False).values() for v in m.values())


def test_receivers_benchmark_runs_and_reports_every_rate(axd_path):
    """bench_receivers.py on one 1 s scene: binaural, binaural + FOA and moving rates, their
    ratios and the floors' verdicts in one JSON line (figures present, never judged here)."""
    cmd = [sys.executable, str(BENCH.with_name("bench_receivers.py")), "--scenes", "1", "--moving-scenes", "1",
           "--duration", "1", "--repeats", "1", *_hrtf_args(axd_path)]
    proc = subprocess.run(cmd, cwd=BENCH.parents[1], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("binaural_scenes_per_s", "binaural_foa_scenes_per_s", "both_vs_binaural", "moving_scenes_per_s",
                "moving_vs_static", "static_scenes_per_s_same_scenes"):
        assert _positive(report[key]), key
    assert report["keyframes_per_moving_scene"] >= 3 * 10  # three sources, 1 s, a keyframe every 100 ms
    assert set(report["floors_met"]) == {"both_receivers_ge_0.6", "moving_ge_0.25"}
    assert report["fs_hz"] == 16000 and report["device"] == "cpu"
