"""Parquet corpus: clips are rows of Parquet files, e.g. a Hugging Face dataset's ``data/``.

```
path                            one .parquet file, or a folder searched recursively for them
                                (hidden files and folders skipped)
column  audio_column  "audio"   HF Audio struct<bytes, path>, a path string, or binary bytes
column  label_column  "label"   a string, or an integer with HF ClassLabel names in the
                                file's ``huggingface`` schema metadata
column  split_column  "split"   optional: used when the files have it; a non-empty value
                                wins over the hash (``split_column=None`` ignores it)
```

One row is one clip. ``clip_id = "<file>#<row>"``: the file's POSIX path relative to the
folder (a lone file: its name) and the 0-based row number inside that file. Rows without an
explicit split go to one by the stable hash of :mod:`binsynth.corpora.split` (key
``"<corpus name>/<clip_id>"``). Clips keep file order (files sorted by path, rows ascending).

Audio: embedded bytes (any format libsndfile reads: FLAC, WAV, OGG …) are decoded with
soundfile; a path (a string column, or the struct's ``path`` where ``bytes`` is null) is read
from disk, relative to the Parquet file's folder. Either way the result is what every corpus
returns (see :func:`binsynth.corpora.base.read_audio`): channels averaged to mono, resampled
with ``scipy.signal.resample_poly`` to the asked rate, float32 in [-1, 1]; rates in Hz,
times in seconds. Errors are one line naming the file, row and column.

Reading: Parquet's unit of reading is a row group, so loading a clip reads its row group's
audio column; the most recently used ones are kept (up to :data:`CACHE_BYTES` per corpus
object) and a corpus that fits is read once per process. Only the label (and split) columns
are read when the corpus is built.
"""

from __future__ import annotations

import io
import json
import math
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from binsynth.corpora.base import (
    Clip,
    Decibels,
    FileCorpus,
    Hz,
    Seconds,
    audio_duration_s,
    check_fs,
    check_times,
    finish_segment,
    normalise_peak,
    read_audio,
)
from binsynth.corpora.split import DEFAULT_SPLITS, partition
from binsynth.errors import AudioFileError, BinsynthError, ConfigError, PathError, reason

#: Bytes of decoded-from-Parquet audio columns (whole row groups) kept per corpus object.
CACHE_BYTES = 256 * 2**20


@dataclass(frozen=True)
class _File:
    """One Parquet file of the corpus."""

    rel: str  # POSIX path relative to the corpus root: the clip_id's prefix
    path: Path
    audio_kind: str  # "struct" | "string" | "binary"
    starts: tuple[int, ...]  # first row of each row group, then the row count


