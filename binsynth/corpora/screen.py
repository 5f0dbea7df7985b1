"""Screening a render's source audio files before anything is written.

Every clip of every file-backed corpus (folder and manifest corpora) is opened and decoded
in blocks (constant memory, however long the file): a file that is missing, not audio,
empty, cut short (fewer frames than its header promises, or a decode error part-way),
holds NaN or infinite samples, or is longer than ``max_clip_s`` (when given) is *bad*.
What is sound but unusual — several channels, any sample rate, hours long — is kept:
rendering averages the channels, resamples, and reads only the segment a scene needs
(:func:`binsynth.corpora.base.read_audio`). Screening decodes every file once per render
(a few ms per short clip).

Policy ``skip`` (the default) leaves bad clips out of their corpus before scenes are
drawn, so no label ever names audio that is not there; the render records them, with a
count per reason, in ``manifest.json`` and the dataset card. Policy ``fail`` stops at the
first bad file with a one-line error naming it. Clips inside Parquet corpora and synthetic
sounds are not files and are not screened here (a Parquet corpus checks its rows itself).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from binsynth.errors import AudioFileError, ConfigError, PathError, reason

POLICIES = ("skip", "fail")
BLOCK_FRAMES = 1 << 16


#: a ``data`` size at or above this is a placeholder written while streaming (0xFFFFFFFF,
#: or arecord's 0x7FFFF000 on a pipe), not a promise of that many bytes
STREAMING_SIZE = 0x7FFFF000


def _riff_cut_short(path: Path) -> bool:
    """A WAV whose ``data`` chunk claims more bytes than the file holds (libsndfile quietly
    reads what is there, so a cut-off download would pass as a shorter clip)."""
    import struct

    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return False
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk, length = struct.unpack("<4sI", f.read(8))
            if chunk == b"data":
                return length < STREAMING_SIZE and length > size - pos - 8
            pos += 8 + length + (length & 1)
    return False


def screen_file(path: Path, max_clip_s: float | None = None) -> str | None:
    """Why the audio file at ``path`` cannot be used, or None when it can. A file that
    cannot be *read* (permissions, an I/O error) is not bad audio: :class:`PathError`."""
    import soundfile as sf

    if not path.is_file():
        return "missing"
    try:
        with open(path, "rb") as f:
            f.read(1)  # an unreadable file is the folder's problem, not the audio's
        if _riff_cut_short(path):
            return "truncated"
    except OSError as e:
        raise PathError(f"{path}: cannot read it ({reason(e)})") from None
    sound_errors = (sf.LibsndfileError, RuntimeError, ValueError, TypeError)
    try:
        f = sf.SoundFile(str(path))
    except sound_errors:
        return "not audio"
    with f:
        frames, fs = int(f.frames), int(f.samplerate)
        if frames <= 0:
            return "empty"
        if max_clip_s is not None and frames / fs > max_clip_s:
            return f"longer than {max_clip_s:g} s"
        read = 0
        try:
            while True:
                block = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
                if not len(block):
                    break
                if not np.isfinite(block).all():
                    return "NaN or infinite samples"
                read += len(block)
        except sound_errors:
            return "truncated or corrupt"
    return None if read >= frames else "truncated"


def file_clips(corpora: list) -> list[tuple]:
    """(corpus, clip, path) of every clip that is a file (what :func:`screen_corpora` opens)."""
    from binsynth.corpora.base import FileCorpus

    return [(corpus, clip, corpus.resolve(clip)) for corpus in corpora if isinstance(corpus, FileCorpus)
            for split in corpus.splits() for clip in corpus.clips(split)]


def screen_corpora(corpora: list, policy: str = "skip", max_clip_s: float | None = None,
                   progress: Callable[[int], None] | None = None, threads: int | None = None) -> dict[str, str]:
    """Screen the files of ``corpora``: ``{"corpus:clip_id": reason}`` of the bad ones
    (policy ``skip``), or :class:`AudioFileError` at the first bad one in corpus order
    (policy ``fail``). Files are decoded on ``threads`` threads (default: one per CPU, at
    most 8; libsndfile runs without the GIL); the result does not depend on their number."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    if policy not in POLICIES:
        raise ConfigError(f"--on-bad-audio {policy!r}: expected skip or fail")
    jobs = file_clips(corpora)
    if not jobs:
        return {}

    def one(job) -> str | None:
        why = screen_file(job[2], max_clip_s)
        if progress is not None:
            progress(1)
        return why

    bad: dict[str, str] = {}
    with ThreadPoolExecutor(threads or min(8, os.cpu_count() or 1)) as pool:
        for (corpus, clip, path), why in zip(jobs, pool.map(one, jobs)):
            if why is None:
                continue
            if policy == "fail":
                pool.shutdown(wait=False, cancel_futures=True)
                raise AudioFileError(f"{path}: {why} (corpus {corpus.name!r}, clip {clip.clip_id!r}); "
                                     "fix or remove it, or render with --on-bad-audio skip")
            bad[f"{corpus.name}:{clip.clip_id}"] = why
    return dict(sorted(bad.items()))


def without(corpora: list, bad: dict[str, str], needed: dict[str, int]) -> list:
    """``corpora`` with the ``bad`` clips left out; a one-line error when a corpus is left
    with no clip for a split the dataset needs (``needed``: split -> scenes): scenes draw
    their corpus first, by weight, and then a clip of it."""
    from binsynth.corpora.base import FileCorpus

    by_corpus: dict[str, set[str]] = {}
    for key in bad:  # "corpus:clip_id" (corpus names hold no ':')
        name, clip_id = key.split(":", 1)
        by_corpus.setdefault(name, set()).add(clip_id)
    for corpus in corpora:
        if isinstance(corpus, FileCorpus):
            corpus.exclude(by_corpus.get(corpus.name, set()))
    for split, n in sorted(needed.items()):
        for corpus in corpora if n > 0 else ():
            if split in corpus.splits() and not corpus.clips(split):
                lost = len(by_corpus.get(corpus.name, ()))
                if not lost:
                    raise ConfigError(f"corpus {corpus.name!r}: no source clip for split {split!r} (too few files "
                                      "for the splits?)")
                raise ConfigError(f"corpus {corpus.name!r}: no usable source clip left for split {split!r} ({lost} "
                                  "unusable file(s) left out); fix the files, or render with --on-bad-audio fail "
                                  "to see the first")
        if n > 0 and not any(split in c.splits() for c in corpora):
            raise ConfigError(f"split {split!r}: no corpus has source clips for it")
    return corpora
