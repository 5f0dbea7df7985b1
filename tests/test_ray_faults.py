"""Fault tolerance of the Ray executor: a worker SIGKILLed mid-shard, a driver SIGKILLed mid-run.

Both runs must end with every shard committed exactly once, no temporaries left in
``data/``, and the bytes of an uninterrupted local run (``workers=1``).

How the faults are made (Linux only: processes are found through ``/proc``):

* Worker kill: Ray renames a worker process ``ray::render_shard`` while it runs that task
  (``ray::IDLE`` otherwise). The test starts Ray in its own process, so the workers are
  descendants of the test process; a watcher thread SIGKILLs the first one it sees running
  a shard. Ray's state API (``ray.util.state.list_tasks``) is not used: it needs the
  dashboard, which binsynth does not start. A worker's first shard includes importing
  torch and building the renderer (about a second, against ~50 ms for a warm shard), so
  the kill, a few ms after the task starts, lands inside the task and not in its final
  write; a worker holding a file open in ``data/`` is skipped anyway.
* Driver kill: ``binsynth render --executor ray`` runs in a new session (``setsid``), so
  the local Ray instance it starts (GCS, raylet, agents, workers) shares its session id
  and can be cleaned up without touching any other Ray instance on the machine (no
  ``ray stop --force``, which would stop every Ray instance, another test's included).
  After the kill, workers still running a shard are left to finish it (SIGKILLing one
  inside ``write_shard`` would leave a hidden temporary that nothing sweeps), then the
  session's remaining processes are SIGKILLed and must be gone before the rerun. The
  first run is niced so that the test's poll loop wakes at once when the first shard is
  recorded: the 35 other shards then take ~1 s, and the kill must land inside that time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BIN, shard_bytes, shrunk_demo_recipe

pytestmark = [
    pytest.mark.ray,
    pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs Ray"),
    pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds Ray's processes through /proc (Linux)"),
]

SPLITS = {"train": 64, "test": 8}  # 36 shards of 2 scenes (a warm shard takes ~30-50 ms)


@dataclass(frozen=True)
class Proc:
    ppid: int
    sid: int
    state: str
    cmd: str


def processes() -> dict[int, Proc]:
    """Every live (non-zombie) process visible in /proc."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # exited meanwhile
            continue
        state, ppid, _pgrp, sid = stat.rsplit(")", 1)[1].split()[:4]
        if state != "Z":
            found[int(name)] = Proc(int(ppid), int(sid), state, cmd)
    return found


