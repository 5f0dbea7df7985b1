"""Folder corpus: ``root/<label>/…/*.{wav,flac,ogg}``, one folder per sound class.

Each first-level folder of ``root`` is a label; every audio file below it (any depth,
extension matched case-insensitively, hidden files and folders skipped) is one clip whose
``clip_id`` is its POSIX path relative to ``root``. Files directly in ``root`` are ignored.
Clips go to splits by the stable hash of :mod:`binsynth.corpora.split`.

Audio is read with soundfile, downmixed to mono by averaging the channels and resampled
with ``scipy.signal.resample_poly`` to the asked rate: float32 in [-1, 1], rates in Hz,
times in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from binsynth.corpora.base import AUDIO_EXTENSIONS, Clip, Decibels, FileCorpus, sorted_clips
from binsynth.corpora.split import DEFAULT_SPLITS, partition
from binsynth.errors import ConfigError, PathError


class FolderCorpus(FileCorpus):
    """Audio files sorted into one folder per label.

    root:       the corpus folder
    name:       the corpus name (default: the folder's name); part of the split hash key
    splits:     split weights, e.g. ``{"train": 0.8, "test": 0.2}``
    extensions: file extensions taken as audio
    peak_dbfs:  peak-normalise each loaded segment to this level (None: levels as stored)
    """

    kind = "folder"

    def __init__(
        self,
        root: str | Path,
        name: str | None = None,
        splits: Mapping[str, float] = DEFAULT_SPLITS,
        extensions: Sequence[str] = AUDIO_EXTENSIONS,
        peak_dbfs: Decibels | None = None,
    ):
        root = Path(root)
        if not root.is_dir():
            raise PathError(f"{root}: corpus folder does not exist")
        super().__init__(name if name is not None else root.resolve().name, root, splits, peak_dbfs)
        exts = {e.lower() if e.startswith(".") else "." + e.lower() for e in extensions}
        clips = []
        for label_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for f in sorted(label_dir.rglob("*")):
                rel = f.relative_to(root)
                if any(part.startswith(".") for part in rel.parts) or f.suffix.lower() not in exts or not f.is_file():
                    continue
                clips.append(Clip(self.name, rel.as_posix(), label_dir.name, rel.as_posix()))
        if not clips:
            pattern = ", ".join(f"*{e}" for e in sorted(exts))
            raise ConfigError(f"{root}: no audio files found in root/<label>/ folders ({pattern})")
        self._set_parts(partition(sorted_clips(clips), splits, self.name), n_explicit=0)
