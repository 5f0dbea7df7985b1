"""Writing and reading Parquet shards atomically.

A shard is written to a temporary name in its folder, fsynced and renamed, so a reader
(or a resumed run) never sees a partial file. With the same rows the bytes are the same:
pyarrow writes no timestamps, and the writer's options are fixed here.
"""

from __future__ import annotations

import functools
import hashlib
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from binsynth.io.atomic import atomic_path
from binsynth.io.schema import row_schema

#: Rows per Parquet row group: small groups let readers stream a shard.
ROW_GROUP_ROWS = 64


@functools.lru_cache(maxsize=8)
def _compression(sample_rate_hz: int, foa: bool, motion: bool) -> dict[str, str]:
    """zstd for every leaf column but the encoded audio, which is already compressed
    (zstd over FLAC bytes costs time and saves nothing)."""
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([], schema=row_schema(sample_rate_hz, foa, motion)), buf)
    schema = pq.ParquetFile(io.BytesIO(buf.getvalue())).schema
    paths = [schema.column(i).path for i in range(len(schema))]
    return {p: ("none" if p in ("audio.bytes", "audio_foa.bytes") else "zstd") for p in paths}


def write_shard(path: str | Path, rows: list[dict], sample_rate_hz: int, foa: bool = False, motion: bool = False) -> str:
    """Write ``rows`` (dicts keyed by the schema's column names; with ``foa``, an
    ``audio_foa`` cell each; with ``motion``, sources with ``moving`` and ``trajectory``) to
    ``path``; return its SHA-256."""
    table = pa.Table.from_pylist(rows, schema=row_schema(sample_rate_hz, foa, motion))
    with atomic_path(path) as tmp:
        pq.write_table(
            table, tmp, compression=_compression(sample_rate_hz, foa, motion), row_group_size=ROW_GROUP_ROWS,
            use_dictionary=["id", "split", "recipe_hash", "binsynth_version"], write_statistics=False,
        )
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    return digest


def read_shard(path: str | Path) -> list[dict]:
    """All rows of a shard as dicts (for tests, ``inspect`` and ``verify``)."""
    return pq.read_table(path).to_pylist()
