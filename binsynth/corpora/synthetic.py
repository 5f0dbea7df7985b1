"""Built-in synthetic sound classes: a demo corpus that needs no download.

Every clip is a pure function of ``(label, n, fs_hz, duration_s, offset_s)``:

- ``n`` (an integer >= 0) picks the variant. Its parameters (pitch, rate, timbre …) come
  from ``numpy.random.default_rng([class_index, n])`` and do not depend on the rate or the
  duration, so one variant sounds the same at 16 kHz and at 48 kHz; the noise it uses
  comes from the stream ``default_rng([class_index, n, 1])``. ``class_index`` is the
  class's position in :data:`CLASSES`, which is append-only.
- Audio is float32 mono in [-1, 1] at ``fs_hz`` Hz (>= 8 kHz; components above
  0.45 · fs_hz are left out or pulled below it), ``round(duration_s · fs_hz)`` samples.
- Finishing, in this order: the mean is removed; 10 ms raised-cosine fades go on both
  ends (a quarter of the clip at most); the small mean the fades leave is removed with a
  fade-shaped correction, so the clip starts and ends at 0 and has no DC; the clip is
  **peak-normalised to -3 dBFS** (:data:`PEAK_DBFS`). Peak rather than RMS normalisation,
  because the classes' crest factors differ by > 20 dB (clock ticks vs rain): RMS matching
  would clip the impulsive classes. The scene applies its own, recorded gain on top.

Splits: the integers are partitioned, not the (label, n) pairs. Integer ``n`` belongs to
the split that the SHA-256 of ``"synthetic/<n>"`` falls in under the split weights (see
:mod:`binsynth.corpora.split`), for every class and whatever the corpus is called, so no
variant is in two splits, and train and test never share a parameter draw. A corpus holds
the integers ``0 … clips_per_class - 1`` of each class; ``clip_id`` is ``"<label>/<n>"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from binsynth.corpora.base import (
    Clip,
    Corpus,
    Decibels,
    Hz,
    Seconds,
    check_fs,
    check_times,
    fade_window,
    is_real,
)
from binsynth.corpora.split import DEFAULT_SPLITS, hash_unit, normalise_weights, partition_summary, split_order
from binsynth.corpora.split import _assign as _assign_unit
from binsynth.errors import ConfigError

#: Peak level in dBFS every synthetic clip is normalised to.
PEAK_DBFS: Decibels = -3.0
#: Length in seconds of the fade-in and fade-out.
FADE_S: Seconds = 0.010
#: Lowest sample rate the generators support, in Hz.
MIN_FS_HZ: Hz = 8000
from binsynth.corpora.sounds import CLASSES, CLASS_NAMES  # noqa: F401  (CLASS_NAMES re-exported)


def class_descriptions() -> dict[str, str]:
    """One line per class (the generator's docstring), for the dataset card."""
    return {name: (gen.__doc__ or "").strip().splitlines()[0] for name, gen in CLASSES.items()}


def synthesize(
    label: str,
    clip_id: int,
    fs_hz: Hz,
    duration_s: Seconds,
    offset_s: Seconds = 0.0,
    peak_dbfs: Decibels = PEAK_DBFS,
) -> np.ndarray:
    """Variant ``clip_id`` of class ``label``: float32 mono, ``round(duration_s · fs_hz)`` samples.

    ``offset_s`` starts the clip that many seconds into the variant (it is generated from
    0 and cut; the finishing steps then apply to the cut part). Deterministic: the same
    arguments give byte-identical arrays.
    """
    if label not in CLASSES:
        raise ConfigError(f"synthetic class {label!r} is unknown; choose from {list(CLASSES)}")
    if isinstance(clip_id, bool) or not isinstance(clip_id, (int, np.integer)) or clip_id < 0:
        raise ConfigError(f"clip_id: {clip_id!r} must be an integer >= 0")
    fs_hz = check_fs(fs_hz, MIN_FS_HZ)
    duration_s, offset_s = check_times(duration_s, offset_s, fs_hz)
    if duration_s is None:
        raise ConfigError("duration_s: a synthetic clip needs a duration in seconds")
    if not is_real(peak_dbfs) or peak_dbfs > 0:
        raise ConfigError(f"peak_dbfs: {peak_dbfs!r} must be a finite level <= 0 dBFS")
    index = CLASS_NAMES.index(label)
    n = int(round(duration_s * fs_hz))
    n_off = int(round(offset_s * fs_hz))
    rng = np.random.default_rng([index, int(clip_id)])
    nrng = np.random.default_rng([index, int(clip_id), 1])
    x = CLASSES[label](rng, nrng, fs_hz, n_off + n)[n_off:]
    return _finish(x, fs_hz, peak_dbfs)


def _finish(x: np.ndarray, fs_hz: int, peak_dbfs: float) -> np.ndarray:
    """Remove DC, fade both ends, remove the fades' residual DC, peak-normalise; float32.

    Works in place on ``x`` (a generator's fresh output): the fade window is 1 except in
    its ramps, so only the ends are multiplied and no full-length temporaries are made.
    """
    n = x.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    x -= x.mean()
    f = min(int(round(FADE_S * fs_hz)), n // 4)
    ramps = fade_window(2 * f, f)  # the fade-in ramp then the fade-out ramp
    fade_in, fade_out = ramps[:f], ramps[f:]
    x[:f] *= fade_in
    x[n - f :] *= fade_out
    c = x.mean() / ((n - 2 * f + ramps.sum()) / n)  # / the window's mean
    x[f : n - f] -= c  # minus c · window: zero mean, still 0 at both ends
    x[:f] -= c * fade_in
    x[n - f :] -= c * fade_out
    hi, lo = float(x.max()), float(x.min())
    if not (math.isfinite(hi) and math.isfinite(lo)):  # a generator bug, never the caller's input
        raise RuntimeError(f"synthetic generator produced non-finite samples (fs {fs_hz} Hz, {n} samples)")
    peak = max(hi, -lo)
    if peak > 0:
        x *= 10.0 ** (peak_dbfs / 20.0) / peak
    return x.astype(np.float32)


class SyntheticCorpus(Corpus):
    """The built-in classes as a corpus: ``clips_per_class`` variants of each class.

    name:            the corpus name (the split of a variant does not depend on it)
    classes:         class names to include (default: all, in class-index order)
    clips_per_class: variants 0 … clips_per_class - 1 of each class
    splits:          split weights, e.g. ``{"train": 0.8, "test": 0.2}``
    duration_s:      length of a clip when :meth:`load` is given none
    peak_dbfs:       peak level of every clip
    """

    kind = "synthetic"

    def __init__(
        self,
        name: str = "synthetic",
        classes: Sequence[str] | None = None,
        clips_per_class: int = 1000,
        splits: Mapping[str, float] = DEFAULT_SPLITS,
        duration_s: Seconds = 4.0,
        peak_dbfs: Decibels = PEAK_DBFS,
    ):
        if not isinstance(name, str) or not name.strip() or "/" in name:
            raise ConfigError(f"corpus name {name!r} must be a non-empty string without '/'")
        classes = list(CLASS_NAMES if classes is None else classes)
        unknown = [c for c in classes if c not in CLASSES]
        if unknown or not classes or len(set(classes)) != len(classes):
            raise ConfigError(f"synthetic classes {classes!r}: give distinct names from {list(CLASSES)}")
        if isinstance(clips_per_class, bool) or not isinstance(clips_per_class, int) or clips_per_class < 1:
            raise ConfigError(f"clips_per_class: {clips_per_class!r} must be an integer >= 1")
        check_times(duration_s, 0.0)
        self.name = name
        self.classes = sorted(classes, key=CLASS_NAMES.index)
        self.clips_per_class = clips_per_class
        self.weights = normalise_weights(splits)
        self.duration_s = float(duration_s)
        self.peak_dbfs = peak_dbfs
        self._split_of = [_assign_unit(hash_unit(f"synthetic/{i}"), self.weights) for i in range(clips_per_class)]
        self._ids = {s: [i for i, t in enumerate(self._split_of) if t == s] for s in self.weights}

    def labels(self) -> list[str]:
        return list(self.classes)

    def splits(self) -> list[str]:
        return split_order(self.weights)

    def clip_numbers(self, split: str) -> list[int]:
        """The variant integers of ``split`` (the same for every class), ascending."""
        self._check_split(split)
        return list(self._ids[split])

    def clips(self, split: str) -> list[Clip]:
        ids = self.clip_numbers(split)
        return [Clip(self.name, f"{label}/{i}", label, None, split) for label in self.classes for i in ids]

    def clip(self, clip_id: str) -> Clip:
        label, _, num = str(clip_id).rpartition("/")
        if label not in self.classes or not num.isdigit() or int(num) >= self.clips_per_class:
            raise ConfigError(
                f"corpus {self.name!r}: no clip {clip_id!r}; expected '<label>/<n>' with a label of "
                f"{self.classes} and 0 <= n < {self.clips_per_class}"
            )
        n = int(num)
        return Clip(self.name, f"{label}/{n}", label, None, self._split_of[n])

    def load(self, clip: Clip, fs_hz: Hz, duration_s: Seconds | None = None, offset_s: Seconds = 0.0) -> np.ndarray:
        self._check_clip(clip)
        c = self.clip(clip.clip_id)
        n = int(c.clip_id.rpartition("/")[2])
        duration_s = self.duration_s if duration_s is None else duration_s
        return synthesize(c.label, n, fs_hz, duration_s, offset_s, self.peak_dbfs)

    def clip_duration_s(self, clip: Clip) -> None:
        return None

    def partition_summary(self) -> str:
        counts = {s: len(ids) * len(self.classes) for s, ids in self._ids.items()}
        per_class = ", ".join(f"{s} {len(self._ids[s]):,}" for s in self.splits())
        return (
            partition_summary(
                self.name,
                self.kind,
                counts,
                self.weights,
                key_template="synthetic/<n>",
                detail=f" ({len(self.classes)} classes x variants 0-{self.clips_per_class - 1})",
                unit="variant integer n",
            )
            + " The integer variant n is hashed, not (class, n), so every class has the same"
            + f" variants per split ({per_class} per class) and a variant's parameters (drawn"
            + " from numpy default_rng([class_index, n])) are never shared between splits."
        )

    def describe(self) -> dict:
        return {
            **super().describe(),
            "kind": self.kind,
            "clips_per_class": self.clips_per_class,
            "weights": self.weights,
            "peak_dbfs": self.peak_dbfs,
            "classes": class_descriptions(),
        }
