"""Datasets with an FOA receiver beside the binaural one (``output.receivers: [binaural, foa]``):
an ``audio_foa`` column (AmbiX W, Y, Z, X; SN3D) that HF ``datasets`` decodes, bytes that
repeat, ``verify`` and ``replay`` that cover it, recipes without it that keep their hash."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from conftest import rendered, run_cli, shrunk_demo_recipe

from binsynth.io.codecs import decode
from binsynth.recipe import parse_recipe, recipe_hash
from binsynth.geometry import sph_to_cart


def _recipe(folder, receivers=("binaural", "foa"), anechoic_single=False, name="small.yaml"):
    path = shrunk_demo_recipe(folder, {"train": 4, "test": 2})
    data = yaml.safe_load(path.read_text())
    if receivers is not None:
        data["output"]["receivers"] = list(receivers)
    if anechoic_single:  # one source in free field, no background: its direction is the label's
        data["room"] = {"anechoic": True, "listener": {"height_m": 1.5}}
        data["sources"]["n_sources"] = 1
        data["background"]["enabled"] = False
        data["placement"].pop("inside_room")
        data["placement"].pop("margin_m")
    out = folder / name
    out.write_text(yaml.safe_dump(data))
    return out


@pytest.fixture(scope="module")
def foa_dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("foa")
    return rendered(_recipe(folder), folder / "ds"), folder


def test_shards_carry_a_four_channel_foa_column_beside_the_binaural_one(foa_dataset):
    ds, _ = foa_dataset
    shards = sorted((ds / "data").glob("*.parquet"))
    assert shards
    for shard in shards:
        table = pq.read_table(shard)
        assert table.column_names[2:4] == ["audio", "audio_foa"]
        for row in table.to_pylist():
            stereo, fs = decode(row["audio"]["bytes"])
            foa, fs_foa = decode(row["audio_foa"]["bytes"])
            assert stereo.shape[0] == 2 and foa.shape == (4, stereo.shape[1]) and fs == fs_foa == 16000
            assert np.abs(foa).max() > 1e-3 and np.abs(foa).max() <= 0.99 + 1 / 32768
            assert "output_gain_db_foa" in json.loads(row["scene"])["extra"]
    card = (ds / "README.md").read_text()
    assert "AmbiX — ACN order W, Y, Z, X, SN3D" in card and "ambisonics" in card


def test_hf_datasets_decodes_all_four_foa_channels(foa_dataset):
    datasets = pytest.importorskip("datasets")
    ds, _ = foa_dataset
    loaded = datasets.load_dataset(str(ds))
    features = loaded["train"].features
    assert isinstance(features["audio"], datasets.Audio) and isinstance(features["audio_foa"], datasets.Audio)
    row = loaded["train"][0]
    samples = row["audio_foa"].get_all_samples()
    stored, _ = decode(pq.read_table(sorted((ds / "data").glob("train-*.parquet"))[0]).to_pylist()[0]["audio_foa"]["bytes"])
    assert tuple(samples.data.shape) == stored.shape and samples.sample_rate == 16000
    np.testing.assert_allclose(samples.data.numpy(), stored, atol=1e-6)


def test_foa_renders_are_byte_identical_and_verify_checks_the_column(foa_dataset, tmp_path):
    ds, folder = foa_dataset
    again = rendered(_recipe(folder), tmp_path / "again")
    for shard in sorted((ds / "data").glob("*.parquet")):
        assert (again / "data" / shard.name).read_bytes() == shard.read_bytes(), shard.name
    assert run_cli("verify", str(ds)).returncode == 0
    res = run_cli("replay", str(ds), "--id", "test-00000001")
    assert res.returncode == 0, res.stderr


def test_foa_direction_of_a_single_anechoic_source_is_its_label(tmp_path):
    ds = rendered(_recipe(tmp_path, anechoic_single=True), tmp_path / "ds")
    for shard in sorted((ds / "data").glob("*.parquet")):
        for row in pq.read_table(shard).to_pylist():
            foa, _ = decode(row["audio_foa"]["bytes"])
            w, y, z, x = foa.astype(np.float64)
            intensity = np.array([(w * x).sum(), (w * y).sum(), (w * z).sum()])
            (src,) = row["sources"]
            expected = sph_to_cart(src["azimuth"], src["elevation"])
            angle = np.degrees(np.arccos(np.clip(intensity @ expected / np.linalg.norm(intensity), -1, 1)))
            assert angle <= 3.0, (row["id"], angle)


def test_recipes_without_foa_keep_their_hash_and_bad_receivers_are_one_line(tmp_path):
    plain = parse_recipe(_recipe(tmp_path, None, name="a.yaml").read_text())
    explicit = parse_recipe(_recipe(tmp_path, ("binaural",), name="b.yaml").read_text())
    both = parse_recipe(_recipe(tmp_path, ("foa", "binaural"), name="c.yaml").read_text())
    assert recipe_hash(explicit) == recipe_hash(plain) != recipe_hash(both)
    assert both.output.receivers == ["binaural", "foa"]
    for receivers, message in (
        (["foa"], "output.receivers: ['foa']: must include binaural (FOA is rendered beside it: [binaural, foa])"),
        (["binaural", "binaural"], "output.receivers: ['binaural', 'binaural']: a receiver is named twice"),
        (["hoa"], "output.receivers[0]: input should be 'binaural' or 'foa' (got 'hoa')"),
    ):
        res = run_cli("validate", str(_recipe(tmp_path, receivers, name="bad.yaml")))
        assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_dcase_frames_and_angles_follow_starss23():
    from binsynth.dataset.dcase import _int_azimuth, frames_active, metadata_lines

    assert list(frames_active(0.0, 0.1, 16000)) == [0]
    assert list(frames_active(0.05, 0.25, 16000)) == [0, 1, 2]
    assert list(frames_active(0.3, 0.3, 16000)) == []
    # frames hold the rendered samples: an onset half a sample before a boundary starts after it
    assert list(frames_active(0.6 - 0.4 / 16000, 0.8 + 0.4 / 16000, 16000)) == [6, 7]
    assert list(frames_active(0.6 - 0.6 / 16000, 0.8 + 0.6 / 16000, 16000)) == [5, 6, 7, 8]
    assert [_int_azimuth(a) for a in (179.6, -179.6, 180.0, 90.4, -0.4)] == [-180, -180, -180, 90, 0]
    sources = [
        {"label": "dog", "onset": 0.0, "offset": 0.15, "azimuth": 30.2, "elevation": -9.6, "distance": 1.234},
        {"label": "dog", "onset": 0.12, "offset": 0.2, "azimuth": -100.0, "elevation": 0.0, "distance": 2.0},
        {"label": "bell", "onset": 0.05, "offset": 0.1, "azimuth": 0.0, "elevation": 45.0, "distance": 0.5},
    ]
    assert metadata_lines(sources, {"bell": 0, "dog": 1}, 16000) == [
        (0, 0, 0, 0, 45, 50), (0, 1, 0, 30, -10, 123), (1, 1, 0, 30, -10, 123), (1, 1, 1, -100, 0, 200),
    ]


def test_export_dcase_writes_starss23_folders(foa_dataset, tmp_path):
    import csv

    import soundfile as sf

    ds, _ = foa_dataset
    out = tmp_path / "seld"
    res = run_cli("export", "dcase", str(ds), "--out", str(out))
    assert res.returncode == 0, res.stderr
    classes = {name: int(i) for i, name in csv.reader((out / "classes.csv").read_text().splitlines())}
    assert list(classes) == sorted(classes) and "dog_bark" in classes
    rows = [row for shard in sorted((ds / "data").glob("*.parquet")) for row in pq.read_table(shard).to_pylist()]
    assert len(list((out / "foa_dev").rglob("*.wav"))) == len(rows) == len(list((out / "metadata_dev").rglob("*.csv")))
    for row in rows:
        wav, fs = sf.read(out / "foa_dev" / row["split"] / f"{row['id']}.wav", dtype="float32", always_2d=True)
        stored, _ = decode(row["audio_foa"]["bytes"])
        assert fs == 16000 and sf.info(out / "foa_dev" / row["split"] / f"{row['id']}.wav").subtype == "PCM_16"
        np.testing.assert_array_equal(wav.T, stored)
        lines = [tuple(int(v) for v in line) for line in
                 csv.reader((out / "metadata_dev" / row["split"] / f"{row['id']}.csv").read_text().splitlines())]
        expected, seen = [], {}
        for src in sorted(row["sources"], key=lambda s: (s["onset"], s["label"])):
            k = seen[src["label"]] = seen.get(src["label"], -1) + 1
            az = round(src["azimuth"])
            az = az - 360 if az >= 180 else az
            for frame in range(int(row["duration"] * 10) + 1):
                if src["onset"] < (frame + 1) / 10 - 1e-9 and src["offset"] > frame / 10 + 1e-9:
                    expected.append((frame, classes[src["label"]], k, az, round(src["elevation"]),
                                     round(src["distance"] * 100)))
        assert lines == sorted(expected), row["id"]
    again = run_cli("export", "dcase", str(ds), "--out", str(out))
    assert again.returncode == 2 and again.stderr.strip() == f"error: --out {out}: exists and is not an empty folder"


def test_export_dcase_refuses_a_dataset_without_foa(tmp_path):
    ds = rendered(_recipe(tmp_path, None), tmp_path / "plain")
    res = run_cli("export", "dcase", str(ds), "--out", str(tmp_path / "x"))
    assert res.returncode == 2
    assert res.stderr.strip() == (f"error: {ds}: has no audio_foa column; render it with output.receivers: "
                                  "[binaural, foa]")
    assert not (tmp_path / "x").exists()


def test_replay_and_verify_catch_a_tampered_foa_cell(foa_dataset, tmp_path):
    """Flip Y, Z, X of one row's audio_foa (and rewrite the manifest's hash so only the
    content checks can tell): replay reports a mismatch; a 2-channel audio_foa fails verify."""
    import shutil

    from binsynth.io.codecs import encode
    from binsynth.io.hashing import sha256_file
    from binsynth.io.shards import write_shard

    ds, _ = foa_dataset
    copy = tmp_path / "copy"
    shutil.copytree(ds, copy)
    shard = sorted((copy / "data").glob("test-*.parquet"))[0]
    rows = pq.read_table(shard).to_pylist()
    foa, fs = decode(rows[1]["audio_foa"]["bytes"])
    rows[1]["audio_foa"]["bytes"] = encode(foa * np.array([1, -1, -1, -1], np.float32)[:, None], fs)
    write_shard(shard, rows, fs, foa=True)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["shards"][f"data/{shard.name}"]["sha256"] = sha256_file(shard)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    res = run_cli("replay", str(copy), "--id", rows[1]["id"])
    assert res.returncode == 1 and "MISMATCH" in res.stderr, res.stdout + res.stderr
    rows[1]["audio_foa"]["bytes"] = encode(foa[:2], fs)
    write_shard(shard, rows, fs, foa=True)
    manifest["shards"][f"data/{shard.name}"]["sha256"] = sha256_file(shard)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    res = run_cli("verify", str(copy))
    assert res.returncode == 1
    assert f"row {rows[1]['id']}: audio_foa is 2 channels" in res.stdout


def test_the_trainer_reads_foa_datasets_as_bytes(foa_dataset):
    pytest.importorskip("transformers")
    from binsynth.trainer.data import load_rows

    ds, _ = foa_dataset
    rows = load_rows(ds, "train")
    assert len(rows) == 4 and isinstance(rows[0]["audio_foa"]["bytes"], bytes)


def test_preview_writes_the_foa_wav_of_the_dataset_row(foa_dataset, tmp_path):
    import soundfile as sf

    ds, folder = foa_dataset
    res = run_cli("preview", str(_recipe(folder, name="p.yaml")), "--split", "test", "--index", "1", "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    wav, fs = sf.read(tmp_path / "test-1.foa.wav", dtype="float32", always_2d=True)
    shard = sorted((ds / "data").glob("test-*.parquet"))[0]
    stored, _ = decode(pq.read_table(shard).to_pylist()[1]["audio_foa"]["bytes"])
    np.testing.assert_array_equal(wav.T, stored)
    assert str(tmp_path / "test-1.foa.wav") in res.stdout
