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
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from binsynth.errors import BinsynthError, ConfigError, PathError, StorageError, WorkerError, reason
from binsynth.io.lock import LOCK, folder_lock
from binsynth.io.manifest import MANIFEST, Manifest, ShardRecord, shard_name
from binsynth.io.store import Store, is_uri, local_scratch, open_store
from binsynth.io.processes import process_stamp

#: Scenes rendered together inside a shard (fixed, so bytes do not depend on workers).
CHUNK_SCENES = 16
#: Threads that finish and encode FLAC while the next chunk renders on a GPU. On the CPU a
#: worker does everything in turn, so one worker is one core (the pool scales by workers).
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


def _context(recipe_text: str, base_dir: str, device: str, skip: dict | None = None):
    """Recipe, corpora (without the ``skip`` clips: bad files) and renderers, built once per process."""
    skip = skip or {}
    key = (hashlib.sha256(recipe_text.encode()).hexdigest(), base_dir, device, tuple(sorted(skip)))
    if _WORKER.get("key") != key:
        from binsynth.corpora.screen import without
        from binsynth.recipe.model import parse_recipe, recipe_hash
        from binsynth.scene.sampling import corpora_for

        recipe = parse_recipe(recipe_text, base_dir=base_dir)
        _WORKER.clear()
        _WORKER.update(key=key, recipe=recipe, hash=recipe_hash(recipe), corpora=without(corpora_for(recipe), skip, {}),
                       renderers={})
    return _WORKER


def build_renderer(hrtf_name: str, fs_hz: int, device: str = "cpu", receiver: str = "binaural"):
    """The :class:`~binsynth.render.renderer.Renderer` every shard (and ``preview``/``replay``)
    renders with; ``receiver="foa"`` gives the FOA (AmbiX) renderer, which needs no HRTF."""
    from binsynth.acoustics.brir import BRIRSynthesizer
    from binsynth.acoustics.foa import FOASynthesizer
    from binsynth.acoustics.sets import load_hrtf
    from binsynth.dsp.device import resolve_device
    from binsynth.render.renderer import Renderer

    if receiver == "foa":
        synth = FOASynthesizer(fs_hz, resolve_device(device))
    else:
        synth = BRIRSynthesizer(load_hrtf(hrtf_name, fs_hz), fs_hz, resolve_device(device))
    return Renderer(synth, chunk_scenes=CHUNK_SCENES)


def _renderer(ctx: dict, hrtf_name: str, fs_hz: int, device: str, receiver: str = "binaural"):
    key = (hrtf_name, fs_hz, receiver)
    if key not in ctx["renderers"]:
        ctx["renderers"][key] = build_renderer(hrtf_name, fs_hz, device, receiver)
    return ctx["renderers"][key]



@contextlib.contextmanager
def one_thread():
    """One thread for torch's intra-op work and for BLAS while rendering a shard.

    Reductions and FFTs round differently with other thread counts, and bytes must not
    depend on how many workers share the machine; and a worker is one core: sixteen
    workers each running a 16-thread BLAS pool would fight over 16 cores.
    """
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True)
class ShardResult:
    """A committed shard's manifest record and where its time went (seconds; ``finish`` is
    thread time, overlapping ``dry``/``device`` when encoding runs beside a GPU)."""

    record: ShardRecord
    stages: dict


def render_shard(recipe_text: str, base_dir: str, plan: ShardPlan, out: str, device: str = "cpu",
                 skip: dict | None = None) -> ShardResult:
    """Render one shard and commit it atomically; returns its manifest record and stage times.
    ``skip``: clips left out of their corpora (``{"corpus:clip_id": reason}``, bad files)."""
    with one_thread():
        return _render_shard(recipe_text, base_dir, plan, out, device, skip)


def _timed_finish(*args) -> tuple[list[dict], float]:
    from binsynth.dataset.rows import finish_rows

    t0 = time.perf_counter()
    rows = finish_rows(*args)
    return rows, time.perf_counter() - t0


