"""Rendering datasets: byte-identical reruns, workers, SIGKILL and resume, HF datasets, refusal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from binsynth.io.codecs import decode
from conftest import BIN, descendants, rendered, shard_bytes, shrunk_demo_recipe
from conftest import run_cli as run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_recipe(tmp_path_factory) -> Path:
    """The demo recipe, shrunk: 1 s clips, shards of 2 scenes, 6 train + 3 test scenes."""
    return shrunk_demo_recipe(tmp_path_factory.mktemp("recipe"), {"train": 6, "test": 3})


@pytest.fixture(scope="module")
def reference(small_recipe, tmp_path_factory) -> Path:
    return rendered(small_recipe, tmp_path_factory.mktemp("ref") / "ds")


def test_layout_manifest_and_card(reference):
    names = sorted(p.name for p in reference.iterdir())
    assert names == ["README.md", "data", "manifest.json", "recipe.yaml"]
    assert sorted(shard_bytes(reference)) == [
        "test-00000-of-00002.parquet", "test-00001-of-00002.parquet",
        "train-00000-of-00003.parquet", "train-00001-of-00003.parquet", "train-00002-of-00003.parquet",
    ]
    manifest = json.loads((reference / "manifest.json").read_text())
    assert sum(r["rows"] for r in manifest["shards"].values()) == 9
    card = (reference / "README.md").read_text()
    assert "config_name: default" in card and "+90 = left" in card and "channel 0 = left ear" in card
    assert "CC BY-SA 3.0" in card


def test_rerender_is_byte_identical_and_workers_do_not_matter(small_recipe, reference, tmp_path):
    res = run("render", str(small_recipe), "--out", str(tmp_path / "two"), "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert shard_bytes(tmp_path / "two") == shard_bytes(reference)


def test_sigkill_then_rerun_finishes_identically(small_recipe, reference, tmp_path):
    out = tmp_path / "killed"
    for delay in (1.5, 3.0):
        proc = subprocess.Popen([BIN, "render", str(small_recipe), "--out", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        leftovers = [p.name for p in (out / "data").iterdir() if not p.name.endswith(".parquet")] if (out / "data").exists() else []
        assert all(name.startswith(".") for name in leftovers)  # temporaries are hidden, never shards
    res = run("render", str(small_recipe), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert shard_bytes(out) == shard_bytes(reference)
    assert not [p.name for p in [*out.iterdir(), *(out / "data").iterdir()] if p.name.startswith(".")]


def test_a_rerun_removes_temporaries_a_killed_run_left(small_recipe, reference, tmp_path):
    out = tmp_path / "ds"
    assert run("render", str(small_recipe), "--out", str(out), "--limit", "2").returncode == 0
    stale = [out / "data" / ".train-00000-of-00001.parquet.x1.tmp.parquet", out / ".manifest.json.x2.tmp.json"]
    for path in stale:
        path.write_bytes(b"half-written")
    assert run("render", str(small_recipe), "--out", str(out), "--limit", "2").returncode == 0
    assert not any(path.exists() for path in stale)


def test_hf_datasets_loads_the_folder(reference):
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset(str(reference))
    assert ds["train"].num_rows == 6 and ds["test"].num_rows == 3
    assert isinstance(ds["train"].features["audio"], datasets.Audio)
    rows = ds["train"].cast_column("audio", datasets.Audio(decode=False))
    for row in rows:
        audio, fs = decode(row["audio"]["bytes"])
        assert fs == 16000 and audio.shape == (2, 16000) and np.abs(audio).max() > 0
        scene = json.loads(row["scene"])
        assert [s["label"] for s in scene["sources"]] == [s["label"] for s in row["sources"]]
        assert row["hrtf"]["sha256"] == "414f9300bbf13c59dfb2d4034d3003ae151b10d6fa8b6ca17a24a04f1b20946e"


def test_another_recipe_is_refused_without_overwrite(small_recipe, reference, tmp_path):
    out = tmp_path / "ds"
    assert run("render", str(small_recipe), "--out", str(out), "--limit", "2").returncode == 0
    res = run("render", str(small_recipe), "--out", str(out))  # a different --limit: another dataset
    assert res.returncode == 2
    assert res.stderr.strip().startswith("error: --out") and "--overwrite" in res.stderr and "Traceback" not in res.stderr
    assert run("render", str(small_recipe), "--out", str(out), "--overwrite").returncode == 0
    assert shard_bytes(out) == shard_bytes(reference)


def test_bad_recipe_is_one_line_per_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: {name: x, seed: 1, splits: {train: 2}}\naudio: {sample_rate_hz: 16000, duration_s: 1.0}\n")
    res = run("render", str(bad), "--out", str(tmp_path / "o"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert all(line.startswith("error: ") for line in res.stderr.strip().splitlines())
    assert not (tmp_path / "o").exists()


@pytest.mark.ray
def test_ray_executor_gives_the_local_bytes(small_recipe, reference, tmp_path):
    import ray

    from binsynth.dataset.pipeline import render_dataset
    from binsynth.recipe.model import load_recipe

    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=128 * 2**20, log_to_driver=False)
    try:
        render_dataset(load_recipe(small_recipe), small_recipe.read_text(), str(small_recipe.parent),
                       tmp_path / "ray", executor="ray")
    finally:
        ray.shutdown()
    assert shard_bytes(tmp_path / "ray") == shard_bytes(reference)
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert sorted(Path(f).name for f in manifest["shards"]) == sorted(shard_bytes(reference))


@pytest.mark.ray
def test_ray_executor_from_the_command_line(small_recipe, reference, tmp_path):
    # to a filesystem URI: Ray tasks write through the same ArrowStore as s3:// would
    # one worker with two CPUs per task: the private instance must have room for the task
    res = run("render", str(small_recipe), "--out", f"file://{tmp_path}/cli", "--executor", "ray",
              "--workers", "1", "--ray-cpus-per-task", "2")
    assert res.returncode == 0, res.stderr
    assert shard_bytes(tmp_path / "cli") == shard_bytes(reference)
    res = run("render", str(small_recipe), "--out", str(tmp_path / "x"), "--executor", "spark")
    assert res.returncode == 2 and "--executor 'spark'" in res.stderr


def _alive(pid: int) -> bool:
    from binsynth.io.processes import process_stamp

    return process_stamp(pid) is not None


def test_a_sigkilled_driver_takes_its_workers_along(tmp_path):
    """Pool workers (and the fork server) exit when the driver is SIGKILLed mid-run."""
    recipe = shrunk_demo_recipe(tmp_path, {"train": 400})
    out = tmp_path / "ds"
    proc = subprocess.Popen([BIN, "render", str(recipe), "--out", str(out), "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(out.glob("data/*.parquet")):  # workers are rendering
        time.sleep(0.1)
    kids = descendants(proc.pid)
    assert len(kids) >= 3, kids  # the fork server and two workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "README.md").exists()  # killed mid-run, not after it
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(k) for k in kids):
        time.sleep(0.2)
    assert not [k for k in kids if _alive(k)]
