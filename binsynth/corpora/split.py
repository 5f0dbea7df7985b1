"""Partitioning source clips into dataset splits (train / validation / test …).

A source clip belongs to exactly one split, so no dry recording (or synthetic variant) is
heard in two splits. The assignment is a pure function of the clip's key and the split
weights, so it is stable across runs, machines and Python versions:

- ``u = int.from_bytes(sha256(key)[:8], "big") / 2**64`` is a uniform number in [0, 1);
- the weights are normalised to sum to 1 and laid end to end **in split-name order**
  (so ``{"train": .8, "test": .2}`` and ``{"test": .2, "train": .8}`` agree);
- the clip goes to the split whose interval holds ``u``.

File corpora use the key ``"<corpus name>/<clip_id>"``; a manifest row's explicit ``split``
wins over the hash. The synthetic corpus hashes ``"synthetic/<n>"`` for the integer variant
``n``, so the integer sets of the splits are disjoint and the same for every class (see
:mod:`binsynth.corpora.synthetic`).

Units: weights are fractions (any positive scale; they are normalised).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TypeVar

from binsynth.errors import ConfigError

#: A clip record (:class:`binsynth.corpora.base.Clip`): a dataclass with ``clip_id`` and
#: ``split``. Kept generic so this module needs nothing from the corpora that use it.
Clip = TypeVar("Clip")

#: Split weights used when a corpus is given none (HF split names).
DEFAULT_SPLITS: dict[str, float] = {"train": 0.8, "validation": 0.1, "test": 0.1}

_SCALE = float(2**64)


def normalise_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Validated weights that sum to 1, keyed in split-name order.

    >>> normalise_weights({"train": 4, "test": 1})
    {'test': 0.2, 'train': 0.8}
    """
    if not isinstance(weights, Mapping) or not weights:
        raise ConfigError(f"splits: expected a mapping of split name to weight, got {weights!r}")
    clean: dict[str, float] = {}
    for name in sorted(weights):
        w = weights[name]
        if not isinstance(name, str) or not name or name != name.strip() or "/" in name:
            raise ConfigError(
                f"splits: split name {name!r} must be a non-empty string without '/' or spaces at the ends"
            )
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ConfigError(f"splits.{name}: weight {w!r} must be a finite number >= 0")
        clean[name] = float(w)
    total = sum(clean.values())
    if total <= 0:
        raise ConfigError(f"splits: weights {dict(weights)!r} sum to 0; give at least one split a positive weight")
    return {name: w / total for name, w in clean.items()}


def hash_unit(key: str) -> float:
    """The key's position in [0, 1): the first 8 bytes of its SHA-256 (big-endian) / 2**64."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def assign_split(key: str, weights: Mapping[str, float]) -> str:
    """The split that ``key`` falls in under ``weights`` (see the module docstring).

    >>> assign_split("birds/robin/001.wav", {"train": 1.0})
    'train'
    """
    norm = normalise_weights(weights)
    return _assign(hash_unit(key), norm)


def _assign(u: float, norm: Mapping[str, float]) -> str:
    edge = 0.0
    last = None
    for name, w in norm.items():
        if w <= 0:
            continue
        edge += w
        last = name
        if u < edge:
            return name
    return last  # u within float rounding of 1.0: the last split with weight


def partition(clips: Iterable[Clip], weights: Mapping[str, float], corpus_name: str) -> dict[str, list[Clip]]:
    """Group clips by split: an explicit ``clip.split`` wins, otherwise the stable hash.

    Returns ``{split: [clip, …]}`` with every split of ``weights`` present (maybe empty),
    plus any explicit split names; each clip is returned with ``split`` filled in and the
    input order kept inside a split. A clip_id seen twice is refused.
    """
    norm = normalise_weights(weights)
    parts: dict[str, list[Clip]] = {name: [] for name in norm}
    seen: set[str] = set()
    for clip in clips:
        if clip.clip_id in seen:
            raise ConfigError(f"corpus {corpus_name!r}: clip_id {clip.clip_id!r} appears twice")
        seen.add(clip.clip_id)
        split = clip.split or _assign(hash_unit(f"{corpus_name}/{clip.clip_id}"), norm)
        parts.setdefault(split, []).append(clip if clip.split == split else replace(clip, split=split))
    return parts


def partition_summary(
    corpus_name: str,
    kind: str,
    counts: Mapping[str, int],
    weights: Mapping[str, float],
    key_template: str,
    n_explicit: int = 0,
    detail: str = "",
    unit: str = "clip",
) -> str:
    """One paragraph for the dataset card: how the corpus's clips were partitioned.

    ``counts`` is clips per split, ``key_template`` the hashed key (e.g.
    ``"birds/<clip_id>"``), ``n_explicit`` how many clips kept a split given by the source,
    ``unit`` what is hashed (``"clip"``; the synthetic corpus hashes a variant integer).
    """
    norm = normalise_weights(weights)
    total = sum(counts.values())
    laid = ", ".join(f"{name} {w:.3g}" for name, w in norm.items())
    got = ", ".join(f"{name} {counts.get(name, 0):,}" for name in split_order([*counts, *norm]))
    text = [f"{kind} corpus '{corpus_name}': {total:,} clips{detail}."]
    if n_explicit:
        text.append(f"{n_explicit:,} clips kept the split given in the source's 'split' column.")
    if n_explicit < total:
        text.append(
            f"{'Every other' if n_explicit else 'Each'} {unit} went to a split by SHA-256 of '{key_template}': "
            f"the first 8 bytes as an unsigned big-endian integer / 2**64 give u in [0, 1), "
            f"compared with the cumulative split weights in split-name order ({laid})."
        )
    text.append(f"Clips per split: {got}. No clip is in two splits.")
    return " ".join(text)


def split_order(names: Iterable[str]) -> list[str]:
    """Split names for display: train, validation, test first, then the rest by name.

    (Display only: the hash intervals are always laid out in plain name order.)
    """
    names = set(names)
    usual = [s for s in ("train", "validation", "test") if s in names]
    return usual + sorted(names - set(usual))