class ParquetCorpus(FileCorpus):
    """Labelled audio stored in the rows of Parquet files.

    path:         a ``.parquet`` file, or a folder holding them (searched recursively)
    name:         the corpus name (default: the file's stem / the folder's name); part of
                  the split hash key
    splits:       weights for rows without an explicit split
    audio_column: the audio column (HF Audio struct, path string or binary)
    label_column: the label column (string, or integer with HF ClassLabel names)
    split_column: a column of explicit splits, used where the files have it (None, or the
                  audio / label column's name: no split column)
    peak_dbfs:    peak-normalise each loaded segment to this level (None: levels as stored)
    """

    kind = "parquet"

    def __init__(
        self,
        path: str | Path,
        name: str | None = None,
        splits: Mapping[str, float] = DEFAULT_SPLITS,
        audio_column: str = "audio",
        label_column: str = "label",
        split_column: str | None = "split",
        peak_dbfs: Decibels | None = None,
    ):
        path = Path(path)
        if path.is_file():
            root, found = path.parent, [path]
        elif path.is_dir():
            root = path
            found = sorted(
                f for f in path.rglob("*.parquet")
                if f.is_file() and not any(p.startswith(".") for p in f.relative_to(path).parts)
            )
            if not found:
                raise ConfigError(f"{path}: no .parquet files in the folder")
        else:
            raise PathError(f"{path}: Parquet file or folder does not exist")
        for role, col in (("audio_column", audio_column), ("label_column", label_column)):
            if not isinstance(col, str) or not col:
                raise ConfigError(f"{role}: {col!r} must be a column name")
        if audio_column == label_column:
            raise ConfigError(f"audio_column and label_column are both {audio_column!r}; name two columns")
        if split_column is not None and (not isinstance(split_column, str) or not split_column):
            raise ConfigError(f"split_column: {split_column!r} must be a column name or None")
        default_name = path.stem if path.is_file() else path.resolve().name
        super().__init__(name if name is not None else default_name, root, splits, peak_dbfs)
        self.path = path
        self.audio_column = audio_column
        self.label_column = label_column
        # the default "split" may also be the label column's name: then there is no split column
        self.split_column = None if split_column in (audio_column, label_column) else split_column
        self._files: dict[str, _File] = {}
        self._cache: OrderedDict[tuple[str, int], object] = OrderedDict()
        self._cache_bytes = 0
        clips: list[Clip] = []
        for f in found:
            clips += self._scan(f)
        if not clips:
            raise ConfigError(f"{path}: the Parquet data holds no rows")
        n_explicit = sum(c.split is not None for c in clips)
        self._set_parts(partition(clips, splits, self.name), n_explicit)

    # ------------------------------------------------------------ listing

    def _scan(self, file: Path) -> list[Clip]:
        """The clips of one file; checks its columns and reads its labels (and splits)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        rel = file.relative_to(self.root).as_posix()
        try:
            with pq.ParquetFile(file) as pf:
                schema = pf.schema_arrow
                kind = _audio_kind(schema, self.audio_column, file)
                if self.label_column not in schema.names:
                    raise ConfigError(
                        f"{file}: no column {self.label_column!r} (label_column); its columns are {schema.names}"
                    )
                use_split = self.split_column is not None and self.split_column in schema.names
                table = pf.read(columns=[self.label_column, *([self.split_column] if use_split else [])])
                sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)]
        except BinsynthError:
            raise
        except (OSError, pa.ArrowException) as e:
            raise ConfigError(f"{file}: not a readable Parquet file ({reason(e)})") from e
        names = class_names(schema, self.label_column)
        labels = _labels(table.column(self.label_column), names, file, self.label_column)
        found = _splits(table.column(self.split_column), file, self.split_column) if use_split else [None] * len(labels)
        self._files[rel] = _File(rel, file, kind, tuple(np.cumsum([0, *sizes]).tolist()))
        return [Clip(self.name, f"{rel}#{i}", label, rel, split) for i, (label, split) in enumerate(zip(labels, found))]

    # ------------------------------------------------------------ audio

    def load(self, clip: Clip, fs_hz: Hz, duration_s: Seconds | None = None, offset_s: Seconds = 0.0) -> np.ndarray:
        source, where = self._source(clip)
        if isinstance(source, Path):
            x = _prefixed(where, read_audio, source, fs_hz, duration_s, offset_s)
        else:
            x = read_audio_bytes(source, where, fs_hz, duration_s, offset_s)
        if self.peak_dbfs is not None:
            x = normalise_peak(x.astype(np.float64), self.peak_dbfs).astype(np.float32)
        return x

    def clip_duration_s(self, clip: Clip) -> Seconds:
        source, where = self._source(clip)
        if isinstance(source, Path):
            return _prefixed(where, audio_duration_s, source)
        import soundfile as sf

        try:
            info = sf.info(io.BytesIO(source))
        except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as e:
            raise AudioFileError(f"{where}: not decodable audio ({reason(e)})") from e
        return info.frames / info.samplerate

    def verify(self) -> None:
        """Decode every clip's header; raise the first PathError / AudioFileError found."""
        for clips in self._parts.values():
            for clip in clips:
                self.clip_duration_s(clip)

    def _source(self, clip: Clip) -> tuple[bytes | Path, str]:
        """The clip's audio bytes, or the path of its audio file; and ``"<file> row <i> column <c>"``."""
        self._check_clip(clip)
        rel, _, row_text = clip.clip_id.rpartition("#")
        f = self._files.get(rel)
        if f is None or not row_text.isdigit() or int(row_text) >= f.starts[-1]:
            raise ConfigError(f"corpus {self.name!r}: no clip with clip_id {clip.clip_id!r}")
        row = int(row_text)
        where = f"{f.path} row {row} column {self.audio_column!r}"
        group = bisect_right(f.starts, row) - 1
        column = self._row_group(f, group)
        at = row - f.starts[group]
        if at >= len(column):
            raise AudioFileError(f"{where}: the file changed since the corpus listed it; build the corpus again")
        value = column[at].as_py()
        data = path = None
        if f.audio_kind == "struct":
            data, path = (value.get("bytes"), value.get("path")) if value else (None, None)
        elif f.audio_kind == "string":
            path = value
        else:
            data = value
        if data:
            return bytes(data), where
        if path:
            p = Path(path).expanduser()
            return (p if p.is_absolute() else f.path.parent / p), where
        raise AudioFileError(f"{where}: no audio (bytes and path are both empty)")

    def _row_group(self, f: _File, group: int):
        """The audio column of one row group (a pyarrow Array), through the LRU cache."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        key = (f.rel, group)
        column = self._cache.pop(key, None)
        if column is None:
            try:
                with pq.ParquetFile(f.path) as pf:
                    column = pf.read_row_group(group, columns=[self.audio_column]).column(0).combine_chunks()
            except (OSError, pa.ArrowException, KeyError, IndexError) as e:
                raise AudioFileError(
                    f"{f.path}: row group {group} column {self.audio_column!r} unreadable ({reason(e)})"
                ) from e
            self._cache_bytes += column.nbytes
        self._cache[key] = column  # most recently used last
        while len(self._cache) > 1 and self._cache_bytes > CACHE_BYTES:
            self._cache_bytes -= self._cache.popitem(last=False)[1].nbytes
        return column

    def __getstate__(self) -> dict:  # the cache stays behind (process pools, Ray)
        state = dict(self.__dict__)
        state.update(_cache=OrderedDict(), _cache_bytes=0)
        return state

    # ------------------------------------------------------------ description

    def partition_summary(self) -> str:
        return super().partition_summary() + (
            f" Parquet: {len(self._files)} file(s), audio column '{self.audio_column}',"
            f" label column '{self.label_column}'."
        )

    def describe(self) -> dict:
        return {
            **super().describe(),
            "path": str(self.path),
            "files": sorted(self._files),
            "audio_column": self.audio_column,
            "label_column": self.label_column,
            "split_column": self.split_column,
        }


# ---------------------------------------------------------------- decoding bytes


def read_audio_bytes(
    data: bytes,
    where: str,
    fs_hz: Hz,
    duration_s: Seconds | None = None,
    offset_s: Seconds = 0.0,
) -> np.ndarray:
    """:func:`binsynth.corpora.base.read_audio` for an audio file held in memory.

    Same result, sample for sample, as writing ``data`` to a file and reading that: mono
    float32 at ``fs_hz``, the same resampling, padding and 5 ms fades at cut edges.
    (``read_audio`` only takes paths and base.py is shared; these lines follow its body.)
    ``where`` names the bytes in errors (AudioFileError, one line).
    """
    from binsynth.io.codecs import decode

    fs_hz = check_fs(fs_hz)
    duration_s, offset_s = check_times(duration_s, offset_s, fs_hz)
    audio, src_fs = decode(data, where)  # (channels, frames) float32
    n_frames = audio.shape[1]
    if n_frames <= 0:
        raise AudioFileError(f"{where}: audio holds no samples")
    start = int(round(offset_s * src_fs))
    if start >= n_frames:
        raise AudioFileError(f"{where}: offset {offset_s:g} s is past the end of the audio ({n_frames / src_fs:g} s)")
    want = n_frames - start
    if duration_s is not None:  # a few extra source samples so the resampler's edge is outside
        want = min(want, int(math.ceil(duration_s * src_fs)) + 64)
    seg = audio[:, start : start + want].T  # (frames, channels), as soundfile reads
    return finish_segment(seg, src_fs, fs_hz, start, n_frames, duration_s, where)


# ---------------------------------------------------------------- schema helpers


def class_names(schema, column: str) -> list[str] | None:
    """HF ``ClassLabel`` names of ``column`` from the schema's ``huggingface`` metadata, if any."""
    raw = (schema.metadata or {}).get(b"huggingface")
    try:
        feature = json.loads(raw)["info"]["features"][column] if raw else None
    except (ValueError, KeyError, TypeError):
        return None
    if isinstance(feature, dict) and feature.get("_type") == "ClassLabel" and isinstance(feature.get("names"), list):
        return [str(n) for n in feature["names"]]
    return None


