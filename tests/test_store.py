"""Output to pyarrow filesystem URIs (file:// stands in for s3:// and gs://: the same
ArrowStore code path), the store primitives, and the render profile."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from binsynth.io.store import ArrowStore, LocalStore, open_store
from conftest import run_cli as run
from conftest import rendered
from conftest import shard_bytes as shards
from conftest import shrunk_demo_recipe



@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    return shrunk_demo_recipe(tmp_path_factory.mktemp("recipe"), {"train": 4, "test": 2})


@pytest.fixture(scope="module")
def local_ref(recipe, tmp_path_factory) -> Path:
    return rendered(recipe, tmp_path_factory.mktemp("ref") / "ds")


def test_open_store_picks_by_uri(tmp_path):
    assert isinstance(open_store(tmp_path / "a"), LocalStore)
    assert isinstance(open_store(str(tmp_path / "a")), LocalStore)
    store = open_store(f"file://{tmp_path}/a")
    assert isinstance(store, ArrowStore) and store.local is None


@pytest.mark.parametrize("make", [lambda p: LocalStore(p), lambda p: ArrowStore(f"file://{p}")], ids=["local", "arrow"])
def test_store_primitives(tmp_path, make):
    store = make(tmp_path / "root")
    assert store.kind() == "missing" and store.names() == []
    store.makedirs("data")
    store.write_text("a.json", "{}")
    assert store.kind() == "dir" and store.kind("a.json") == "file" and store.read_text("a.json") == "{}"
    (tmp_path / "src.bin").write_bytes(b"x" * 100_000)
    store.put_file("data/s.parquet", tmp_path / "src.bin")
    assert store.size("data/s.parquet") == 100_000
    import hashlib

    assert store.sha256("data/s.parquet") == hashlib.sha256(b"x" * 100_000).hexdigest()
    # nothing but the final names is left: writes went through hidden temporaries
    assert store.names() == ["a.json", "data"] and store.names("data") == ["s.parquet"]
    (tmp_path / "root" / "data" / ".s.parquet.dead.tmp").write_bytes(b"partial")
    (tmp_path / "root" / ".manifest.json.x.tmp").write_bytes(b"partial")
    store.remove_temporaries()
    assert store.names() == ["a.json", "data"] and store.names("data") == ["s.parquet"]
    store.rmtree("data")
    store.remove("a.json")
    assert store.names() == []


def test_render_to_a_file_uri_gives_the_local_bytes(recipe, local_ref, tmp_path):
    out = tmp_path / "uri"
    uri = f"file://{out}"
    res = run("render", str(recipe), "--out", uri, "--workers", "2")
    assert res.returncode == 0, res.stderr
    assert shards(out) == shards(local_ref)
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "data", "manifest.json", "recipe.yaml"]
    assert (out / "manifest.json").read_text() == (local_ref / "manifest.json").read_text()
    # a shard that went missing is rendered again; the rest are kept
    victim = sorted((out / "data").glob("*.parquet"))[0]
    keep = sorted((out / "data").glob("*.parquet"))[1]
    inode = keep.stat().st_ino
    victim.unlink()
    (out / "data" / f".{victim.name}.abcd.tmp").write_bytes(b"left by a killed run")
    res = run("render", str(recipe), "--out", uri)
    assert res.returncode == 0, res.stderr
    assert shards(out) == shards(local_ref) and keep.stat().st_ino == inode
    assert not [p for p in (out / "data").iterdir() if p.name.startswith(".")]


def test_a_uri_holding_other_files_is_refused(recipe, tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    res = run("render", str(recipe), "--out", f"file://{tmp_path}/busy")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [
        f"error: --out file://{tmp_path}/busy: holds files binsynth did not write; "
        "choose an empty folder or pass --overwrite"]
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]


def test_an_unknown_uri_scheme_is_one_line(recipe, tmp_path):
    res = run("render", str(recipe), "--out", "nosuchfs://bucket/ds")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith("error: --out nosuchfs://bucket/ds: not a filesystem URI pyarrow can open")


def test_profile_accounts_for_every_scene(recipe, tmp_path):
    prof = tmp_path / "profile.json"
    res = run("render", str(recipe), "--out", str(tmp_path / "ds"), "--profile", str(prof))
    assert res.returncode == 0, res.stderr
    data = json.loads(prof.read_text())
    assert data["scenes"] == 6 and data["shards"] == len(data["per_shard"]) == 3
    assert sorted(s["shard"] for s in data["per_shard"]) == sorted(
        "data/" + p.name for p in (tmp_path / "ds" / "data").glob("*.parquet"))
    assert sum(data["stage_share"].values()) == pytest.approx(1.0, abs=1e-3)
    for s in data["per_shard"]:
        assert s["end"] >= s["start"] and s["wall"] >= s["dry"] + s["device"] > 0


def test_python_dash_m_binsynth_is_the_cli(recipe):
    """Where no console script is installed (the GPU check), ``python -m binsynth`` is the CLI."""
    res = subprocess.run([sys.executable, "-m", "binsynth", "validate", str(recipe)], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    bad = subprocess.run([sys.executable, "-m", "binsynth", "render", str(recipe), "--out", "nosuchfs://x"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def _env_of_worker(name: str) -> str | None:
    import os

    return os.environ.get(name)


def test_pool_workers_see_the_drivers_current_environment(monkeypatch, tmp_path):
    """The fork server keeps the environment it started with; each pool applies the driver's."""
    import os
    from concurrent.futures import ProcessPoolExecutor

    from binsynth.dataset.pipeline import _init_worker, _pool_context
    from binsynth.io.processes import process_stamp

    def pool_sees(value: str) -> str | None:
        monkeypatch.setenv("BINSYNTH_TEST_MARK", value)
        args = (os.getpid(), process_stamp(os.getpid()), dict(os.environ), str(tmp_path))
        with ProcessPoolExecutor(1, mp_context=_pool_context(), initializer=_init_worker, initargs=args) as pool:
            return pool.submit(_env_of_worker, "BINSYNTH_TEST_MARK").result(timeout=120)

    assert pool_sees("first") == "first"
    assert pool_sees("second") == "second"


