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

from binsynth.errors import AudioFileError, ConfigError

POLICIES = ("skip", "fail")
BLOCK_FRAMES = 1 << 16


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
                return length != 0xFFFFFFFF and length > size - pos - 8  # 0xFFFFFFFF: written while streaming
            pos += 8 + length + (length & 1)
    return False


def screen_file(path: Path, max_clip_s: float | None = None) -> str | None:
    """Why the audio file at ``path`` cannot be used, or None when it can."""
    import soundfile as sf

    if not path.is_file():
        return "missing"
    try:
        if _riff_cut_short(path):
            return "truncated"
    except (OSError, ValueError):
        return "not audio"
    try:
        with sf.SoundFile(str(path)) as f:
            frames, fs = int(f.frames), int(f.samplerate)
            if frames <= 0:
                return "empty"
            if max_clip_s is not None and frames / fs > max_clip_s:
                return f"longer than {max_clip_s:g} s"
            read = 0
            while True:
                block = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
                if not len(block):
                    break
                if not np.isfinite(block).all():
                    return "NaN or infinite samples"
                read += len(block)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError, OSError) as e:
        text = str(e).lower()
        return "truncated or corrupt" if "read" in text or "decod" in text or "frames" in text else "not audio"
    return None if read >= frames else "truncated"


def screen_corpora(corpora: list, policy: str = "skip", max_clip_s: float | None = None,
                   progress: Callable[[int], None] | None = None) -> dict[str, str]:
    """Screen the files of ``corpora``: ``{"corpus:clip_id": reason}`` of the bad ones
    (policy ``skip``), or :class:`AudioFileError` at the first bad one (policy ``fail``)."""
    from binsynth.corpora.base import FileCorpus

    if policy not in POLICIES:
        raise ConfigError(f"--on-bad-audio {policy!r}: expected skip or fail")
    bad: dict[str, str] = {}
    for corpus in corpora:
        if not isinstance(corpus, FileCorpus):
            continue
        for split in corpus.splits():
            for clip in corpus.clips(split):
                path = corpus.resolve(clip)
                why = screen_file(path, max_clip_s)
                if why is not None:
                    if policy == "fail":
                        raise AudioFileError(f"{path}: {why} (corpus {corpus.name!r}, clip {clip.clip_id!r}); "
                                             "fix or remove it, or render with --on-bad-audio skip")
                    bad[f"{corpus.name}:{clip.clip_id}"] = why
                if progress is not None:
                    progress(1)
    return dict(sorted(bad.items()))


def n_files(corpora: list) -> int:
    """How many files :func:`screen_corpora` opens."""
    from binsynth.corpora.base import FileCorpus

    return sum(len(c.clips(s)) for c in corpora if isinstance(c, FileCorpus) for s in c.splits())


def without(corpora: list, bad: dict[str, str], needed: dict[str, int]) -> list:
    """``corpora`` with the ``bad`` clips left out; a one-line error when a split the
    dataset needs (``needed``: split -> scenes) is left with no clip in any corpus."""
    from binsynth.corpora.base import FileCorpus

    for corpus in corpora:
        if isinstance(corpus, FileCorpus):
            corpus.exclude({key.split(":", 1)[1] for key in bad if key.split(":", 1)[0] == corpus.name})
    for split, n in sorted(needed.items()):
        if n > 0 and not any(split in c.splits() and c.clips(split) for c in corpora):
            if not bad:
                raise ConfigError(f"split {split!r}: the corpora hold no source clip for it (too few files for "
                                  "the splits?)")
            raise ConfigError(f"split {split!r}: no usable source clip left ({len(bad)} unusable file(s) left "
                              "out); fix the corpus files, or render with --on-bad-audio fail to see the first")
    return corpora
