"""``binsynth inspect | stats | replay | verify DIR``: look into a rendered dataset.

Exit codes: 0 all good; 2 bad input (not a dataset, unknown id, wrong recipe or HRTF file),
one line on stderr; **1 verification failed** — ``inspect`` found a shard whose SHA-256
differs from ``manifest.json`` (or one missing / unrecorded), or ``replay`` re-rendered a
row whose audio differs from the stored audio by more than one 16-bit step, or ``verify``
found any problem (:mod:`binsynth.dataset.verify`). The failure is
flagged in the output and summarised on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def inspect_command(
    folder: Annotated[Path, typer.Argument(help="Dataset folder written by `binsynth render`.")],
    verify: Annotated[bool, typer.Option("--verify/--no-verify", help="Re-hash every shard against the manifest.")] = True,
) -> None:
    """Summarise a dataset and re-hash its shards against the manifest.

    Shows splits, shards, audio, classes, HRTF and QA tasks. Exit code 1 (and TAMPERED
    lines) when a shard is modified, missing or unrecorded."""
    from collections import Counter

    import numpy as np
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from binsynth.dataset.reader import label_values, metadata, open_dataset, verify_shards
    from binsynth.qa import LEVEL_NAMES, TASKS

    ds = open_dataset(folder)
    check = verify_shards(ds) if verify else None
    bad = set(check.changed + check.missing) if check else set()
    table = metadata(ds, skip=bad)
    values = label_values(table)
    import sys

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 100)  # full hashes in logs

    info = Table(title=f"binsynth dataset {escape(str(ds.root))}", show_header=False, title_justify="left",
                 box=box.SIMPLE)
    info.add_column("field", style="bold")
    info.add_column("value", overflow="fold")
    name = ds.recipe.dataset.name if ds.recipe is not None else "?"
    info.add_row("name", escape(name))
    info.add_row("recipe hash", ds.manifest.recipe_hash)
    info.add_row("recipe.yaml", "matches the manifest" if ds.recipe_problem is None
                 else f"[red]{escape(ds.recipe_problem)}[/red]")
    info.add_row("binsynth", ds.manifest.binsynth_version)
    rates = sorted(set(table.column("sample_rate").to_pylist()))
    durations = np.asarray(table.column("duration").to_pylist(), float)
    foa = ds.recipe is not None and "foa" in ds.recipe.output.receivers
    info.add_row("audio", f"{', '.join(f'{r} Hz' for r in rates)}, 2 channels (0 = left ear), "
                          f"{_span(durations, 's')} per scene"
                          + ("; audio_foa: 4 channels, AmbiX W, Y, Z, X (SN3D)" if foa else ""))
    hrtfs = sorted({(h["name"], h["sha256"]) for h in table.column("hrtf").to_pylist()})
    info.add_row("HRTF", "\n".join(f"{n}, sha256\n{s}" for n, s in hrtfs))
    labels = Counter(values["label"].tolist())
    info.add_row("classes", f"{len(labels)}: " + ", ".join(f"{k} {v}" for k, v in sorted(labels.items())))
    moving = ""
    src_type = table.schema.field("sources").type.value_type
    if src_type.get_field_index("moving") >= 0:  # a dataset with sources.motion
        flags = table.column("sources").combine_chunks().flatten().field("moving").to_pylist()
        moving = f"; {sum(bool(f) for f in flags)} moving (trajectories on the 100 ms grid)"
    info.add_row("sources", f"{len(values['label'])} in {len(values['split'])} scenes "
                            f"({_span(values['n_sources'].astype(float), '')} per scene){moving}")
    if check is None:
        info.add_row("verified", "not checked (--no-verify)")
    else:
        n = len(ds.manifest.shards)
        verdict = f"{len(check.ok)}/{n} shards match manifest.json"
        info.add_row("verified", verdict if check.intact else f"[bold red]{verdict} — FAILED[/bold red]")
    console.print(info)

    splits = Table(title="splits", title_justify="left")
    for col in ("split", "scenes", "shards", "verified", "questions"):
        splits.add_column(col, justify="left" if col == "split" else "right")
    for split, records in ds.splits.items():
        files = [r.file for r in records]
        ok = "–" if check is None else f"{sum(f in check.ok for f in files)}/{len(files)}"
        splits.add_row(split, str(sum(r.rows for r in records)), f"{len(records)}/{records[0].count}", ok,
                       str(int(np.sum(values["qa_split"] == split))))
    console.print(splits)

    tasks = Table(title="QA tasks", title_justify="left")
    for col in ("level", "task", "questions"):
        tasks.add_column(col, justify="right" if col == "questions" else "left")
    for task, count in sorted(Counter(values["qa_task"].tolist()).items(),
                              key=lambda kv: (TASKS[kv[0]].level if kv[0] in TASKS else 9, kv[0])):
        level = TASKS[task].level if task in TASKS else 0
        tasks.add_row(f"{level} {LEVEL_NAMES.get(level, '?')}", task, str(count))
    tasks.add_row("", "[bold]total[/bold]", str(len(values["qa_task"])))
    console.print(tasks)

    problems = check.problems() if check is not None else []
    foreign = sum(h != ds.manifest.recipe_hash for h in table.column("recipe_hash").to_pylist())
    if foreign:
        problems.append(f"{foreign} row(s) carry a recipe hash other than manifest.json's")
    if problems:
        for line in problems:
            console.print(f"[bold red]TAMPERED[/bold red] {escape(line)}")
        if bad:
            console.print(f"(the summary above leaves out the {len(bad)} shard(s) that failed verification)")
        typer.echo(f"verification failed: {len(problems)} problem(s) in {ds.root}", err=True)
        raise typer.Exit(1)


def _span(x, unit: str) -> str:
    if x.size == 0:
        return "–"
    lo, hi = float(x.min()), float(x.max())
    return f"{lo:g} {unit}".strip() if lo == hi else f"{lo:g}–{hi:g} {unit}".strip()


def stats_command(
    folder: Annotated[Path, typer.Argument(help="Dataset folder written by `binsynth render`.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for the PNGs (default: DIR/stats).")] = None,
) -> None:
    """PNG histograms of a dataset's labels, from metadata columns only (no audio).

    One figure each: azimuth, elevation, distance, classes, RT60, sources per scene, QA
    tasks, QA levels; bars stacked by split."""
    from binsynth.dataset.reader import label_values, metadata, open_dataset
    from binsynth.errors import ConfigError
    from binsynth.plots.scene import plot_stats

    ds = open_dataset(folder)
    out = out if out is not None else ds.root / "stats"
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out}: exists and is not a folder")
    values = label_values(metadata(ds))
    name = ds.recipe.dataset.name if ds.recipe is not None else ds.root.name
    paths = plot_stats(values, out, name=name)
    typer.echo(f"{len(paths)} figures of {len(values['split'])} scenes in {out}:")
    for p in paths:
        typer.echo(str(p))


def replay_command(
    folder: Annotated[Path, typer.Argument(help="Dataset folder written by `binsynth render`.")],
    row_id: Annotated[str, typer.Option("--id", help="Row id, e.g. train-00000003.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the re-rendered audio to this WAV.")] = None,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda")] = "cpu",
) -> None:
    """Re-render one row from its scene JSON and compare it with the stored audio.

    Uses DIR/recipe.yaml (its hash and the HRTF file's SHA-256 must match the row's).
    Passes within one 16-bit step; exit code 1 when the audio differs more."""
    from binsynth.io.atomic import atomic_path
    from binsynth.io.codecs import encode
    from binsynth.dataset.replay import TOLERANCE, replay

    r = replay(folder, row_id, device=device)
    lsb = r.max_diff / TOLERANCE
    typer.echo(f"{r.row_id} ({r.shard}): re-rendered from its scene JSON at {r.fs_hz} Hz, "
               f"{r.audio.shape[-1] / r.fs_hz:g} s")
    typer.echo(f"max |difference| {r.max_diff:.3g} ({lsb:.2f} LSB of 16 bits), {r.differing_samples} sample(s) differ, "
               f"FLAC bytes {'identical' if r.bytes_equal and r.foa_bytes_equal else 'differ'}"
               f"{' (audio and audio_foa)' if r.foa is not None else ''}, "
               f"scene JSON {'reproduced' if r.scene_equal else 'DIFFERS'}")
    if not r.shard_intact:
        typer.echo(f"warning: {r.shard}: SHA-256 differs from manifest.json (modified or corrupt)", err=True)
    if out is not None:
        with atomic_path(out) as tmp:
            tmp.write_bytes(encode(r.audio, r.fs_hz, "wav", r.bits))
        typer.echo(str(out))
    if not r.ok:
        typer.echo(f"MISMATCH: {r.row_id} does not reproduce its stored audio within 1 LSB", err=True)
        raise typer.Exit(1)
    typer.echo("OK: matches the stored audio within 1 LSB")


def verify_command(
    folder: Annotated[Path, typer.Argument(help="Dataset folder written by `binsynth render`.")],
) -> None:
    """Re-check every shard against manifest.json: SHA-256, schema, row counts, scene ids,
    decodable audio; and that the render is complete with nothing stray in data/.

    Exit code 0: intact; 1: problems found (one line each on stdout, a summary on stderr);
    2: FOLDER is not a dataset."""
    from binsynth.dataset.reader import open_dataset
    from binsynth.dataset.verify import verify_dataset
    from binsynth.progress import rate_bar

    ds = open_dataset(folder)
    with rate_bar("verify", len(ds.manifest.shards), "shards") as advance:
        report = verify_dataset(ds, progress=advance)
    for problem in report.problems:
        typer.echo(f"PROBLEM {problem}")
    if not report.intact:
        typer.echo(f"{folder}: {len(report.problems)} problem(s) in {report.shards} shards", err=True)
        raise typer.Exit(1)
    typer.echo(f"{folder}: intact — {report.shards} shards, {report.rows} rows match manifest.json")