def _render_shard(recipe_text: str, base_dir: str, plan: ShardPlan, out: str, device: str, skip) -> ShardResult:
    from concurrent.futures import ThreadPoolExecutor

    from binsynth.dataset.rows import render_mixes
    from binsynth.io.shards import write_shard
    from binsynth.scene.sampling import sample_scene

    t_start = time.time()
    t0 = time.perf_counter()
    ctx = _context(recipe_text, base_dir, device, skip)
    recipe = ctx["recipe"]
    hrtf_name, fs_hz = recipe.hrtf_for(plan.split), recipe.audio.sample_rate_hz
    renderer = _renderer(ctx, hrtf_name, fs_hz, device)
    foa = "foa" in recipe.output.receivers
    motion = recipe.sources.motion is not None
    foa_renderer = _renderer(ctx, hrtf_name, fs_hz, device, "foa") if foa else None
    t1 = time.perf_counter()
    scenes = [sample_scene(recipe, plan.split, i, ctx["corpora"]) for i in range(plan.first, plan.first + plan.n_scenes)]
    stages = {"setup": t1 - t0, "sample": time.perf_counter() - t1, "dry": 0.0, "device": 0.0, "finish": 0.0}
    # on a GPU, chunk k+1 renders while threads finish and encode chunk k; on the CPU in turn
    encoders = ThreadPoolExecutor(ENCODE_THREADS) if renderer.device.type != "cpu" else None
    finished = []  # (rows, seconds) per chunk, or futures of them
    try:
        for s0 in range(0, len(scenes), CHUNK_SCENES):
            part = scenes[s0 : s0 + CHUNK_SCENES]
            rendered = render_mixes(part, recipe, ctx["corpora"], renderer, foa_renderer)
            stages["dry"] += rendered.dry_s
            stages["device"] += rendered.device_s
            args = (part, rendered, recipe, renderer.synth.hrtf, ctx["hash"])
            finished.append(encoders.submit(_timed_finish, *args) if encoders else _timed_finish(*args))
        if encoders:
            finished = [fut.result() for fut in finished]
    finally:
        if encoders:
            encoders.shutdown()
    rows = [row for part_rows, _ in finished for row in part_rows]
    stages["finish"] = sum(seconds for _, seconds in finished)
    t2 = time.perf_counter()
    store = open_store(out)
    if store.local is not None:
        digest = write_shard(store.local / plan.file, rows, recipe.audio.sample_rate_hz, foa, motion)
    else:  # written here, then copied to the remote store atomically
        with local_scratch() as scratch:
            local = scratch / Path(plan.file).name
            digest = write_shard(local, rows, recipe.audio.sample_rate_hz, foa, motion)
            store.put_file(plan.file, local)
    stages.update(write=time.perf_counter() - t2, wall=time.perf_counter() - t0, start=t_start, end=time.time(),
                  pid=os.getpid(), scenes=len(rows))
    record = ShardRecord(plan.split, plan.index, plan.count, plan.first, plan.n_scenes, len(rows), digest, plan.file)
    return ShardResult(record, stages)


#: Imported once by the pool's fork server, so each worker starts as a fork that already has
#: torch and the renderer loaded (16 workers each importing torch took seconds on a GPU node).
#: Importing torch starts no threads and does not initialise CUDA, so forking after it is safe.
PRELOAD = ("torch", "numpy", "scipy.signal", "soundfile", "pyarrow.parquet",
           "binsynth.dataset.rows", "binsynth.scene.sampling", "binsynth.io.shards")