def test_scratch_is_removed_and_dead_owners_swept(tmp_path, monkeypatch):
    import os
    import time

    from binsynth.io.store import SCRATCH_PREFIX, local_scratch

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    dead = tmp_path / f"{SCRATCH_PREFIX}999999999-abc"  # no such pid
    dead.mkdir()
    (dead / "shard.parquet").write_bytes(b"left by a SIGKILLed worker")
    old = time.time() - 7200
    os.utime(dead, (old, old))
    fresh_dead = tmp_path / f"{SCRATCH_PREFIX}999999998-abc"  # too recent to judge
    fresh_dead.mkdir()
    with local_scratch() as folder:
        assert folder.parent == tmp_path and folder.name.startswith(f"{SCRATCH_PREFIX}{os.getpid()}-")
        (folder / "x").write_bytes(b"1")
    assert not folder.exists() and not dead.exists() and fresh_dead.exists()


def test_profile_into_a_missing_folder_is_refused_before_rendering(recipe, tmp_path):
    res = run("render", str(recipe), "--out", str(tmp_path / "ds"), "--profile", str(tmp_path / "no" / "p.json"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [f"error: --profile {tmp_path}/no/p.json: folder {tmp_path}/no does not exist"]
    assert not (tmp_path / "ds").exists()


def test_bad_ray_resources_are_one_line(recipe, tmp_path):
    res = run("render", str(recipe), "--out", str(tmp_path / "ds"), "--executor", "ray", "--ray-cpus-per-task", "-1")
    assert res.returncode == 2 and "Traceback" not in res.stderr and "--ray-cpus-per-task -1" in res.stderr
    assert not (tmp_path / "ds").exists()


def test_store_errors_are_one_line_even_without_a_message():
    from binsynth.errors import reason

    assert reason(OSError()) == "OSError"
    assert reason(OSError("disk full\ndetails")) == "disk full"
