"""``binsynth render RECIPE --out DIR``: render a dataset (resumable) with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def render_command(
    recipe: Annotated[Path, typer.Argument(help="Recipe YAML.")],
    out: Annotated[str, typer.Option("--out", help="Dataset folder or pyarrow filesystem URI (s3://…, gs://…, file:///…); created, resumed if it holds this recipe.")],
    limit: Annotated[Optional[int], typer.Option("--limit", help="At most N scenes per split (previews, tests).")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="Worker processes, or concurrent tasks of a private Ray instance (default: one per CPU).")] = None,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda")] = "cpu",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace a dataset of another recipe in --out.")] = False,
    executor: Annotated[str, typer.Option("--executor", help="local (process pool) | ray (one task per shard)")] = "local",
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", help="auto | HOST:PORT (default: a local Ray instance)")] = None,
    ray_cpus: Annotated[float, typer.Option("--ray-cpus-per-task", help="CPUs each Ray shard task asks for.")] = 1.0,
    ray_gpus: Annotated[Optional[float], typer.Option("--ray-gpus-per-task", help="GPUs each Ray shard task asks for (default 0.25 with --device cuda, else 0).")] = None,
    profile: Annotated[Optional[Path], typer.Option("--profile", help="Write where the time went (stages per shard, seconds) to this JSON file.")] = None,
    on_bad_audio: Annotated[str, typer.Option("--on-bad-audio", help="skip: leave unusable source files out (listed in the manifest and card); fail: stop at the first.")] = "skip",
) -> None:
    """Render every split of RECIPE into OUT as Parquet shards with a manifest and a card."""
    from binsynth.corpora.screen import file_clips, screen_corpora
    from binsynth.errors import ConfigError
    from binsynth.dataset.pipeline import plan_shards, render_dataset
    from binsynth.progress import rate_bar
    from binsynth.recipe.model import load_recipe
    from binsynth.scene.sampling import corpora_for

    import os

    workers = workers if workers is not None else (os.cpu_count() or 1)
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit {limit}: must be at least 1")
    spec = load_recipe(recipe)
    text = recipe.read_text(encoding="utf-8")
    total = sum(p.n_scenes for p in plan_shards(spec, limit))
    # source files are screened first, with their own bar (a large corpus takes a while)
    corpora = corpora_for(spec)
    n_files = len(file_clips(corpora))
    screened: dict = {}
    if n_files:
        with rate_bar("screening source files", n_files, "files") as advance:
            screened = screen_corpora(corpora, on_bad_audio, progress=advance)
    with rate_bar(spec.dataset.name, total, "scenes") as advance:
        manifest = render_dataset(spec, text, str(recipe.resolve().parent), out, limit=limit, workers=workers,
                                  device=device, overwrite=overwrite, progress=advance,
                                  executor=executor, ray_address=ray_address,
                                  ray_cpus_per_task=ray_cpus, ray_gpus_per_task=ray_gpus, profile=profile,
                                  on_bad_audio=on_bad_audio, screened=screened)
    rows = sum(r.rows for r in manifest.shards.values())
    skipped = manifest.stats.get("skipped_audio") or {}
    note = f"; {len(skipped)} unusable source file(s) left out (see manifest.json)" if skipped else ""
    typer.echo(f"{out}: {rows} scenes in {len(manifest.shards)} shards{note}")
