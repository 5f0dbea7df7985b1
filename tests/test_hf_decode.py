"""HF `datasets` decodes our shards' audio with its default ``Audio()`` feature (torchcodec).

`datasets` >= 4 decodes ``Audio`` only through torchcodec, which loads FFmpeg's shared
libraries; ``make setup`` installs both (``torchcodec`` in ``[dev]``, FFmpeg through the
``system-deps`` target). These tests fail, never skip, when that install is missing.

Fixture audio: row k holds a ramp on the left ear (channel 0) and its negative on the right,
scaled by k + 1, so a swapped channel or a swapped row fails. What `datasets` 5 returns for
an Audio value is a ``torchcodec`` ``AudioDecoder``: ``get_all_samples().data`` is the
(channels, samples) tensor; its ``["array"]`` key is the **mean of the channels** (mono).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from binsynth.io.codecs import decode, encode
from binsynth.io.shards import write_shard

datasets = pytest.importorskip("datasets")  # a [dev] requirement, always present after `make setup`

FS = 16000
N = FS // 2  # 0.5 s per clip
SPLITS = {"train": 2, "test": 1}


def _audio_decoder_class():
    """torchcodec's AudioDecoder, or a test failure that says how to install it."""
    try:
        from torchcodec.decoders import AudioDecoder

        return AudioDecoder
    except (ImportError, OSError, RuntimeError) as e:  # not installed, or FFmpeg libraries missing
        reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
    pytest.fail(
        f"torchcodec cannot be imported ({reason}); HF datasets decodes Audio only through it. "
        "Run `make setup` (installs torchcodec==0.13.0 and FFmpeg's shared libraries via apt).",
        pytrace=False,
    )


def _stereo(k: int) -> np.ndarray:
    """(2, N) float32: left a ramp scaled by k + 1, right its negative."""
    ramp = np.linspace(-0.45, 0.45, N, dtype=np.float32) * np.float32((k + 1) / 3)
    return np.stack([ramp, -ramp])


def _row(split: str, i: int, audio: np.ndarray) -> dict:
    return {
        "id": f"{split}-{i:06d}", "split": split,
        "audio": {"bytes": encode(audio, FS), "path": f"{split}-{i:06d}.flac"},
        "sample_rate": FS, "duration": audio.shape[1] / FS,
        "sources": [{"label": "siren", "clip_id": "synthetic:siren/3", "onset": 0.0, "offset": 0.5,
                     "azimuth": 90.0, "elevation": 0.0, "distance": 1.5, "gain_db": 0.0}],
        "room": {"anechoic": True, "dimensions": [], "rt60": 0.0, "rt60_bands": [], "air_absorption": False},
        "listener": {"position": [0.0, 0.0, 1.6], "yaw": 0.0, "pitch": 0.0},
        "hrtf": {"name": "spherical", "sha256": "0" * 64},
        "qa": [], "scene": json.dumps({"index": i}), "recipe_hash": "f" * 64, "binsynth_version": "0.1.0",
    }


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A dataset folder as `binsynth render` lays it out: data/{split}-00000-of-00001.parquet."""
    root = tmp_path_factory.mktemp("hf") / "ds"
    (root / "data").mkdir(parents=True)
    k = 0
    for split, n in SPLITS.items():
        rows = []
        for i in range(n):
            rows.append(_row(split, i, _stereo(k)))
            k += 1
        write_shard(root / "data" / f"{split}-00000-of-00001.parquet", rows, FS)
    return root


@pytest.fixture(scope="module")
def dataset(folder):
    files = {s: str(folder / "data" / f"{s}-*.parquet") for s in SPLITS}
    return datasets.load_dataset("parquet", data_files=files)


def test_torchcodec_and_ffmpeg_are_installed():
    AudioDecoder = _audio_decoder_class()
    left = _stereo(0)
    samples = AudioDecoder(encode(left, FS)).get_all_samples()
    assert samples.sample_rate == FS and tuple(samples.data.shape) == (2, N)


def test_default_audio_feature_decodes_stereo_through_torchcodec(dataset):
    AudioDecoder = _audio_decoder_class()
    k = 0
    for split, n in SPLITS.items():
        ds = dataset[split]
        assert isinstance(ds.features["audio"], datasets.Audio) and ds.features["audio"].decode
        raw = ds.cast_column("audio", datasets.Audio(decode=False))
        for i in range(n):
            row = ds[i]
            assert row["id"] == f"{split}-{i:06d}"
            audio = row["audio"]
            assert isinstance(audio, AudioDecoder), type(audio)
            samples = audio.get_all_samples()
            got = samples.data.cpu().numpy()
            assert samples.sample_rate == FS and audio["sampling_rate"] == FS
            assert got.shape == (2, N) and got.dtype == np.float32
            flac, fs = decode(raw[i]["audio"]["bytes"])  # the same FLAC bytes through soundfile
            assert fs == FS
            np.testing.assert_allclose(got, flac, atol=1e-4, rtol=0)
            want = _stereo(k)
            np.testing.assert_allclose(got, want, atol=2.0 / 32768, rtol=0)  # 16-bit quantisation
            assert got[0, -1] > 0 > got[1, -1]  # channel 0 = left (the rising ramp)
            k += 1


def test_array_key_is_a_mono_downmix(dataset):
    """Pitfall guard: ``audio["array"]`` averages the ears, which cancels this fixture."""
    _audio_decoder_class()
    audio = dataset["train"][1]["audio"]
    stereo = audio.get_all_samples().data.cpu().numpy()
    mono = np.asarray(audio["array"])
    assert mono.shape == (N,)
    np.testing.assert_allclose(mono, stereo.mean(axis=0), atol=1e-6)
    assert np.abs(mono).max() < 1e-3 < np.abs(stereo).max()  # left = -right: the binaural cue is gone


def test_resampling_keeps_both_ears(dataset):
    _audio_decoder_class()
    ds = dataset["train"].cast_column("audio", datasets.Audio(sampling_rate=FS // 2))
    samples = ds[0]["audio"].get_all_samples()
    got = samples.data.cpu().numpy()
    assert samples.sample_rate == FS // 2 and got.shape[0] == 2 and abs(got.shape[1] - N // 2) <= 2
    want = _stereo(0)[:, ::2]
    inner = slice(32, got.shape[1] - 32)  # away from the resampler's edges
    np.testing.assert_allclose(got[:, inner], want[:, inner], atol=5e-3, rtol=0)
