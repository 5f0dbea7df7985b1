"""``binsynth verify DIR``: re-check a rendered dataset against its manifest.

Per shard recorded in ``manifest.json``: the file exists, its SHA-256 is the recorded one,
it is a readable Parquet file with the shard schema, its row count is the recorded one,
its ids are the scene range the manifest gives it (``{split}-{index:08d}``, in order),
and every audio cell decodes to finite 2-channel audio (4-channel in ``audio_foa``) at the row's sample rate and
duration. Per folder: ``recipe.yaml`` matches the manifest's recipe hash, every shard the
recipe plans is recorded and the card was written (else the render is unfinished), nothing
unrecorded, temporary or other than a shard sits in ``data/``, the manifest's counts add
up, and no render is writing there now. A SHA-256 match alone proves the bytes are the
renderer's only if the manifest is trusted; the content checks catch a shard and manifest
rewritten together into something that is not a dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from binsynth.dataset.reader import Dataset, verify_shards
from binsynth.io.store import is_temporary


@dataclass
class Report:
    shards: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _check_shard(ds: Dataset, record, expected_schema) -> tuple[int, list[str]]:
    """(rows read, problems) of one recorded shard file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from binsynth.errors import AudioFileError
    from binsynth.io.codecs import decode

    file = record.file
    try:
        table = pq.read_table(ds.root / file)
    except (OSError, pa.ArrowException) as e:
        return 0, [f"{file}: not a readable Parquet shard ({type(e).__name__}: {str(e).splitlines()[0]})"]
    problems = []
    if expected_schema is not None and not table.schema.equals(expected_schema, check_metadata=False):
        problems.append(f"{file}: columns differ from the binsynth shard schema")
        return table.num_rows, problems
    missing = [c for c in ("id", "split", "audio", "sample_rate", "duration") if c not in table.column_names]
    if missing:  # without recipe.yaml there is no schema to compare with
        return table.num_rows, [f"{file}: no column {missing[0]!r}: not a binsynth shard"]
    if table.num_rows != record.rows:
        problems.append(f"{file}: {table.num_rows} rows, manifest.json records {record.rows}")
    ids = table.column("id").to_pylist()
    want = [f"{record.split}-{i:08d}" for i in range(record.first_scene, record.first_scene + record.n_scenes)]
    # a shard holds exactly its scene range, in order; a short shard whose ids are in that
    # range is already reported by its row count, once
    if ids != sorted(set(ids)) or not set(ids) <= set(want) or (len(ids) == len(want) and ids != want):
        problems.append(f"{file}: scene ids are not {want[0]}..{want[-1]} in order")
    splits = set(table.column("split").to_pylist())
    if splits - {record.split}:
        problems.append(f"{file}: rows of split {sorted(splits - {record.split})[0]!r} in a {record.split!r} shard")
    rates = table.column("sample_rate").to_pylist()
    durations = table.column("duration").to_pylist()
    columns = [(c, n, table.column(c).to_pylist()) for c, n in AUDIO_COLUMNS if c in table.column_names]
    for r, (row_id, rate, duration) in enumerate(zip(ids, rates, durations)):
        for column, channels, cells in columns:
            try:
                x, fs = decode((cells[r] or {}).get("bytes") or b"", f"{file} row {row_id} {column}")
            except AudioFileError as e:
                problems.append(str(e))
                continue
            if not isinstance(rate, int) or not isinstance(duration, float) or rate <= 0 or not duration > 0:
                problems.append(f"{file} row {row_id}: sample_rate {rate!r} / duration {duration!r} are not a rate and a length")
                break  # once per row, whatever its columns
            frames = round(duration * rate)
            if fs != rate or x.shape[0] != channels or abs(x.shape[1] - frames) > 1 or not np.isfinite(x).all():
                problems.append(f"{file} row {row_id}: {column} is {x.shape[0]} channels x {x.shape[1]} frames at {fs} Hz, "
                                f"expected {channels} x {frames} at {rate} Hz")
    return table.num_rows, problems


#: Audio columns and their channel counts: binaural (left, right); FOA (W, Y, Z, X) when rendered.
AUDIO_COLUMNS = (("audio", 2), ("audio_foa", 4))


def verify_dataset(ds: Dataset, progress: Callable[[int], None] | None = None) -> Report:
    """Every check of the module docstring; ``progress(1)`` after each shard."""
    from binsynth.io.schema import row_schema

    from binsynth.io.lock import holder, is_locked

    report = Report(shards=len(ds.manifest.shards))
    if is_locked(ds.root):
        report.problems.append(f"a render is writing into this folder now ({holder(ds.root)}); verify when it has finished")
    if ds.recipe_problem is not None:
        report.problems.append(f"recipe.yaml: {ds.recipe_problem}")
    try:
        hashes = verify_shards(ds)
    except OSError as e:  # an unreadable shard (I/O error, permissions): bit rot is what verify is for
        report.problems.append(f"{e.filename or ds.root}: cannot be read ({e.strerror or e})")
        return report
    report.problems += hashes.problems()
    schema = None if ds.recipe is None else row_schema(ds.recipe.audio.sample_rate_hz, "foa" in ds.recipe.output.receivers,
                                                     ds.recipe.sources.motion is not None)
    for file, record in sorted(ds.manifest.shards.items()):
        if file not in hashes.missing:
            rows, problems = _check_shard(ds, record, schema)
            report.rows += rows
            report.problems += problems
        if progress is not None:
            progress(1)
    for folder in ("", "data"):
        where = ds.root / folder
        for p in sorted(where.iterdir()) if where.is_dir() else []:
            rel = f"{folder}/{p.name}" if folder else p.name
            if is_temporary(p.name):
                report.problems.append(f"{rel}: a temporary file left by a killed run (a rerun removes it)")
            elif folder == "data" and not p.name.endswith(".parquet"):
                report.problems.append(f"{rel}: not a shard (only Parquet shards belong in data/)")
    if not (ds.root / "README.md").is_file():
        report.problems.append("README.md: missing — the render did not finish (it writes the card last)")
    limit = ds.manifest.stats.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        report.problems.append(f"manifest.json: stats.limit {limit!r} is not a scene count")
    elif ds.recipe is not None:
        from binsynth.dataset.pipeline import plan_shards

        planned = {p.file for p in plan_shards(ds.recipe, limit)}
        unplanned = sorted(set(ds.manifest.shards) - planned)
        unfinished = sorted(planned - set(ds.manifest.shards))
        report.problems += [f"{f}: recorded in manifest.json but not a shard of recipe.yaml" for f in unplanned]
        if unfinished:
            report.problems.append(f"{len(unfinished)} of {len(planned)} shards not rendered yet (first: "
                                   f"{unfinished[0]}); rerun `binsynth render` to finish")
    counted = ds.manifest.stats.get("scenes")
    if counted is not None and not (isinstance(counted, dict) and all(isinstance(n, int) for n in counted.values())):
        report.problems.append("manifest.json: stats.scenes is not a count per split")
    elif counted is not None:
        for split, n in sorted(counted.items()):
            have = sum(r.rows for r in ds.manifest.shards.values() if r.split == split)
            if n != have:
                report.problems.append(f"manifest.json: stats say {n} {split} scenes, its shards hold {have}")
    return report
