"""Rendering a dataset: plan shards, render each (in worker processes), commit atomically,
resume what a killed run left, write the manifest, the resolved recipe and the card.

Layout of ``DIR``: ``data/{split}-{k:05d}-of-{n:05d}.parquet``, ``manifest.json``,
``recipe.yaml`` (the resolved recipe), ``README.md`` (dataset card). A shard is committed
by an atomic rename and then recorded in the manifest; a rerun skips every recorded shard
whose file still has its SHA-256 and renders the rest, giving the same bytes (scenes are
pure functions of (recipe, split, index), and a shard's chunking does not depend on the
number of workers).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from binsynth.errors import ConfigError, PathError
from binsynth.io.hashing import sha256_file
from binsynth.io.manifest import Manifest, ShardRecord, shard_name

#: Scenes rendered together inside a shard (fixed, so bytes do not depend on workers).
CHUNK_SCENES = 16
#: Threads that add background noise and encode FLAC while the next chunk renders.
ENCODE_THREADS = 2


@dataclass(frozen=True)
class ShardPlan:
    split: str
    index: int
    count: int
    first: int
    n_scenes: int

    @property
    def file(self) -> str:
        return f"data/{shard_name(self.split, self.index, self.count)}"


def plan_shards(recipe, limit: int | None = None) -> list[ShardPlan]:
    """Every shard of every split (at most ``limit`` scenes per split), in a fixed order."""
    size = recipe.output.shard_size
    plans = []
    for split in sorted(recipe.dataset.splits):
        n = recipe.dataset.splits[split] if limit is None else min(limit, recipe.dataset.splits[split])
        count = -(-n // size)
        plans += [ShardPlan(split, k, count, k * size, min(size, n - k * size)) for k in range(count)]
    return plans


# -- one shard (runs in a worker process) ---------------------------------------------------
_WORKER: dict = {}


def _context(recipe_text: str, base_dir: str, device: str):
    """Recipe, corpora and renderers, built once per process."""
    key = (hashlib.sha256(recipe_text.encode()).hexdigest(), base_dir, device)
    if _WORKER.get("key") != key:
        from binsynth.recipe import parse_recipe, recipe_hash
        from binsynth.sampling import corpora_for

        recipe = parse_recipe(recipe_text, base_dir=base_dir)
        _WORKER.clear()
        _WORKER.update(key=key, recipe=recipe, hash=recipe_hash(recipe), corpora=corpora_for(recipe), renderers={})
    return _WORKER


def build_renderer(hrtf_name: str, fs_hz: int, device: str = "cpu"):
    """The :class:`~binsynth.render.Renderer` every shard (and ``preview``/``replay``) renders with."""
    from binsynth.acoustics.brir import BRIRSynthesizer
    from binsynth.acoustics.sets import load_hrtf
    from binsynth.device import resolve_device
    from binsynth.render import Renderer

    synth = BRIRSynthesizer(load_hrtf(hrtf_name, fs_hz), fs_hz, resolve_device(device))
    return Renderer(synth, chunk_scenes=CHUNK_SCENES)


def _renderer(ctx: dict, hrtf_name: str, fs_hz: int, device: str):
    key = (hrtf_name, fs_hz)
    if key not in ctx["renderers"]:
        ctx["renderers"][key] = build_renderer(hrtf_name, fs_hz, device)
    return ctx["renderers"][key]


@contextlib.contextmanager
def one_torch_thread():
    """One intra-op thread while rendering: reductions and FFTs round differently with other
    thread counts, and bytes must not depend on how many workers share the machine."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def render_shard(recipe_text: str, base_dir: str, plan: ShardPlan, out: str, device: str = "cpu") -> ShardRecord:
    """Render one shard and commit it atomically; returns its manifest record."""
    with one_torch_thread():
        return _render_shard(recipe_text, base_dir, plan, out, device)


def _render_shard(recipe_text: str, base_dir: str, plan: ShardPlan, out: str, device: str) -> ShardRecord:
    from concurrent.futures import ThreadPoolExecutor

    from binsynth.dataset_rows import finish_rows, render_mixes
    from binsynth.io.shards import write_shard
    from binsynth.sampling import sample_scene

    ctx = _context(recipe_text, base_dir, device)
    recipe = ctx["recipe"]
    scenes = [sample_scene(recipe, plan.split, i, ctx["corpora"]) for i in range(plan.first, plan.first + plan.n_scenes)]
    renderer = _renderer(ctx, recipe.hrtf_for(plan.split), recipe.audio.sample_rate_hz, device)
    # chunk k+1 renders (GPU or this thread) while a thread adds noise and encodes chunk k
    with ThreadPoolExecutor(ENCODE_THREADS) as encoders:
        pending = []
        for s0 in range(0, len(scenes), CHUNK_SCENES):
            part = scenes[s0 : s0 + CHUNK_SCENES]
            mixes, infos = render_mixes(part, recipe, ctx["corpora"], renderer)
            pending.append(encoders.submit(finish_rows, part, mixes, infos, recipe, renderer.synth.hrtf, ctx["hash"]))
        rows = [row for fut in pending for row in fut.result()]
    digest = write_shard(Path(out) / plan.file, rows, recipe.audio.sample_rate_hz)
    return ShardRecord(plan.split, plan.index, plan.count, plan.first, plan.n_scenes, len(rows), digest, plan.file)