def descendants(root: int, procs: dict[int, Proc]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, p in procs.items():
        children.setdefault(p.ppid, []).append(pid)
    found, stack = set(), [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def session(sid: int) -> dict[int, Proc]:
    """The live processes of session ``sid``."""
    return {pid: p for pid, p in processes().items() if p.sid == sid}


def kill_session(sid: int) -> None:
    for pid in session(sid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def opens_under(pid: int, folder: Path) -> bool:
    """Whether ``pid`` holds a file in ``folder`` open."""
    prefix = str(folder.resolve()) + os.sep
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(prefix):
                return True
        except OSError:
            continue
    return False


def wait_for(what: str, check, timeout_s: float, every_s: float = 0.05):
    """Poll ``check()`` until it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)


def read_manifest(out: Path) -> dict | None:
    try:
        return json.loads((out / "manifest.json").read_text())
    except (FileNotFoundError, ValueError):  # not written yet (it is replaced atomically)
        return None


def assert_complete(out: Path, reference: Path) -> dict:
    """Every shard once, in the folder and in the manifest, and every file of the folder
    with the reference's bytes (no lock file, temporary or stray left)."""
    from binsynth.dataset.pipeline import plan_shards
    from binsynth.recipe.model import load_recipe

    expected = sorted(Path(p.file).name for p in plan_shards(load_recipe(out / "recipe.yaml")))
    assert sorted(p.name for p in (out / "data").iterdir()) == expected  # no temporaries, no strays
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["shards"]) == [f"data/{name}" for name in expected]
    assert manifest["stats"]["scenes"] == SPLITS
    got, ref = shard_bytes(out), shard_bytes(reference)
    assert sorted(got) == sorted(ref) == expected
    assert [n for n in expected if got[n] != ref[n]] == []
    for name in ("manifest.json", "recipe.yaml", "README.md"):  # the whole folder, not just its shards
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "data", "manifest.json", "recipe.yaml"]
    return manifest


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    return shrunk_demo_recipe(tmp_path_factory.mktemp("recipe"), SPLITS)


@pytest.fixture(scope="module")
def reference(recipe, tmp_path_factory) -> Path:
    """An uninterrupted local run, one worker."""
    from binsynth.dataset.pipeline import render_dataset
    from binsynth.recipe.model import load_recipe

    out = tmp_path_factory.mktemp("ref") / "ds"
    render_dataset(load_recipe(recipe), recipe.read_text(), str(recipe.parent), out, workers=1)
    return out


@pytest.fixture
def no_ray_address(monkeypatch):
    """A local Ray instance, whatever the environment points at."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


def test_worker_sigkilled_mid_shard_is_retried(recipe, reference, tmp_path, no_ray_address):
    import ray

    from binsynth.dataset.ray_executor import MAX_RETRIES
    from binsynth.dataset.pipeline import render_dataset
    from binsynth.recipe.model import load_recipe

    assert MAX_RETRIES >= 1
    out = tmp_path / "ray"
    killed: list[int] = []
    stop = threading.Event()

    def kill_one_running_shard() -> None:
        """SIGKILL the first worker (a descendant of this process) seen running render_shard."""
        me = os.getpid()
        while not stop.is_set():
            procs = processes()
            for pid in sorted(descendants(me, procs)):
                if procs[pid].cmd.startswith("ray::render_shard") and not opens_under(pid, out / "data"):
                    with open(f"/proc/{pid}/cmdline", "rb") as f:  # still that task, right now
                        if not f.read().startswith(b"ray::render_shard"):
                            continue
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
            stop.wait(0.01)

    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=128 * 2**20, log_to_driver=False)
    watcher = threading.Thread(target=kill_one_running_shard, daemon=True)
    try:
        watcher.start()
        render_dataset(load_recipe(recipe), recipe.read_text(), str(recipe.parent), out, executor="ray")
    finally:
        stop.set()
        watcher.join(30)
        ray.shutdown()
    assert len(killed) == 1, "no worker was seen running a shard: the kill never happened"
    assert killed[0] not in processes()
    assert_complete(out, reference)


def test_driver_sigkilled_then_rerun_resumes(recipe, reference, tmp_path, no_ray_address):
    from binsynth.dataset.pipeline import plan_shards
    from binsynth.recipe.model import load_recipe

    out = tmp_path / "cli"
    cmd = [BIN, "render", str(recipe), "--out", str(out), "--executor", "ray"]
    procs: list[subprocess.Popen] = []
    gone: set[int] = set()  # sessions seen empty: their id may be reused, never signal them again

    def start(nice: bool) -> subprocess.Popen:
        # its own session: the Ray instance it starts shares the session id, and only it is cleaned up
        niced = ["nice", "-n", "10"] if nice and shutil.which("nice") else []  # nice execs: same pid
        with open(tmp_path / f"run{len(procs)}.log", "w") as log:
            procs.append(subprocess.Popen(niced + cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        return procs[-1]

    def clean_up(sid: int) -> None:
        # let orphaned workers finish the shard they are on: killed inside write_shard, a
        # worker would leave a hidden temporary behind
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(p.cmd.startswith("ray::render_shard") for p in session(sid).values()):
            time.sleep(0.05)
        kill_session(sid)

    try:
        # niced, so that this (mostly sleeping) poll loop wakes at once when the first shard lands
        first = start(nice=True)

        def first_recorded():
            if first.poll() is not None:
                pytest.fail(f"render exited ({first.returncode}) before a shard was recorded: "
                            + (tmp_path / "run0.log").read_text()[-2000:])
            manifest = read_manifest(out)
            return manifest if manifest and manifest["shards"] else None

        wait_for("the first shard in manifest.json", first_recorded, timeout_s=180, every_s=0.01)
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(30) == -signal.SIGKILL
        clean_up(first.pid)
        wait_for("the killed driver's Ray processes to go", lambda: not session(first.pid), timeout_s=30)
        gone.add(first.pid)

        recorded = read_manifest(out)["shards"]
        total = len(plan_shards(load_recipe(recipe)))
        assert 0 < len(recorded) < total, f"{len(recorded)} of {total} shards recorded: the kill came too late"
        assert [p.name for p in (out / "data").iterdir() if p.name.startswith(".")] == []  # no temporaries
        kept = {f: (out / f).stat() for f in recorded}

        second = start(nice=False)
        assert second.wait(300) == 0, (tmp_path / "run1.log").read_text()[-2000:]
        assert f"{sum(SPLITS.values())} scenes in {total} shards" in (tmp_path / "run1.log").read_text()
        manifest = assert_complete(out, reference)
        for f, st in kept.items():  # resumed: recorded shards were not rendered again
            assert manifest["shards"][f]["sha256"] == recorded[f]["sha256"]
            now = (out / f).stat()
            assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns), f
        wait_for("the rerun's Ray processes to go", lambda: not session(second.pid), timeout_s=30)
        gone.add(second.pid)
    finally:
        for proc in procs:
            if proc.pid not in gone:
                kill_session(proc.pid)
            proc.wait(30)


def _listening(pids: set[int]) -> list[tuple[str, int]]:
    """(address, port) of the TCP sockets in LISTEN state that ``pids`` hold open."""
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                addr, port = fields[1].split(":")
                raw = bytes.fromhex(addr)
                ip = ".".join(str(b) for b in raw[::-1]) if len(raw) == 4 else raw.hex()
                out.append((ip, int(port, 16)))
    return out


def test_the_private_instance_serves_no_dashboard_and_no_client(recipe, tmp_path, no_ray_address):
    """binsynth's private Ray instance opens neither the dashboard/jobs port (8265) nor the Ray
    client port (10001); what it does listen on are Ray's own gRPC ports (GCS, raylet, object
    manager, agents), which Ray binds to the machine's addresses and guards with its token
    authentication (on by default in Ray 2.60)."""
    import ray

    from binsynth.dataset.pipeline import plan_shards, render_shard
    from binsynth.dataset.ray_executor import run_shards
    from binsynth.recipe.model import load_recipe

    seen: dict = {}

    def on_done(plan, result) -> None:  # while the instance runs
        seen["sockets"] = _listening(set(descendants(os.getpid(), processes())))

    (tmp_path / "ds" / "data").mkdir(parents=True)
    if ray.is_initialized():
        ray.shutdown()
    run_shards(render_shard, plan_shards(load_recipe(recipe))[:1], recipe.read_text(), str(recipe.parent), str(tmp_path / "ds"),
               "cpu", local_tasks=1, on_done=on_done)
    assert seen["sockets"], "no listening socket found: the check saw nothing"
    assert [s for s in seen["sockets"] if s[1] in (8265, 10001)] == []
