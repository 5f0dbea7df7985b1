"""Parquet shards: HF `datasets` sees an Audio feature, audio round-trips, bytes are stable."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from binsynth.errors import AudioFileError, ConfigError
from binsynth.io.codecs import decode, encode
from binsynth.io.schema import row_schema
from binsynth.io.shards import read_shard, write_shard

FS = 16000


def _row(i: int, audio: np.ndarray) -> dict:
    return {
        "id": f"train-{i:06d}",
        "split": "train",
        "audio": {"bytes": encode(audio, FS), "path": f"train-{i:06d}.flac"},
        "sample_rate": FS,
        "duration": audio.shape[1] / FS,
        "sources": [{"label": "siren", "clip_id": "synthetic/siren/3", "onset": 0.0, "offset": 0.5,
                     "azimuth": 90.0, "elevation": 0.0, "distance": 1.5, "gain_db": 0.0}],
        "room": {"anechoic": False, "dimensions": [6.0, 5.0, 3.0], "rt60": 0.5,
                 "rt60_bands": [0.5] * 7, "air_absorption": True},
        "listener": {"position": [3.0, 2.5, 1.6], "yaw": 0.0, "pitch": 0.0},
        "hrtf": {"name": "axd-example", "sha256": "0" * 64},
        "qa": [{"level": 1, "task": "direction", "question": "Where is the siren?", "answer": "left", "answer_norm": "left",
                "choices": [], "answer_index": -1}],
        "scene": json.dumps({"index": i}),
        "recipe_hash": "f" * 64,
        "binsynth_version": "0.1.0",
    }


def _ramps(n: int = 3) -> list[np.ndarray]:
    t = np.linspace(-0.5, 0.5, FS // 2, dtype=np.float32)
    return [np.stack([t * (k + 1) / n, -t * (k + 1) / n]) for k in range(n)]  # left/right differ: a swap shows


def test_datasets_sees_an_audio_feature(tmp_path):
    datasets = pytest.importorskip("datasets")
    path = tmp_path / "train-00000-of-00001.parquet"
    write_shard(path, [_row(i, a) for i, a in enumerate(_ramps())], FS)
    features = datasets.Features.from_arrow_schema(pq.read_schema(path))
    assert isinstance(features["audio"], datasets.Audio) and features["audio"].sampling_rate == FS
    assert set(features) == set(row_schema(FS).names)


def test_load_dataset_and_decode_with_soundfile(tmp_path):
    datasets = pytest.importorskip("datasets")
    ramps = _ramps()
    write_shard(tmp_path / "train-00000-of-00001.parquet", [_row(i, a) for i, a in enumerate(ramps)], FS)
    ds = datasets.load_dataset("parquet", data_files={"train": str(tmp_path / "*.parquet")}, split="train")
    ds = ds.cast_column("audio", datasets.Audio(decode=False))
    assert ds.num_rows == 3 and ds[1]["sources"][0]["azimuth"] == 90.0
    for row, ramp in zip(ds, ramps):
        audio, fs = decode(row["audio"]["bytes"])
        assert fs == FS
        np.testing.assert_allclose(audio, ramp, atol=1.0 / 32768)


def test_same_rows_same_bytes_and_returned_hash(tmp_path):
    rows = [_row(i, a) for i, a in enumerate(_ramps())]
    h1 = write_shard(tmp_path / "a.parquet", rows, FS)
    h2 = write_shard(tmp_path / "b.parquet", rows, FS)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert h1 == h2 == hashlib.sha256((tmp_path / "a.parquet").read_bytes()).hexdigest()
    assert read_shard(tmp_path / "a.parquet")[2]["id"] == "train-000002"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet", "b.parquet"]  # no temp files


def test_a_failed_write_leaves_nothing(tmp_path):
    bad = _row(0, _ramps(1)[0])
    bad["sources"] = "not a list"
    with pytest.raises(Exception):
        write_shard(tmp_path / "x.parquet", [bad], FS)
    assert list(tmp_path.iterdir()) == []


def test_codec_errors_name_the_problem():
    with pytest.raises(ConfigError, match="codec 'mp3'"):
        encode(np.zeros((2, 10), np.float32), FS, codec="mp3")
    with pytest.raises(ConfigError, match="finite"):
        encode(np.full((2, 10), np.nan, np.float32), FS)
    with pytest.raises(AudioFileError, match="not decodable"):
        decode(b"RIFF....nonsense")


def test_flac_levels_are_lossless_and_trade_size_only():
    """Every libFLAC level decodes to the same samples; 0 is larger than 8; bad levels are refused."""
    rng = np.random.default_rng(4)
    t = np.arange(48000) / 48000
    audio = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.2 * np.sin(2 * np.pi * 660 * t)])
    audio = (audio + 0.01 * rng.standard_normal(audio.shape)).astype(np.float32)
    enc = {lvl: encode(audio, 48000, "flac", 16, lvl) for lvl in (0, 5, 8)}
    assert enc[5] == encode(audio, 48000)  # 5 is the default
    assert len(enc[0]) > len(enc[8]) and len({*enc.values()}) == 3
    ref, _ = decode(enc[5])
    for data in enc.values():
        np.testing.assert_array_equal(decode(data)[0], ref)
    for bad in (9, -1, 2.5, True):
        with pytest.raises(ConfigError, match="FLAC level"):
            encode(audio, 48000, "flac", 16, bad)
