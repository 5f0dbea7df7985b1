"""The common interface of dry-source corpora, and the audio reading they share.

Units: sample rates ``fs_hz`` in Hz (positive integers), times ``duration_s`` /
``offset_s`` in seconds, levels in dBFS (0 dBFS = full scale 1.0). Audio returned by
:meth:`Corpus.load` is mono float32 in [-1, 1], shape ``(n_samples,)`` with
``n_samples = round(duration_s * fs_hz)`` when a duration is asked for.

A corpus is a named, deterministic list of :class:`Clip` records per split. A clip is
identified inside its corpus by ``clip_id`` (a string); a scene stores ``(corpus, clip_id)``
and :meth:`Corpus.clip` turns it back into the record.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from binsynth.corpora.split import partition_summary, split_order
from binsynth.errors import AudioFileError, ConfigError, PathError, reason

Hz = int
Seconds = float
Decibels = float

#: Length in seconds of the raised-cosine fade put on an edge where audio was cut.
CUT_FADE_S: Seconds = 0.005


@dataclass(frozen=True)
class Clip:
    """One dry source recording (or synthetic variant) of a corpus.

    corpus:  the corpus's name
    clip_id: unique inside the corpus (file corpora: the path relative to the root, POSIX
             style; synthetic: ``"<label>/<n>"``)
    label:   the sound class
    path:    file path relative to the corpus root (absolute only where the corpus allows
             absolute paths); ``None`` for synthetic clips
    split:   the split the clip belongs to (filled in by the corpus)
    """

    corpus: str
    clip_id: str
    label: str
    path: str | None = None
    split: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> Clip:
        return cls(**{k: d.get(k) for k in ("corpus", "clip_id", "label", "path", "split")})


class Corpus(ABC):
    """A named source of labelled mono dry audio, partitioned into splits.

    Every method is deterministic: the same corpus (same files / options) gives the same
    labels, the same clips in the same order, and byte-identical audio.
    """

    name: str

    @abstractmethod
    def labels(self) -> list[str]:
        """The sound classes, sorted (synthetic: in class-index order)."""

    @abstractmethod
    def splits(self) -> list[str]:
        """The split names the corpus has (some may hold no clips)."""

    @abstractmethod
    def clips(self, split: str) -> list[Clip]:
        """The clips of ``split`` in a fixed order; an unknown split is a ConfigError."""

    @abstractmethod
    def clip(self, clip_id: str) -> Clip:
        """The clip with this id (with its split filled in); unknown ids are a ConfigError."""

    @abstractmethod
    def load(self, clip: Clip, fs_hz: Hz, duration_s: Seconds | None = None, offset_s: Seconds = 0.0) -> np.ndarray:
        """Mono float32 audio of ``clip`` at ``fs_hz``, shape ``(n,)``.

        ``offset_s`` skips the start; ``duration_s`` fixes the length to
        ``round(duration_s * fs_hz)`` samples (a shorter source is zero-padded at the end).
        """

    @abstractmethod
    def clip_duration_s(self, clip: Clip) -> Seconds | None:
        """The clip's natural length in seconds (``None``: any length can be made)."""

    @abstractmethod
    def partition_summary(self) -> str:
        """A paragraph for the dataset card saying how the clips were partitioned."""

    def describe(self) -> dict:
        """A JSON-ready description for manifests: kind, name, labels, clips per split."""
        return {
            "kind": type(self).__name__,
            "name": self.name,
            "labels": self.labels(),
            "clips_per_split": {s: len(self.clips(s)) for s in self.splits()},
        }

    def _check_split(self, split: str) -> None:
        if split not in self.splits():
            raise ConfigError(f"corpus {self.name!r}: unknown split {split!r}; it has {self.splits()}")

    def _check_clip(self, clip: Clip) -> None:
        if not isinstance(clip, Clip):
            raise ConfigError(f"corpus {self.name!r}: expected a Clip, got {type(clip).__name__}")
        if clip.corpus != self.name:
            raise ConfigError(f"clip {clip.clip_id!r} belongs to corpus {clip.corpus!r}, not {self.name!r}")


# ------------------------------------------------------------------ argument checks


def check_fs(fs_hz: object, minimum: int = 1) -> int:
    """``fs_hz`` as an int >= ``minimum``, or a ConfigError naming the value."""
    if isinstance(fs_hz, bool) or not isinstance(fs_hz, (int, np.integer)) or fs_hz < minimum:
        raise ConfigError(f"fs_hz: {fs_hz!r} must be an integer sample rate >= {minimum} Hz")
    return int(fs_hz)


def is_real(value: object) -> bool:
    """A finite int or float (not a bool)."""
    numeric = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    return numeric and math.isfinite(value)