def _exit_with_parent(parent_pid: int) -> None:
    """Pool-worker initializer: exit when the driver is gone (a SIGKILLed driver leaves its
    spawned workers waiting on a pipe nobody closes)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="binsynth-parent-watch").start()


# -- the driver ------------------------------------------------------------------------------
OWN_FILES = ("manifest.json", "recipe.yaml", "README.md")


def prepare_out(out: Path, recipe_hash: str, limit: int | None, overwrite: bool) -> Manifest:
    """The manifest to resume from (or a fresh one); refuses a folder holding something else."""
    if out.exists() and not out.is_dir():
        raise PathError(f"--out {out}: exists and is not a folder")
    manifest = Manifest.load(out) if out.is_dir() else None
    same = manifest is not None and manifest.recipe_hash == recipe_hash and manifest.stats.get("limit") == limit
    if out.is_dir() and any(out.iterdir()) and not same:
        if not overwrite:
            what = "another recipe (or --limit)" if manifest is not None else "files binsynth did not write"
            raise ConfigError(f"--out {out}: holds {what}; choose an empty folder or pass --overwrite")
        shutil.rmtree(out / "data", ignore_errors=True)
        for name in OWN_FILES:
            (out / name).unlink(missing_ok=True)
        manifest = None
    if manifest is None or not same:
        from binsynth import __version__

        manifest = Manifest(recipe_hash=recipe_hash, binsynth_version=__version__, stats={"limit": limit})
        out.mkdir(parents=True, exist_ok=True)
        manifest.save(out)  # first, so a run killed at any later moment is recognised and resumed
    (out / "data").mkdir(exist_ok=True)
    _remove_temporaries(out)
    return manifest


def _remove_temporaries(out: Path) -> None:
    """Delete the hidden temporaries (``.NAME.*.tmp*``) a killed run left before its renames.

    Two runs into one folder at once are not supported (each would delete the other's
    temporaries); a lock arrives with the reliability work.
    """
    for folder in (out, out / "data"):
        for path in folder.glob(".*.tmp*"):
            if path.is_file():
                path.unlink(missing_ok=True)


def pending(manifest: Manifest, plans: list[ShardPlan], out: Path) -> list[ShardPlan]:
    """Shards not committed yet: missing from the manifest, or whose file changed or went."""
    todo = []
    for plan in plans:
        record = manifest.shards.get(plan.file)
        path = out / plan.file
        if record is None or not path.is_file() or sha256_file(path) != record.sha256:
            manifest.shards.pop(plan.file, None)
            todo.append(plan)
    return todo


def render_dataset(recipe, recipe_text: str, base_dir: str, out: str | Path, *, limit: int | None = None,
                   workers: int = 1, device: str = "cpu", overwrite: bool = False, progress=None,
                   executor: str = "local", ray_address: str | None = None,
                   ray_cpus_per_task: float = 1.0, ray_gpus_per_task: float | None = None) -> Manifest:
    """Render (or finish) a dataset into ``out``; returns its manifest.

    executor: "local" (a process pool of ``workers``) or "ray" (one Ray task per shard,
    at ``ray_address``, or a local Ray instance when None), each task asking for
    ``ray_cpus_per_task`` CPUs and ``ray_gpus_per_task`` GPUs (default 0.25 with a CUDA
    device, so four shards share a GPU, else 0).
    progress: optional callable ``advance(n_scenes)`` for a progress bar.
    """
    if executor not in ("local", "ray"):
        raise ConfigError(f"--executor {executor!r}: expected local or ray")
    from binsynth.io.atomic import write_text_atomic
    from binsynth.io.card import dataset_card
    from binsynth.recipe import recipe_hash, resolved_yaml

    if workers < 1:
        raise ConfigError(f"--workers {workers}: must be at least 1")
    out = Path(out)
    manifest = prepare_out(out, recipe_hash(recipe), limit, overwrite)
    write_text_atomic(out / "recipe.yaml", resolved_yaml(recipe))
    plans = plan_shards(recipe, limit)
    todo = pending(manifest, plans, out)
    if progress is not None:
        progress(sum(p.n_scenes for p in plans if p not in todo))
    def commit(plan: ShardPlan, record: ShardRecord) -> None:
        manifest.add(record)
        manifest.save(out)
        if progress is not None:
            progress(plan.n_scenes)

    if executor == "ray" and todo:
        from binsynth.executors.ray_executor import run_shards

        gpus = ray_gpus_per_task if ray_gpus_per_task is not None else (0.25 if device.startswith("cuda") else 0.0)
        run_shards(todo, recipe_text, base_dir, str(out.resolve()), device, address=ray_address,
                   cpus_per_task=ray_cpus_per_task, gpus_per_task=gpus, on_done=commit)
    elif workers == 1 or len(todo) <= 1:
        for plan in todo:
            commit(plan, render_shard(recipe_text, base_dir, plan, str(out), device))
    else:
        import multiprocessing

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(render_shard, recipe_text, base_dir, p, str(out), device): p for p in todo}
            for fut in as_completed(futures):
                commit(futures[fut], fut.result())
    manifest.stats.update(limit=limit, scenes={s: sum(r.rows for r in manifest.shards.values() if r.split == s)
                                               for s in sorted(recipe.dataset.splits)})
    manifest.save(out)
    write_text_atomic(out / "README.md", dataset_card(recipe, manifest, out))
    return manifest
