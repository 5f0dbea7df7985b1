"""Manifest corpus: a CSV or JSON-lines file listing ``path``, ``label`` and optional ``split``.

```
path,label,split              {"path": "dogs/a.flac", "label": "dog", "split": "test"}
dogs/a.flac,dog,test          {"path": "rain/b.wav", "label": "rain"}
rain/b.wav,rain,
```

Paths are relative to the manifest's folder (the corpus root). A path that is absolute, or
that leaves the root through ``..``, is refused unless ``allow_absolute=True``. A row's
non-empty ``split`` wins; rows without one are assigned by the stable hash of
:mod:`binsynth.corpora.split`. The ``clip_id`` is the normalised POSIX path. Other columns
are ignored. Errors name the manifest file and line.

Audio is read as in :mod:`binsynth.corpora.folder`: mono float32 in [-1, 1] at the asked
rate in Hz, times in seconds.
"""

from __future__ import annotations

import csv
import json
import posixpath
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath

from binsynth.corpora.base import Clip, Decibels, FileCorpus
from binsynth.corpora.split import DEFAULT_SPLITS, partition
from binsynth.errors import ConfigError, PathError

#: Manifest formats by file suffix.
FORMATS: dict[str, str] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class ManifestCorpus(FileCorpus):
    """Audio files listed in a CSV / JSONL manifest.

    manifest:       the manifest file (``.csv``, ``.jsonl`` or ``.ndjson``)
    name:           the corpus name (default: the manifest's stem); part of the split hash key
    splits:         weights for rows without an explicit split
    allow_absolute: accept absolute paths and paths outside the manifest's folder
    check_files:    check at construction that every listed file exists (PathError)
    peak_dbfs:      peak-normalise each loaded segment to this level (None: levels as stored)
    """

    kind = "manifest"

    def __init__(
        self,
        manifest: str | Path,
        name: str | None = None,
        splits: Mapping[str, float] = DEFAULT_SPLITS,
        allow_absolute: bool = False,
        check_files: bool = True,
        peak_dbfs: Decibels | None = None,
    ):
        manifest = Path(manifest)
        if not manifest.is_file():
            raise PathError(f"{manifest}: manifest file does not exist")
        fmt = FORMATS.get(manifest.suffix.lower())
        if fmt is None:
            raise ConfigError(
                f"{manifest}: unknown manifest format {manifest.suffix!r}; expected one of {sorted(FORMATS)}"
            )
        super().__init__(name if name is not None else manifest.stem, manifest.parent, splits, peak_dbfs)
        self.manifest = manifest
        self.allow_absolute = allow_absolute
        clips: list[Clip] = []
        first_line: dict[str, int] = {}
        rows = _read_csv(manifest) if fmt == "csv" else _read_jsonl(manifest)
        for line, row in rows:
            where = f"{manifest} line {line}"
            path = _field(row, "path", where, required=True)
            label = _field(row, "label", where, required=True)
            split = _field(row, "split", where, required=False) or None
            if split is not None and "/" in split:
                raise ConfigError(f"{where}: split {split!r} must not contain '/'")
            rel = self._clean_path(path, where)
            if rel in first_line:
                raise ConfigError(f"{where}: path {path!r} is already listed on line {first_line[rel]}")
            first_line[rel] = line
            if check_files and not (Path(rel) if Path(rel).is_absolute() else self.root / rel).is_file():
                raise PathError(f"{where}: audio file {path!r} does not exist")
            clips.append(Clip(self.name, rel, label, rel, split))
        if not clips:
            raise ConfigError(f"{manifest}: manifest lists no clips")
        n_explicit = sum(c.split is not None for c in clips)
        self._set_parts(partition(clips, splits, self.name), n_explicit)

    def _clean_path(self, path: str, where: str) -> str:
        """The row's path, normalised (POSIX, no '.', no '..' left inside the root)."""
        if "\\" in path or PureWindowsPath(path).drive:
            raise ConfigError(f"{where}: path {path!r} uses Windows separators or a drive; write it with '/'")
        if PurePosixPath(path).is_absolute():
            if not self.allow_absolute:
                raise ConfigError(
                    f"{where}: absolute path {path!r} refused; make it relative to {self.root}"
                    " or pass allow_absolute=True"
                )
            return posixpath.normpath(path)
        norm = posixpath.normpath(path)
        if norm == ".." or norm.startswith("../"):
            if not self.allow_absolute:
                raise ConfigError(
                    f"{where}: path {path!r} leaves the corpus root {self.root} through '..';"
                    " pass allow_absolute=True to allow it"
                )
            return (self.root.resolve() / norm).resolve().as_posix()
        if norm == ".":
            raise ConfigError(f"{where}: path {path!r} names the corpus folder, not a file")
        return norm

    def partition_summary(self) -> str:
        return super().partition_summary() + f" Manifest: {self.manifest.name}."

    def describe(self) -> dict:
        return {**super().describe(), "manifest": str(self.manifest)}


def _field(row: Mapping, key: str, where: str, required: bool) -> str:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ConfigError(f"{where}: missing {key!r}")
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key!r} must be a string, got {value!r}")
    return value.strip()


def _read_csv(manifest: Path) -> Iterator[tuple[int, dict]]:
    try:
        with open(manifest, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [k for k in ("path", "label") if k not in header]
            if missing:
                raise ConfigError(
                    f"{manifest}: CSV header {header} lacks column(s) {missing}; expected path,label[,split]"
                )
            for row in reader:
                if None in row:
                    raise ConfigError(f"{manifest} line {reader.line_num}: more fields than the header has")
                if not any((v or "").strip() for v in row.values()):
                    continue  # blank line
                yield reader.line_num, row
    except UnicodeDecodeError as e:
        raise ConfigError(f"{manifest}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except csv.Error as e:
        raise ConfigError(f"{manifest}: malformed CSV ({e})") from e


def _read_jsonl(manifest: Path) -> Iterator[tuple[int, dict]]:
    try:
        with open(manifest, encoding="utf-8-sig") as f:
            for line_no, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    raise ConfigError(f"{manifest} line {line_no}: not valid JSON ({e.msg})") from e
                if not isinstance(row, dict):
                    raise ConfigError(f"{manifest} line {line_no}: expected a JSON object with 'path' and 'label'")
                yield line_no, row
    except UnicodeDecodeError as e:
        raise ConfigError(f"{manifest}: not UTF-8 text ({e.reason} at byte {e.start})") from e