def _pool_context():
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def _init_worker(driver_pid: int, driver_stamp: str | None, env: dict, cwd: str) -> None:
    """Pool-worker initializer. The fork server keeps the environment and folder it started
    with, so the driver's current ones are applied (CUDA_VISIBLE_DEVICES, the HRTF cache,
    relative paths). Then: exit when the driver is gone — a SIGKILLed driver leaves its
    workers waiting on a pipe they themselves hold open, and the fork server (their parent)
    waits for them, so each worker watches the driver itself."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)

    def watch() -> None:
        while process_stamp(driver_pid) == driver_stamp:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="binsynth-parent-watch").start()


# -- the driver ------------------------------------------------------------------------------
OWN_FILES = ("manifest.json", "recipe.yaml", "README.md")


def prepare_out(store: Store, recipe_hash: str, limit: int | None, overwrite: bool, restart: bool = False) -> Manifest:
    """The manifest to resume from (or a fresh one); refuses a folder holding something else.
    ``restart`` (with ``overwrite``): start afresh even where the folder holds this recipe."""
    kind = store.kind()
    if kind == "file":
        raise PathError(f"--out {store.display}: exists and is not a folder")
    manifest = Manifest.parse(store.read_text(MANIFEST), f"{store.display}/{MANIFEST}") if store.is_file(MANIFEST) else None
    same = (manifest is not None and manifest.recipe_hash == recipe_hash and manifest.stats.get("limit") == limit
            and not restart)
    if kind == "dir" and set(store.names()) - {LOCK} and not same:
        if not overwrite:
            what = "another recipe (or --limit)" if manifest is not None else "files binsynth did not write"
            raise ConfigError(f"--out {store.display}: holds {what}; choose an empty folder or pass --overwrite")
        store.rmtree("data")
        for name in OWN_FILES:
            store.remove(name)
        manifest = None
    if manifest is None or not same:
        from binsynth import __version__

        manifest = Manifest(recipe_hash=recipe_hash, binsynth_version=__version__, stats={"limit": limit})
        store.makedirs()
        store.write_text(MANIFEST, manifest.dumps())  # first: a run killed later is recognised and resumed
    store.makedirs("data")
    # hidden temporaries (``.NAME.*.tmp*``) a killed run left before its renames (the folder
    # lock makes sure no live run owns them)
    store.remove_temporaries()
    return manifest


def pending(manifest: Manifest, plans: list[ShardPlan], store: Store) -> list[ShardPlan]:
    """Shards not committed yet: missing from the manifest, or whose file changed or went."""
    todo = []
    for plan in plans:
        record = manifest.shards.get(plan.file)
        if record is None or not store.is_file(plan.file) or store.sha256(plan.file) != record.sha256:
            manifest.shards.pop(plan.file, None)
            todo.append(plan)
    return todo


def render_dataset(recipe, recipe_text: str, base_dir: str, out: str | Path, *, limit: int | None = None,
                   workers: int = 1, device: str = "cpu", overwrite: bool = False, progress=None,
                   executor: str = "local", ray_address: str | None = None,
                   ray_cpus_per_task: float = 1.0, ray_gpus_per_task: float | None = None,
                   profile: str | Path | None = None, on_bad_audio: str = "skip",
                   screened: dict | None = None) -> Manifest:
    """Render (or finish) a dataset into ``out`` (a folder, or a pyarrow filesystem URI such
    as ``s3://bucket/ds`` or ``file:///abs/ds``); returns its manifest.

    executor: "local" (a process pool of ``workers``) or "ray" (one Ray task per shard,
    at ``ray_address``, or on a private Ray instance with room for ``workers`` concurrent
    tasks when None and ``RAY_ADDRESS`` is unset), each task asking for
    ``ray_cpus_per_task`` CPUs and ``ray_gpus_per_task`` GPUs (default 0.25 with a CUDA
    device, so four shards share a GPU, else 0).
    progress: optional callable ``advance(n_scenes)`` for a progress bar.
    profile: optional JSON path for where the shards rendered by this run spent their time
    (:func:`write_profile`).
    on_bad_audio: "skip" (leave unusable source files out, recorded in the manifest and the
    card) or "fail" (stop at the first, before anything is written); see
    :mod:`binsynth.corpora.screen`. ``screened``: that screening's result when the caller
    already ran it (the CLI does, with its own progress bar).
    """
    t_run = time.perf_counter()
    if executor not in ("local", "ray"):
        raise ConfigError(f"--executor {executor!r}: expected local or ray")
    if workers < 1:
        raise ConfigError(f"--workers {workers}: must be at least 1")
    from binsynth.corpora.screen import POLICIES

    if on_bad_audio not in POLICIES:
        raise ConfigError(f"--on-bad-audio {on_bad_audio!r}: expected skip or fail")
    if not ray_cpus_per_task >= 0 or (ray_gpus_per_task is not None and not ray_gpus_per_task >= 0):
        raise ConfigError(f"--ray-cpus-per-task {ray_cpus_per_task} / --ray-gpus-per-task {ray_gpus_per_task}: "
                          "must be numbers >= 0")
    if profile is not None and not Path(profile).parent.is_dir():
        raise PathError(f"--profile {profile}: folder {Path(profile).parent} does not exist")
    # an absolute folder: workers and Ray tasks may run in another directory or on another node
    store = open_store(out if is_uri(out) else Path(out).resolve())
    if store.kind() == "file":
        raise PathError(f"--out {store.display}: exists and is not a folder")
    lock = folder_lock(store.local) if store.local is not None else contextlib.nullcontext()
    with lock:
        try:
            return _render(recipe, recipe_text, base_dir, store, limit=limit, workers=workers, device=device,
                           overwrite=overwrite, progress=progress, executor=executor, ray_address=ray_address,
                           ray_cpus_per_task=ray_cpus_per_task, ray_gpus_per_task=ray_gpus_per_task,
                           profile=profile, t_run=t_run, on_bad_audio=on_bad_audio, screened=screened)
        except BinsynthError:
            raise
        except BrokenProcessPool:
            raise WorkerError("a render worker process died or failed to start (killed, out of memory?); the "
                              "shards committed so far are kept: rerun the same command to resume") from None
        except OSError as e:
            where = e.filename or store.display
            raise StorageError(f"{where}: {e.strerror or reason(e)} while rendering into {store.display}; no "
                               "partial shard is kept: fix it and rerun the same command to resume") from None


def _render(recipe, recipe_text: str, base_dir: str, store: Store, *, limit, workers, device, overwrite, progress,
            executor, ray_address, ray_cpus_per_task, ray_gpus_per_task, profile, t_run, on_bad_audio,
            screened) -> Manifest:
    """:func:`render_dataset` inside the folder's lock."""
    from binsynth.corpora.screen import screen_corpora, without
    from binsynth.dataset.card import dataset_card
    from binsynth.recipe.model import recipe_hash, resolved_yaml
    from binsynth.scene.sampling import corpora_for

    # source files are screened before anything is written: a bad one under "fail", or a
    # split left without clips, stops here with the folder untouched
    corpora = corpora_for(recipe)
    skip = screened if screened is not None else screen_corpora(corpora, on_bad_audio)
    without(corpora, skip, dict(recipe.dataset.splits))
    manifest = prepare_out(store, recipe_hash(recipe), limit, overwrite)
    before = manifest.stats.get("skipped_audio") or {}
    if manifest.shards and set(before) != set(skip):  # the clips scenes draw from differ: so would the scenes
        if not overwrite:
            raise ConfigError(f"--out {store.display}: the usable source files changed since its shards were "
                              f"rendered ({len(skip)} unusable now, {len(before)} then), so new scenes would not "
                              "match them; pass --overwrite to render the dataset anew")
        manifest = prepare_out(store, recipe_hash(recipe), limit, overwrite=True, restart=True)
    manifest.stats["skipped_audio"] = skip
    store.write_text("recipe.yaml", resolved_yaml(recipe))
    plans = plan_shards(recipe, limit)
    todo = pending(manifest, plans, store)
    if progress is not None:
        progress(sum(p.n_scenes for p in plans if p not in todo))
    profiles: list[dict] = []

    def commit(plan: ShardPlan, result: ShardResult) -> None:
        manifest.add(result.record)
        profiles.append({"shard": plan.file, **result.stages})
        store.write_text(MANIFEST, manifest.dumps())
        if progress is not None:
            progress(plan.n_scenes)

    if todo and (executor == "ray" or workers > 1):
        # the card's imports (QA, corpora) take a second: load them while the workers render
        blank = Manifest(recipe_hash=manifest.recipe_hash, binsynth_version=manifest.binsynth_version)
        threading.Thread(target=_warm_card, args=(recipe, blank), daemon=True, name="binsynth-card-warmup").start()
    if executor == "ray" and todo:
        from binsynth.dataset.ray_executor import run_shards

        gpus = ray_gpus_per_task if ray_gpus_per_task is not None else (0.25 if device.startswith("cuda") else 0.0)
        run_shards(render_shard, todo, recipe_text, base_dir, store.display, device, address=ray_address,
                   cpus_per_task=ray_cpus_per_task, gpus_per_task=gpus, local_tasks=workers,
                   on_done=commit, skip=skip)
    elif workers == 1 or len(todo) <= 1:
        for plan in todo:
            commit(plan, render_shard(recipe_text, base_dir, plan, store.display, device, skip))
    else:
        me = os.getpid()
        pool = ProcessPoolExecutor(workers, mp_context=_pool_context(), initializer=_init_worker,
                                   initargs=(me, process_stamp(me), dict(os.environ), os.getcwd()))
        try:
            futures = {pool.submit(render_shard, recipe_text, base_dir, p, store.display, device, skip): p
                       for p in todo}
            for fut in as_completed(futures):
                commit(futures[fut], fut.result())
        finally:  # on an error, shards not started yet are dropped, not rendered first
            pool.shutdown(wait=True, cancel_futures=True)
    manifest.stats.update(limit=limit, scenes={s: sum(r.rows for r in manifest.shards.values() if r.split == s)
                                               for s in sorted(recipe.dataset.splits)})
    store.write_text(MANIFEST, manifest.dumps())
    store.write_text("README.md", dataset_card(recipe, manifest, store))
    if profile is not None:
        write_profile(Path(profile), profiles, wall_s=time.perf_counter() - t_run, workers=workers, device=device,
                      executor=executor)
    return manifest


def _warm_card(recipe, blank: Manifest) -> None:
    from binsynth.dataset.card import dataset_card

    with contextlib.suppress(Exception):  # only a warm-up: the real card is written at the end
        dataset_card(recipe, blank)


STAGES = ("setup", "sample", "dry", "device", "finish", "write")


def write_profile(path: Path, shards: list[dict], *, wall_s: float, **info) -> dict:
    """Write where the run's time went as JSON: per shard, and summed over shards (seconds),
    with each stage's share of the workers' busy time. Returns the summary."""
    import json

    from binsynth.io.atomic import write_text_atomic

    total = {k: round(sum(p[k] for p in shards), 4) for k in STAGES}
    busy = sum(total.values())
    scenes = sum(p["scenes"] for p in shards)
    summary = {
        **info, "wall_s": round(wall_s, 3), "scenes": scenes, "shards": len(shards),
        "scenes_per_s": round(scenes / wall_s, 2) if wall_s > 0 else None,
        "stage_s": total, "stage_share": {k: round(v / busy, 4) if busy else 0.0 for k, v in total.items()},
        "per_shard": shards,
    }
    write_text_atomic(path, json.dumps(summary, indent=1) + "\n")
    return summary