def check_times(duration_s: object, offset_s: object, fs_hz: int | None = None) -> tuple[float | None, float]:
    """Validated ``(duration_s, offset_s)``: a positive finite duration (or None), offset >= 0.

    With ``fs_hz``, the duration must also last at least one sample.
    """
    if duration_s is not None:
        if not is_real(duration_s) or duration_s <= 0:
            raise ConfigError(f"duration_s: {duration_s!r} must be a finite number of seconds > 0")
        duration_s = float(duration_s)
        if fs_hz is not None and round(duration_s * fs_hz) < 1:
            raise ConfigError(f"duration_s: {duration_s!r} s is shorter than one sample at {fs_hz} Hz")
    if not is_real(offset_s) or offset_s < 0:
        raise ConfigError(f"offset_s: {offset_s!r} must be a finite number of seconds >= 0")
    return duration_s, float(offset_s)


# ------------------------------------------------------------------ level and edges


def peak_dbfs(x: np.ndarray) -> Decibels:
    """Peak level in dBFS (-inf for silence)."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return 20.0 * math.log10(peak) if peak > 0 else -math.inf


def rms_dbfs(x: np.ndarray) -> Decibels:
    """RMS level in dBFS (-inf for silence); a full-scale sine reads -3.01 dBFS."""
    ms = float(np.mean(np.square(x, dtype=np.float64))) if x.size else 0.0
    return 10.0 * math.log10(ms) if ms > 0 else -math.inf


def normalise_peak(x: np.ndarray, target_dbfs: Decibels) -> np.ndarray:
    """``x`` scaled so its peak is ``target_dbfs`` (silence is returned unchanged)."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 0:
        return x
    return x * (10.0 ** (target_dbfs / 20.0) / peak)


def fade_window(n: int, fade_n: int, fade_in: bool = True, fade_out: bool = True) -> np.ndarray:
    """Gain curve of length ``n``: 1 inside, raised-cosine ramps of ``fade_n`` samples at the ends."""
    w = np.ones(n)
    fade_n = min(fade_n, n // 2)
    if fade_n > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade_n) + 0.5) / fade_n)
        if fade_in:
            w[:fade_n] = ramp
        if fade_out:
            w[n - fade_n :] = ramp[::-1]
    return w


