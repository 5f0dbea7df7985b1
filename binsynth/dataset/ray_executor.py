"""Rendering shards as Ray tasks: one task per shard, retried when a worker dies.

Each task calls the same :func:`binsynth.dataset.pipeline.render_shard` as the local executor, so
the shards are byte-identical to a local run; a task commits its shard atomically (temp
name + rename), so a retried or duplicated task rewrites the same bytes. The driver
records each finished shard in the manifest.

Ray 2.60 turns token authentication on by default: connecting to an existing cluster
needs the same ``RAY_AUTH_MODE`` (and token) in every process, or ``address="auto"`` from
a process on a cluster node (e.g. under ``ray job submit``). Started here without an
address, Ray runs a private instance with no dashboard and no client server. Its own gRPC
ports (GCS, raylet, object manager, agents) listen on the machine's addresses — Ray on Linux
turns a loopback node address into the routable one — and are guarded by Ray's token
authentication; on a shared host, keep them behind a firewall.

A task that raises gives the driver its exception (a binsynth error stays one line); a
task whose worker died more than ``MAX_RETRIES`` times gives a :class:`WorkerError`.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterable

from binsynth.errors import ConfigError, WorkerError, reason

#: Task retries when a worker process dies (SIGKILL, OOM, node loss).
MAX_RETRIES = 3


def warm_worker() -> None:
    """Ray worker set-up hook: import what a shard needs while the driver is still starting,
    so the first tasks do not each wait for torch to load."""
    import binsynth.dataset.rows  # noqa: F401  (torch, numpy, the renderer)
    import binsynth.io.shards  # noqa: F401  (pyarrow)
    import binsynth.scene.sampling  # noqa: F401


def _result(ray, ref, plan):
    """A finished task's value; its own exception (not Ray's multi-line wrapper) if it raised."""
    from ray.exceptions import RayError, RayTaskError, WorkerCrashedError

    try:
        return ray.get(ref)
    except RayTaskError as e:
        if isinstance(e.cause, Exception) and not isinstance(e.cause, RayTaskError):
            raise e.cause from None
        raise WorkerError(f"shard {plan.file}: its Ray task failed ({reason(e.cause)})") from None
    except WorkerCrashedError:
        raise WorkerError(f"shard {plan.file}: its Ray worker died {MAX_RETRIES + 1} times (killed, or out of "
                          "memory); the shards committed so far are kept: rerun the same command to resume") from None
    except RayError as e:  # out of memory, node or object lost, cancelled
        raise WorkerError(f"shard {plan.file}: Ray could not finish it ({type(e).__name__}: {reason(e)}); the "
                          "shards committed so far are kept: rerun the same command to resume") from None


def run_shards(render_shard: Callable, plans: Iterable, recipe_text: str, base_dir: str, out: str, device: str, *,
               address: str | None = None, cpus_per_task: float = 1.0, gpus_per_task: float = 0.0,
               local_tasks: int | None = None, on_done: Callable, skip: dict | None = None) -> None:
    """Render ``plans`` as Ray tasks of ``render_shard`` (the pipeline's, passed in so that this
    module and the pipeline do not import each other); ``on_done(plan, result)`` runs in the
    driver as each finishes.

    Without an address (and without ``RAY_ADDRESS``, which ``ray job submit`` sets) a private
    Ray instance is started here with room for ``local_tasks`` concurrent tasks (default:
    every CPU); otherwise the driver joins that cluster and leaves its resources and the
    job's runtime environment (working_dir, ...) alone.
    """
    try:
        import ray
    except ImportError as e:
        raise ConfigError("--executor ray needs Ray: pip install 'ray>=2.9'") from e

    started_here = not ray.is_initialized()
    if started_here:
        private = address is None and not os.environ.get("RAY_ADDRESS")
        options: dict = {}
        if private:  # "local": a new instance, even where `ray start` left one running
            cpus = None if local_tasks is None else max(1, math.ceil(local_tasks * cpus_per_task))
            options = dict(address="local", num_cpus=cpus,
                           runtime_env={"worker_process_setup_hook": f"{__name__}.warm_worker"})
        elif address is not None:
            options = dict(address=address)
        try:
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False,
                     ignore_reinit_error=True, **options)
        except (ConnectionError, ValueError, RuntimeError) as e:
            where = address or os.environ.get("RAY_ADDRESS") or "a private instance"
            raise ConfigError(f"--ray-address {where}: cannot start or join Ray "
                              f"({reason(e)})") from None
    try:
        task = ray.remote(num_cpus=cpus_per_task, num_gpus=gpus_per_task, max_retries=MAX_RETRIES)(render_shard)
        pending = {task.remote(recipe_text, base_dir, plan, out, device, skip): plan for plan in plans}
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                plan = pending.pop(done[0])
                on_done(plan, _result(ray, done[0], plan))
        finally:  # after an error: stop the other tasks (on a cluster they would outlive this run)
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
    finally:
        if started_here:
            ray.shutdown()
