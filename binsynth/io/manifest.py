"""``DIR/manifest.json``: what a dataset folder holds, written atomically after every shard.

It records the recipe hash, the binsynth version and, per committed shard, its split,
index, scene range, row count and SHA-256 — enough to resume a run (skip what is
committed) and to verify a dataset (re-hash every shard). Shard files are named
``data/{split}-{k:05d}-of-{n:05d}.parquet``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from binsynth.errors import ConfigError
from binsynth.io.atomic import write_text_atomic

MANIFEST = "manifest.json"
FORMAT = 1


def shard_name(split: str, k: int, n: int) -> str:
    """File name of shard k (0-based) of n in a split."""
    return f"{split}-{k:05d}-of-{n:05d}.parquet"


@dataclass
class ShardRecord:
    split: str
    index: int
    count: int
    first_scene: int
    n_scenes: int
    rows: int
    sha256: str
    file: str


@dataclass
class Manifest:
    recipe_hash: str
    binsynth_version: str
    shards: dict[str, ShardRecord] = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    format: int = FORMAT

    @classmethod
    def load(cls, folder: str | Path) -> "Manifest | None":
        """The folder's manifest, or None when there is none yet."""
        path = Path(folder) / MANIFEST
        if not path.is_file():
            return None
        return cls.parse(path.read_text(), str(path))

    @classmethod
    def parse(cls, text: str, where: str) -> "Manifest":
        """A manifest from its JSON text; ``where`` names it in errors."""
        try:
            data = json.loads(text)
            shards = {k: ShardRecord(**v) for k, v in data.pop("shards").items()}
            return cls(shards=shards, **data)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise ConfigError(f"{where}: not a binsynth manifest ({type(e).__name__}: {e}); remove it or use another --out") from e

    def dumps(self) -> str:
        data = asdict(self)
        data["shards"] = {k: data["shards"][k] for k in sorted(data["shards"])}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def save(self, folder: str | Path) -> None:
        write_text_atomic(Path(folder) / MANIFEST, self.dumps())

    def add(self, record: ShardRecord) -> None:
        self.shards[record.file] = record