def fit_length(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` trimmed or zero-padded at the end to exactly ``n`` samples."""
    if x.shape[0] >= n:
        return x[:n]
    return np.concatenate([x, np.zeros(n - x.shape[0], dtype=x.dtype)])


# ------------------------------------------------------------------ reading files


def read_audio(
    path: str | Path,
    fs_hz: Hz,
    duration_s: Seconds | None = None,
    offset_s: Seconds = 0.0,
) -> np.ndarray:
    """Read an audio file as mono float32 at ``fs_hz``.

    Channels are averaged; the rate is converted with ``scipy.signal.resample_poly``
    (polyphase, Kaiser window; the exact ratio ``fs_hz / file rate``). Only the needed
    part of the file is read. Where the segment is cut out of a longer file, the cut edge
    gets a 5 ms raised-cosine fade so it does not click; a file shorter than the segment is
    zero-padded at the end. Levels are left as stored (no gain).

    Raises PathError (missing file) or AudioFileError (unreadable, empty, NaN/inf samples,
    offset past the end), each one line naming the file.
    """
    import soundfile as sf

    fs_hz = check_fs(fs_hz)
    duration_s, offset_s = check_times(duration_s, offset_s, fs_hz)
    path = Path(path)
    if not path.is_file():
        raise PathError(f"{path}: audio file does not exist")
    try:
        with sf.SoundFile(str(path)) as f:
            src_fs, n_frames = int(f.samplerate), int(f.frames)
            if n_frames <= 0:
                raise AudioFileError(f"{path}: audio file holds no samples")
            start = int(round(offset_s * src_fs))
            if start >= n_frames:
                raise AudioFileError(
                    f"{path}: offset {offset_s:g} s is past the end of the file ({n_frames / src_fs:g} s)"
                )
            # a few extra source samples past the segment so the resampler's edge is outside it
            want = n_frames - start
            if duration_s is not None:
                want = min(want, int(math.ceil(duration_s * src_fs)) + 64)
            f.seek(start)
            data = f.read(frames=want, dtype="float32", always_2d=True)
    except AudioFileError:
        raise
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as e:
        raise AudioFileError(f"{path}: not a readable audio file ({reason(e)})") from e
    if data.shape[0] == 0:
        raise AudioFileError(f"{path}: no samples could be read")
    return finish_segment(data, src_fs, fs_hz, start, n_frames, duration_s, str(path))


def finish_segment(seg: np.ndarray, src_fs: int, fs_hz: Hz, start: int, n_frames: int,
                   duration_s: Seconds | None, where: str) -> np.ndarray:
    """A read segment (frames, channels) starting at frame ``start`` of ``n_frames``, to float32
    mono at ``fs_hz``: checked finite, downmixed by averaging, resampled, cut or padded to
    ``duration_s``, with short fades where the segment was cut out of longer audio."""
    from scipy.signal import resample_poly

    if not np.all(np.isfinite(seg)):
        raise AudioFileError(f"{where}: audio holds NaN or infinite samples")
    x = seg.mean(axis=1, dtype=np.float64) if seg.shape[1] > 1 else seg[:, 0].astype(np.float64)
    if src_fs != fs_hz:
        ratio = Fraction(fs_hz, src_fs)
        x = resample_poly(x, ratio.numerator, ratio.denominator)
    cut_start = start > 0
    cut_end = start + seg.shape[0] < n_frames
    if duration_s is not None:
        n = int(round(duration_s * fs_hz))
        cut_end = cut_end or x.shape[0] > n
        x = fit_length(x, n)
    if (cut_start or cut_end) and x.size:
        x = x * fade_window(x.shape[0], int(round(CUT_FADE_S * fs_hz)), fade_in=cut_start, fade_out=cut_end)
    return x.astype(np.float32)


def audio_duration_s(path: str | Path) -> Seconds:
    """Length of an audio file in seconds from its header (PathError / AudioFileError)."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise PathError(f"{path}: audio file does not exist")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as e:
        raise AudioFileError(f"{path}: not a readable audio file ({reason(e)})") from e
    return info.frames / info.samplerate


# ------------------------------------------------------------------ file-backed corpora


AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg")


class FileCorpus(Corpus):
    """A corpus of audio files under ``root`` (the shared part of folder and manifest corpora).

    Subclasses build ``self._parts`` ({split: [Clip, …]}) in ``__init__``. ``peak_dbfs``
    (None = levels as stored) peak-normalises each loaded segment.
    """

    kind = "file"

    def __init__(self, name: str, root: Path, weights: Mapping[str, float], peak_dbfs: Decibels | None):
        if not isinstance(name, str) or not name.strip() or "/" in name:
            raise ConfigError(f"corpus name {name!r} must be a non-empty string without '/'")
        if peak_dbfs is not None and (not is_real(peak_dbfs) or peak_dbfs > 0):
            raise ConfigError(f"peak_dbfs: {peak_dbfs!r} must be None or a finite level <= 0 dBFS")
        self.name = name
        self.root = root
        self.weights = dict(weights)
        self.peak_dbfs = peak_dbfs
        self._parts: dict[str, list[Clip]] = {}
        self._by_id: dict[str, Clip] = {}
        self._n_explicit = 0

    def _set_parts(self, parts: dict[str, list[Clip]], n_explicit: int) -> None:
        self._parts = parts
        self._by_id = {c.clip_id: c for clips in parts.values() for c in clips}
        self._n_explicit = n_explicit

    def exclude(self, clip_ids: set[str]) -> None:
        """Leave these clips out (bad files, :mod:`binsynth.corpora.screen`); the others keep their splits."""
        if clip_ids:
            parts = {s: [c for c in clips if c.clip_id not in clip_ids] for s, clips in self._parts.items()}
            self._set_parts(parts, self._n_explicit)

    def labels(self) -> list[str]:
        return sorted({c.label for c in self._by_id.values()})

    def splits(self) -> list[str]:
        return split_order(self._parts)

    def clips(self, split: str) -> list[Clip]:
        self._check_split(split)
        return list(self._parts[split])

    def clip(self, clip_id: str) -> Clip:
        try:
            return self._by_id[clip_id]
        except KeyError:
            raise ConfigError(f"corpus {self.name!r}: no clip with clip_id {clip_id!r}") from None

    def resolve(self, clip: Clip) -> Path:
        """The clip's file on disk."""
        self._check_clip(clip)
        if clip.path is None:
            raise ConfigError(f"corpus {self.name!r}: clip {clip.clip_id!r} has no path")
        p = Path(clip.path)
        return p if p.is_absolute() else self.root / p

    def load(self, clip: Clip, fs_hz: Hz, duration_s: Seconds | None = None, offset_s: Seconds = 0.0) -> np.ndarray:
        x = read_audio(self.resolve(clip), fs_hz, duration_s, offset_s)
        if self.peak_dbfs is not None:
            x = normalise_peak(x.astype(np.float64), self.peak_dbfs).astype(np.float32)
        return x

    def clip_duration_s(self, clip: Clip) -> Seconds:
        return audio_duration_s(self.resolve(clip))

    def verify(self) -> None:
        """Open every file's header; raise the first PathError / AudioFileError found."""
        for clips in self._parts.values():
            for clip in clips:
                audio_duration_s(self.resolve(clip))

    def _counts(self) -> dict[str, int]:
        return {s: len(c) for s, c in self._parts.items()}

    def partition_summary(self) -> str:
        return partition_summary(
            self.name,
            self.kind,
            self._counts(),
            self.weights,
            key_template=f"{self.name}/<clip_id>",
            n_explicit=self._n_explicit,
            detail=f" in {len(self.labels())} labels under {self.root}",
        )

    def describe(self) -> dict:
        return {**super().describe(), "kind": self.kind, "root": str(self.root), "weights": self.weights}


def sorted_clips(clips: Sequence[Clip]) -> list[Clip]:
    """Clips in their canonical order: by label, then clip_id."""
    return sorted(clips, key=lambda c: (c.label, c.clip_id))
