"""Dry-source corpora: where the sounds placed in a scene come from.

Four kinds share one interface (:class:`Corpus`): the built-in synthetic classes
(:class:`SyntheticCorpus`, no download), a folder per label (:class:`FolderCorpus`), a
CSV/JSONL manifest (:class:`ManifestCorpus`) and rows of Parquet files such as a Hugging
Face dataset (:class:`ParquetCorpus`). Audio is mono float32 in [-1, 1]; rates in
Hz; times in seconds. Splits are partitioned per source clip (:mod:`.split`). Imports io
(audio codecs) and the root helpers only.
"""

from __future__ import annotations

import inspect
from typing import Any

from binsynth.corpora.base import Clip, Corpus, FileCorpus, read_audio
from binsynth.corpora.folder import FolderCorpus
from binsynth.corpora.manifest import ManifestCorpus
from binsynth.corpora.parquet import ParquetCorpus
from binsynth.corpora.split import DEFAULT_SPLITS, assign_split, partition
from binsynth.corpora.synthetic import CLASS_NAMES, SyntheticCorpus, synthesize
from binsynth.errors import ConfigError

KINDS = ("synthetic", "folder", "manifest", "parquet")


#: Recipe field names (``sources.corpora[i]``) -> constructor keyword names.
_RECIPE_ALIASES = {"split_weights": "splits", "path": "manifest"}


def make_corpus(kind: str, **options: Any) -> Corpus:
    """A corpus from a recipe-style description.

    ``make_corpus("synthetic", clips_per_class=200)``, ``make_corpus("folder", root=…)``,
    ``make_corpus("manifest", manifest=…, allow_absolute=False)``,
    ``make_corpus("parquet", path=…, audio_column="audio", label_column="label")``; the options are the
    constructors' keyword arguments. Recipe spellings are accepted too: ``split_weights``
    for ``splits``, ``path`` for a manifest's ``manifest``, ``classes="all"``; ``None``
    values mean "the default" and are dropped, and so are ``type`` and ``weight`` (the
    mixing weight among corpora, which the scene sampler uses). Unknown kinds or options
    are a ConfigError.
    """
    factories = {
        "synthetic": SyntheticCorpus, "folder": FolderCorpus, "manifest": ManifestCorpus, "parquet": ParquetCorpus,
    }
    if kind not in factories:
        raise ConfigError(f"corpus kind {kind!r} is unknown; choose from {list(KINDS)}")
    options = {_RECIPE_ALIASES.get(k, k) if (k != "path" or kind == "manifest") else k: v for k, v in options.items()}
    options = {k: v for k, v in options.items() if v is not None and k not in ("type", "weight")}
    if options.get("classes") == "all":
        del options["classes"]
    factory = factories[kind]
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as e:
        raise ConfigError(f"corpus kind {kind!r}: {e}") from e
    return factory(**options)


__all__ = [
    "CLASS_NAMES",
    "DEFAULT_SPLITS",
    "KINDS",
    "Clip",
    "Corpus",
    "FileCorpus",
    "FolderCorpus",
    "ManifestCorpus",
    "ParquetCorpus",
    "SyntheticCorpus",
    "assign_split",
    "make_corpus",
    "partition",
    "read_audio",
    "synthesize",
]
