"""Parquet / HF-dataset corpus: clips are rows with an audio and a label column.

Fixture files are written with pyarrow into tmp_path; each row's audio is FLAC bytes of a
known signal (a 440 Hz tone, or a stereo ramp whose ears differ), so a wrong row, a wrong
rate or a lost channel shows. Audio is mono float32 in [-1, 1]; rates in Hz; times in s.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from binsynth.corpora import ParquetCorpus, make_corpus
from binsynth.corpora import parquet as parquet_mod
from binsynth.corpora.base import read_audio
from binsynth.errors import AudioFileError, ConfigError, PathError
from binsynth.io.codecs import decode, encode
from binsynth.io.schema import AUDIO_TYPE

ROOT = Path(__file__).resolve().parent.parent
SRC_FS = 8000  # the rows' rate; loads ask for 16 kHz so every load resamples
N = SRC_FS  # 1 s per clip


def tone(k: int) -> np.ndarray:
    """(1, N): a 440 Hz tone whose amplitude encodes the row, 0.1 + 0.05 k."""
    t = np.arange(N) / SRC_FS
    return ((0.1 + 0.05 * k) * np.sin(2 * np.pi * 440.0 * t))[None].astype(np.float32)


def ramp(k: int) -> np.ndarray:
    """(2, N): left a ramp, right half of it; the mono downmix is 0.75 of the ramp."""
    r = np.linspace(-0.4, 0.4, N, dtype=np.float32) * np.float32((k + 1) / 8)
    return np.stack([r, 0.5 * r])


def signal_of(label: str, k: int) -> np.ndarray:
    return tone(k) if label == "tone" else ramp(k)


LABELS = ["tone", "ramp"] * 4  # row k: LABELS[k], signal_of(LABELS[k], k)


def write_rows(path: Path, rows: dict, schema: pa.Schema | None = None, row_group_size: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(rows, schema=schema), path, row_group_size=row_group_size)
    return path


def hf_rows(labels=LABELS, start: int = 0) -> dict:
    return {
        "audio": pa.array([{"bytes": encode(signal_of(lab, start + k), SRC_FS), "path": f"{start + k}.flac"}
                           for k, lab in enumerate(labels)], type=AUDIO_TYPE),
        "label": pa.array(labels, type=pa.string()),
        "note": pa.array([f"row {start + k}" for k in range(len(labels))]),  # other columns are ignored
    }


@pytest.fixture
def table(tmp_path) -> Path:
    return write_rows(tmp_path / "clips.parquet", hf_rows(), row_group_size=3)


# ------------------------------------------------------------------ listing and splits


def test_clips_per_split_are_disjoint_and_cover_every_row(table):
    corpus = ParquetCorpus(table, splits={"train": 0.5, "test": 0.5})
    assert corpus.name == "clips" and corpus.labels() == ["ramp", "tone"]
    assert corpus.splits() == ["train", "test"]
    ids = {s: [c.clip_id for c in corpus.clips(s)] for s in corpus.splits()}
    assert not set(ids["train"]) & set(ids["test"])
    every = sorted(ids["train"] + ids["test"], key=lambda i: int(i.split("#")[1]))
    assert every == [f"clips.parquet#{k}" for k in range(8)]
    assert all(ids.values())  # 8 rows at 50/50: both splits get some (fixed by the hash)
    for split, clip_ids in ids.items():
        for cid in clip_ids:
            clip = corpus.clip(cid)
            assert clip.split == split and clip.label == LABELS[int(cid.split("#")[1])] and clip.path == "clips.parquet"
    again = ParquetCorpus(table, splits={"test": 0.5, "train": 0.5})
    assert {s: [c.clip_id for c in again.clips(s)] for s in again.splits()} == ids  # stable, order-free
    d = corpus.describe()
    assert d["kind"] == "parquet" and d["clips_per_split"] == {s: len(v) for s, v in ids.items()}
    assert d["files"] == ["clips.parquet"] and d["audio_column"] == "audio"
    summary = corpus.partition_summary()
    assert "SHA-256 of 'clips/<clip_id>'" in summary and "No clip is in two splits" in summary and "'audio'" in summary


def test_explicit_split_column_wins(tmp_path):
    rows = hf_rows()
    rows["split"] = pa.array(["test", None, "", "train", "test", None, None, "validation"])
    corpus = ParquetCorpus(write_rows(tmp_path / "s.parquet", rows), splits={"train": 1.0})
    assert [c.clip_id for c in corpus.clips("test")] == ["s.parquet#0", "s.parquet#4"]
    assert [c.clip_id for c in corpus.clips("validation")] == ["s.parquet#7"]
    assert len(corpus.clips("train")) == 5 and "4 clips kept the split" in corpus.partition_summary()
    ignored = ParquetCorpus(tmp_path / "s.parquet", splits={"train": 1.0}, split_column=None)
    assert ignored.splits() == ["train"] and len(ignored.clips("train")) == 8


def test_a_folder_of_files_recursively_hidden_skipped(tmp_path):
    write_rows(tmp_path / "ds" / "data" / "train-00000-of-00002.parquet", hf_rows(LABELS[:3]))
    write_rows(tmp_path / "ds" / "data" / "train-00001-of-00002.parquet", hf_rows(LABELS[3:5], start=3))
    write_rows(tmp_path / "ds" / "data" / ".tmp-train.parquet", hf_rows(LABELS[:1]))
    (tmp_path / "ds" / "README.md").write_text("card")
    corpus = ParquetCorpus(tmp_path / "ds", splits={"train": 1.0})
    assert corpus.name == "ds"
    assert [c.clip_id for c in corpus.clips("train")] == [
        "data/train-00000-of-00002.parquet#0", "data/train-00000-of-00002.parquet#1",
        "data/train-00000-of-00002.parquet#2", "data/train-00001-of-00002.parquet#0",
        "data/train-00001-of-00002.parquet#1",
    ]
    clip = corpus.clip("data/train-00001-of-00002.parquet#0")  # row 3 of the whole set: a ramp
    np.testing.assert_allclose(corpus.load(clip, SRC_FS), 0.75 * ramp(3)[0], atol=1e-4)


# ------------------------------------------------------------------ audio


def test_load_is_read_audio_of_the_same_bytes(table, tmp_path):
    """Bytes in a row load exactly as the same bytes in a file through base.read_audio."""
    corpus = ParquetCorpus(table, splits={"train": 1.0})
    stored = pq.read_table(table).column("audio").to_pylist()
    for k in (0, 1, 4, 7):  # tones and stereo ramps, in several row groups
        f = tmp_path / f"row{k}.flac"
        f.write_bytes(stored[k]["bytes"])
        clip = corpus.clip(f"clips.parquet#{k}")
        for kw in ({}, {"duration_s": 0.25}, {"duration_s": 0.5, "offset_s": 0.3}, {"duration_s": 2.0}):
            got = corpus.load(clip, 16000, **kw)
            np.testing.assert_array_equal(got, read_audio(f, 16000, **kw))
        assert corpus.clip_duration_s(clip) == pytest.approx(1.0)


def test_load_returns_the_known_signal_resampled_and_downmixed(table):
    corpus = ParquetCorpus(table, splits={"train": 1.0})
    fs = 16000
    t = np.arange(fs) / fs
    inner = slice(200, fs - 200)  # away from the resampler's edges
    for k in range(8):
        x = corpus.load(corpus.clip(f"clips.parquet#{k}"), fs)
        assert x.dtype == np.float32 and x.shape == (fs,)
        if LABELS[k] == "tone":
            want = (0.1 + 0.05 * k) * np.sin(2 * np.pi * 440.0 * t)
        else:  # mean of left (ramp) and right (half ramp), at twice the rate
            want = 0.75 * np.interp(t, np.arange(N) / SRC_FS, ramp(k)[0])
        np.testing.assert_allclose(x[inner], want[inner], atol=2e-3)


def test_row_groups_and_a_tiny_cache_still_find_the_right_row(table, monkeypatch):
    monkeypatch.setattr(parquet_mod, "CACHE_BYTES", 1)  # every load past the newest group rereads
    corpus = ParquetCorpus(table, splits={"train": 1.0})
    assert pq.ParquetFile(table).metadata.num_row_groups == 3
    for k in (7, 0, 3, 5, 2, 6):
        x = corpus.load(corpus.clip(f"clips.parquet#{k}"), SRC_FS)
        want = signal_of(LABELS[k], k).mean(axis=0)
        np.testing.assert_allclose(x, want, atol=1e-4)
    assert len(corpus._cache) == 1


def test_pickled_corpus_loads_the_same(table):
    corpus = ParquetCorpus(table, splits={"train": 1.0}, peak_dbfs=-6.0)
    clip = corpus.clip("clips.parquet#2")
    x = corpus.load(clip, 16000, duration_s=0.5)
    assert 20 * math.log10(np.abs(x).max()) == pytest.approx(-6.0, abs=1e-3)
    again = pickle.loads(pickle.dumps(corpus))
    np.testing.assert_array_equal(again.load(clip, 16000, duration_s=0.5), x)


def test_path_string_column_reads_files_next_to_the_parquet(tmp_path):
    (tmp_path / "audio").mkdir()
    for k in range(2):
        (tmp_path / "audio" / f"{k}.flac").write_bytes(encode(tone(k), SRC_FS))
    rows = {"file": pa.array(["audio/0.flac", "audio/1.flac", "audio/missing.flac"]),
            "category": pa.array(["a", "b", "b"])}
    corpus = ParquetCorpus(write_rows(tmp_path / "p.parquet", rows), splits={"train": 1.0},
                           audio_column="file", label_column="category")
    np.testing.assert_allclose(corpus.load(corpus.clip("p.parquet#1"), SRC_FS), tone(1)[0], atol=1e-4)
    with pytest.raises(PathError) as e:
        corpus.load(corpus.clip("p.parquet#2"), SRC_FS)
    assert "p.parquet row 2 column 'file'" in str(e.value) and "missing.flac" in str(e.value)


def test_hf_classlabel_integers_become_names(tmp_path):
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({"audio": datasets.Audio(sampling_rate=SRC_FS),
                                  "label": datasets.ClassLabel(names=["ramp", "tone"])})
    rows = {"audio": hf_rows()["audio"], "label": pa.array([1, 0] * 4, type=pa.int64())}
    path = write_rows(tmp_path / "hf.parquet", rows, schema=features.arrow_schema)
    corpus = ParquetCorpus(path, splits={"train": 1.0})
    assert [c.label for c in corpus.clips("train")] == LABELS
    bad = write_rows(tmp_path / "bad.parquet", {"audio": rows["audio"], "label": rows["label"]})  # no metadata
    with pytest.raises(ConfigError, match=r"bad\.parquet: column 'label' \(label_column\) holds integers"):
        ParquetCorpus(bad)


# ------------------------------------------------------------------ errors


def test_missing_columns_name_the_file_and_the_option(table):
    with pytest.raises(ConfigError) as e:
        ParquetCorpus(table, audio_column="sound")
    msg = str(e.value)
    assert "clips.parquet: no column 'sound' (audio_column)" in msg and "'audio'" in msg and "\n" not in msg
    with pytest.raises(ConfigError, match=r"no column 'category' \(label_column\)"):
        ParquetCorpus(table, label_column="category")
    odd = write_rows(table.parent / "odd.parquet", {"audio": hf_rows()["audio"], "label": pa.array([1.5] * 8),
                                                    "n": pa.array(range(8)), "tag": pa.array(["x"] * 8)})
    with pytest.raises(ConfigError, match=r"column 'n' \(audio_column\) has type int64; expected an HF Audio"):
        ParquetCorpus(odd, audio_column="n", label_column="tag")
    with pytest.raises(ConfigError, match=r"column 'label' \(label_column\) has type double"):
        ParquetCorpus(odd)


def test_undecodable_bytes_are_one_line_naming_file_row_and_column(tmp_path):
    rows = hf_rows(LABELS[:3])
    audio = rows["audio"].to_pylist()
    audio[1] = {"bytes": b"not audio at all", "path": "x.flac"}
    audio[2] = {"bytes": None, "path": None}
    rows["audio"] = pa.array(audio, type=AUDIO_TYPE)
    corpus = ParquetCorpus(write_rows(tmp_path / "bad.parquet", rows), splits={"train": 1.0})
    with pytest.raises(AudioFileError) as e:
        corpus.load(corpus.clip("bad.parquet#1"), 16000)
    msg = str(e.value)
    assert "bad.parquet row 1 column 'audio'" in msg and "not decodable audio" in msg and "\n" not in msg
    with pytest.raises(AudioFileError, match=r"row 1 column 'audio'"):
        corpus.clip_duration_s(corpus.clip("bad.parquet#1"))
    with pytest.raises(AudioFileError, match=r"bad\.parquet row 2 column 'audio': no audio"):
        corpus.load(corpus.clip("bad.parquet#2"), 16000)
    with pytest.raises(AudioFileError, match=r"row 1 column"):
        corpus.verify()
    with pytest.raises(AudioFileError, match=r"offset 3 s is past the end"):
        corpus.load(corpus.clip("bad.parquet#0"), 16000, offset_s=3.0)


def test_bad_paths_and_values(tmp_path, table):
    with pytest.raises(PathError, match="does not exist"):
        ParquetCorpus(tmp_path / "nope.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no .parquet files"):
        ParquetCorpus(tmp_path / "empty")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ConfigError, match=r"junk\.parquet: not a readable Parquet file"):
        ParquetCorpus(tmp_path / "junk.parquet")
    rows = hf_rows(LABELS[:2])
    rows["label"] = pa.array(["tone", " "])
    with pytest.raises(ConfigError, match=r"e\.parquet row 1 column 'label': empty label"):
        ParquetCorpus(write_rows(tmp_path / "e.parquet", rows))
    with pytest.raises(ConfigError, match="no clip with clip_id"):
        ParquetCorpus(table).clip("clips.parquet#99")
    with pytest.raises(ConfigError, match="both 'audio'"):
        ParquetCorpus(table, label_column="audio")


def test_make_corpus_takes_the_recipe_spelling(table):
    corpus = make_corpus("parquet", path=str(table), audio_column="audio", label_column="label",
                         split_weights={"train": 0.75, "test": 0.25}, name="hf", type="parquet", weight=2.0)
    assert isinstance(corpus, ParquetCorpus) and corpus.name == "hf" and set(corpus.splits()) == {"train", "test"}
    with pytest.raises(ConfigError, match="corpus kind 'parquet'"):
        make_corpus("parquet", path=str(table), audio_col="audio")


# ------------------------------------------------------------------ end to end


def test_a_recipe_with_a_parquet_corpus_renders_scenes(tmp_path):
    from binsynth.acoustics.brir import BRIRSynthesizer
    from binsynth.acoustics.sets import load_hrtf
    from binsynth.dataset.rows import render_rows
    from binsynth.dsp.device import resolve_device
    from binsynth.recipe.model import load_recipe, recipe_hash
    from binsynth.render.renderer import Renderer
    from binsynth.scene.sampling import corpora_for, sample_scene

    rows = hf_rows()
    rows = {"sound": rows["audio"], "category": rows["label"]}
    write_rows(tmp_path / "hf" / "data" / "train-00000-of-00001.parquet", rows, row_group_size=4)
    data = yaml.safe_load((ROOT / "recipes" / "demo.yaml").read_text())
    data["dataset"]["splits"] = {"train": 2, "test": 1}
    data["audio"]["duration_s"] = 1.0
    data["sources"]["corpora"] = [{"type": "parquet", "path": "hf", "audio_column": "sound",
                                   "label_column": "category", "name": "hf"}]
    data["sources"]["onset_s"] = {"uniform": [0.0, 0.5]}
    data["sources"]["min_gap_s"] = 0.1
    data["room"]["rt60_s"] = {"uniform": [0.2, 0.3]}
    data["hrtf"] = "spherical"
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(data))

    recipe = load_recipe(path)  # checks the corpus path exists, relative to the recipe
    corpora = corpora_for(recipe)
    assert isinstance(corpora[0], ParquetCorpus) and corpora[0].name == "hf"
    scenes = [sample_scene(recipe, "train", i, corpora) for i in range(2)]
    fs = recipe.audio.sample_rate_hz
    renderer = Renderer(BRIRSynthesizer(load_hrtf("spherical", fs), fs, resolve_device("cpu")))
    out = render_rows(scenes, recipe, corpora, renderer, recipe_hash(recipe))
    assert len(out) == 2
    train_ids = {c.clip_id for c in corpora[0].clips("train")}
    for row, scene in zip(out, scenes):
        audio, got_fs = decode(row["audio"]["bytes"])
        assert got_fs == fs and audio.shape == (2, fs)
        assert scene.sources and np.abs(audio).max() > 0
        for src in scene.sources:
            corpus_name, clip_id = src.clip_id.split(":", 1)
            assert corpus_name == "hf" and clip_id in train_ids and src.label in ("tone", "ramp")
