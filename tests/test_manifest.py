"""The dataset manifest: atomic save, round trip, refusal of a foreign file."""

from __future__ import annotations

import pytest

from binsynth.errors import ConfigError
from binsynth.io.manifest import Manifest, ShardRecord, shard_name


def test_round_trip_sorted_and_atomic(tmp_path):
    m = Manifest(recipe_hash="a" * 64, binsynth_version="0.1.0")
    for k in (1, 0):
        name = shard_name("train", k, 2)
        m.add(ShardRecord("train", k, 2, k * 16, 16, 16, "b" * 64, f"data/{name}"))
    m.save(tmp_path)
    back = Manifest.load(tmp_path)
    assert back == m
    text = (tmp_path / "manifest.json").read_text()
    assert text.index("train-00000-of-00002") < text.index("train-00001-of-00002")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json"]
    assert shard_name("test", 3, 12) == "test-00003-of-00012.parquet"


def test_missing_and_foreign_manifests(tmp_path):
    assert Manifest.load(tmp_path) is None
    (tmp_path / "manifest.json").write_text('{"something": "else"}')
    with pytest.raises(ConfigError, match="not a binsynth manifest"):
        Manifest.load(tmp_path)
