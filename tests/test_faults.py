"""Fault injection: SIGKILL at random moments and inside shard writes, write errors (an
injected ENOSPC and a real EFBIG from the file-size limit), a dead pool worker, two renders
into one folder, and `binsynth verify` against tampering. After every fault the rerun's
folder must be byte-identical to an uninterrupted render, and no temporary is ever visible
as a shard."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import BIN, descendants, rendered, shrunk_demo_recipe
from conftest import run_cli as run

WRAPPER = str(Path(__file__).with_name("faults_wrapper.py"))
SHARD = re.compile(r"^(train|test)-\d{5}-of-\d{5}\.parquet$")


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    """9 scenes of 1 s in shards of 2: 5 shards, so kills land between and inside writes."""
    return shrunk_demo_recipe(tmp_path_factory.mktemp("recipe"), {"train": 6, "test": 3})


@pytest.fixture(scope="module")
def reference(recipe, tmp_path_factory) -> tuple[Path, float]:
    """An uninterrupted render and how long it took (seconds, command start to exit)."""
    t0 = time.monotonic()
    out = rendered(recipe, tmp_path_factory.mktemp("ref") / "ds", "--workers", "1")
    return out, time.monotonic() - t0


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of a dataset folder (hidden ones included) by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_only_complete_shards(out: Path, ref: Path) -> None:
    """What a reader could take for a shard is complete: every visible file in data/ is a
    shard with exactly the reference's bytes, and the manifest (if any) parses and records
    only such shards."""
    data = out / "data"
    for p in sorted(data.iterdir()) if data.is_dir() else []:
        if p.name.startswith("."):
            continue  # a hidden temporary of the killed write: never matched as a shard
        assert SHARD.match(p.name), p.name
        assert p.read_bytes() == (ref / "data" / p.name).read_bytes(), p.name
    if (out / "manifest.json").exists():
        manifest = json.loads((out / "manifest.json").read_text())
        ref_manifest = json.loads((ref / "manifest.json").read_text())
        for file, record in manifest["shards"].items():
            assert record == ref_manifest["shards"][file]


def wrapped(fault: str, *args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "BINSYNTH_TEST_FAULT": fault}
    return subprocess.run([sys.executable, WRAPPER, *args], capture_output=True, text=True, timeout=600,
                          env=env, **kw)


def assert_one_line_error(res: subprocess.CompletedProcess, *needles: str) -> None:
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_sigkill_at_14_moments_then_rerun_is_byte_identical(recipe, reference, tmp_path):
    ref, seconds = reference
    out = tmp_path / "ds"
    rng = np.random.default_rng(20261127)
    moments = 0
    # inside a shard write (half its rows in the temporary) and after it, before the rename
    for fault in ("kill-mid-write:1", "kill-before-rename:1", "kill-mid-write:2", "kill-before-rename:2"):
        res = wrapped(fault, "render", str(recipe), "--out", str(out), "--workers", "1")
        assert res.returncode == -signal.SIGKILL, res.stderr
        assert_only_complete_shards(out, ref)
        moments += 1
    # ten random moments over a whole render's span: start-up, rendering, writes, commits
    for delay in rng.uniform(0.2, seconds, 10):
        proc = subprocess.Popen([BIN, "render", str(recipe), "--out", str(out), "--workers", "1"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_only_complete_shards(out, ref)
        moments += 1
        if (out / "README.md").exists():  # finished before the kill: start over so later kills land mid-run
            for p in (out / "data").glob("*.parquet"):
                p.unlink()
    assert moments >= 10
    res = run("render", str(recipe), "--out", str(out), "--workers", "1")
    assert res.returncode == 0, res.stderr
    assert folder_bytes(out) == folder_bytes(ref)


def test_disk_full_mid_shard_is_one_line_and_a_rerun_completes(recipe, reference, tmp_path):
    ref, _ = reference
    out = tmp_path / "ds"
    res = wrapped("enospc:3", "render", str(recipe), "--out", str(out), "--workers", "1")
    assert_one_line_error(res, "No space left on device", "rerun")
    assert [p.name for p in (out / "data").iterdir() if p.name.startswith(".")] == []  # the partial file is gone
    assert_only_complete_shards(out, ref)
    assert len(json.loads((out / "manifest.json").read_text())["shards"]) == 2
    assert not (out / "README.md").exists()
    assert run("render", str(recipe), "--out", str(out), "--workers", "1").returncode == 0
    assert folder_bytes(out) == folder_bytes(ref)


def _file_size_limit(limit: int):
    def apply() -> None:  # a real write error from the kernel: EFBIG past the limit
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_real_write_error_leaves_no_partial_shard(recipe, reference, tmp_path):
    ref, _ = reference
    out = tmp_path / "ds"
    sizes = sorted(p.stat().st_size for p in (ref / "data").glob("*.parquet"))
    res = subprocess.run([BIN, "render", str(recipe), "--out", str(out), "--workers", "1"], capture_output=True,
                         text=True, timeout=600, preexec_fn=_file_size_limit(sizes[0] // 2))
    assert_one_line_error(res, "File too large", str(out))
    assert [p.name for p in (out / "data").iterdir()] == []
    assert json.loads((out / "manifest.json").read_text())["shards"] == {}
    assert run("render", str(recipe), "--out", str(out), "--workers", "1").returncode == 0
    assert folder_bytes(out) == folder_bytes(ref)


HOLD_LOCK = """
import sys, time
from pathlib import Path
from binsynth.io.lock import folder_lock
with folder_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_second_render_into_a_busy_folder_is_refused_and_a_killed_holder_frees_it(recipe, reference, tmp_path):
    ref, _ = reference
    out = tmp_path / "ds"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        res = run("render", str(recipe), "--out", str(out), "--workers", "1")
        assert_one_line_error(res, "another binsynth render is writing here", f"pid {holder.pid}")
        assert sorted(p.name for p in out.iterdir()) == [".binsynth.lock"]  # nothing written
    finally:
        holder.send_signal(signal.SIGKILL)  # a crash: the lock must not outlive it
        holder.wait()
    assert (out / ".binsynth.lock").exists()
    assert run("render", str(recipe), "--out", str(out), "--workers", "1").returncode == 0
    assert folder_bytes(out) == folder_bytes(ref)  # the lock file is gone with the render