def _audio_kind(schema, column: str, file: Path) -> str:
    import pyarrow as pa

    if column not in schema.names:
        raise ConfigError(f"{file}: no column {column!r} (audio_column); its columns are {schema.names}")
    t = schema.field(column).type
    binary = (pa.types.is_binary, pa.types.is_large_binary)
    string = (pa.types.is_string, pa.types.is_large_string)
    if pa.types.is_struct(t):
        fields = {t.field(i).name: t.field(i).type for i in range(t.num_fields)}
        ok_bytes = "bytes" not in fields or any(f(fields["bytes"]) for f in binary)
        ok_path = "path" not in fields or any(f(fields["path"]) for f in string)
        if ("bytes" in fields or "path" in fields) and ok_bytes and ok_path:
            return "struct"
    elif any(f(t) for f in string):
        return "string"
    elif any(f(t) for f in binary):
        return "binary"
    raise ConfigError(
        f"{file}: column {column!r} (audio_column) has type {t}; expected an HF Audio"
        " struct<bytes: binary, path: string>, a path string or binary audio bytes"
    )


def _labels(column, names: list[str] | None, file: Path, name: str) -> list[str]:
    import pyarrow as pa

    t = column.type
    if pa.types.is_dictionary(t):
        column, t = column.cast(t.value_type), t.value_type
    values = column.to_pylist()
    if pa.types.is_integer(t):
        if names is None:
            raise ConfigError(
                f"{file}: column {name!r} (label_column) holds integers and the file's metadata has no"
                " HF ClassLabel names for it; use a string label column"
            )
        out = []
        for i, v in enumerate(values):
            if v is None or not 0 <= v < len(names):
                raise ConfigError(
                    f"{file} row {i} column {name!r}: label {v!r} is not a class index 0..{len(names) - 1}"
                )
            out.append(names[v])
        return out
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise ConfigError(
            f"{file}: column {name!r} (label_column) has type {t}; expected strings (or ClassLabel integers)"
        )
    for i, v in enumerate(values):
        if v is None or not v.strip():
            raise ConfigError(f"{file} row {i} column {name!r}: empty label")
    return [v.strip() for v in values]


def _splits(column, file: Path, name: str) -> list[str | None]:
    import pyarrow as pa

    t = column.type
    if pa.types.is_dictionary(t):
        column, t = column.cast(t.value_type), t.value_type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise ConfigError(
            f"{file}: column {name!r} (split_column) has type {t}; expected strings (or split_column=None)"
        )
    out: list[str | None] = []
    for i, v in enumerate(column.to_pylist()):
        v = v.strip() if v else ""
        if "/" in v:
            raise ConfigError(f"{file} row {i} column {name!r}: split {v!r} must not contain '/'")
        out.append(v or None)
    return out


def _prefixed(where: str, fn, *args):
    """``fn(*args)``, with binsynth errors re-raised as ``"<where>: <message>"`` (same type)."""
    try:
        return fn(*args)
    except (AudioFileError, PathError) as e:
        raise type(e)(f"{where}: {e}") from e