def test_two_renders_at_once(recipe, tmp_path):
    """A real race: the second of two concurrent renders into one folder is refused; once the
    first is SIGKILLed the folder is free at once."""
    big = shrunk_demo_recipe(tmp_path, {"train": 400})  # tens of seconds: still running when the second starts
    out = tmp_path / "ds"
    first = subprocess.Popen([BIN, "render", str(big), "--out", str(out), "--workers", "1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (out / "manifest.json").exists():
            time.sleep(0.05)
        second = run("render", str(big), "--out", str(out), "--workers", "1")
        assert first.poll() is None, "the first render ended before the second started"
        assert_one_line_error(second, "another binsynth render is writing here", f"pid {first.pid}")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    third = run("render", str(big), "--out", str(out), "--workers", "1", "--limit", "2", "--overwrite")
    assert third.returncode == 0, third.stderr
    assert run("verify", str(out)).returncode == 0


def test_a_killed_pool_worker_is_one_line_and_a_rerun_completes(tmp_path):
    recipe = shrunk_demo_recipe(tmp_path, {"train": 60})
    out = tmp_path / "ds"
    proc = subprocess.Popen([BIN, "render", str(recipe), "--out", str(out), "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(out.glob("data/*.parquet")):
        time.sleep(0.05)
    # the fork server is the driver's child; the workers are its children
    servers = [k for k in descendants(proc.pid) if descendants(k)]
    kids = sorted(descendants(servers[0])) if servers else []
    assert kids, servers
    os.kill(kids[0], signal.SIGKILL)
    err = proc.communicate(timeout=600)[1]
    assert_one_line_error(subprocess.CompletedProcess(proc.args, proc.returncode, "", err),
                          "worker process died", "rerun")
    assert not (out / "README.md").exists()
    assert run("render", str(recipe), "--out", str(out), "--workers", "2").returncode == 0
    res = run("verify", str(out))
    assert res.returncode == 0, res.stdout
    assert "60 rows" in res.stdout
