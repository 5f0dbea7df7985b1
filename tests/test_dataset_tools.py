"""``binsynth preview | inspect | stats | replay`` on one small rendered dataset.

Exit codes under test: 2 with one ``error: …`` line for bad input; 1 when verification
fails (``inspect`` on a tampered shard, flagged ``TAMPERED`` in its output).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from binsynth.io.codecs import decode
from conftest import run_cli as run
from conftest import rendered, shrunk_demo_recipe

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LSB = 1.0 / 32768


def assert_one_line_error(res: subprocess.CompletedProcess, *words: str) -> None:
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    """The demo recipe, shrunk: 1 s clips, shards of 2 scenes, 4 train + 2 test scenes."""
    return shrunk_demo_recipe(tmp_path_factory.mktemp("recipe"), {"train": 4, "test": 2})


@pytest.fixture(scope="module")
def dataset(recipe, tmp_path_factory) -> Path:
    return rendered(recipe, tmp_path_factory.mktemp("ds") / "small", "--workers", "1")


def rows_of(dataset: Path) -> list[dict]:
    from binsynth.io.shards import read_shard

    return [r for p in sorted((dataset / "data").glob("*.parquet")) for r in read_shard(p)]


def copy_of(dataset: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    shutil.copytree(dataset, dst)
    return dst


# ------------------------------------------------------------------------------ preview


def test_preview_writes_wav_png_json_equal_to_the_dataset_path(recipe, dataset, tmp_path):
    import torch

    from binsynth.acoustics.brir import BRIRSynthesizer
    from binsynth.acoustics.sets import load_hrtf
    from binsynth.dataset.rows import render_rows
    from binsynth.recipe.model import load_recipe, recipe_hash
    from binsynth.render.renderer import Renderer
    from binsynth.scene.sampling import corpora_for, sample_scene

    train = [r for r in rows_of(dataset) if r["split"] == "train"]
    # a scene with a multiple-choice question, so the printout shows lettered choices
    pick = next((r for r in train if any(q["choices"] for q in r["qa"])), train[0])
    index = json.loads(pick["scene"])["index"]
    res = run("preview", str(recipe), "--index", str(index), "--split", "train", "--out", str(tmp_path / "pv"))
    assert res.returncode == 0, res.stderr
    stem = tmp_path / "pv" / f"train-{index}"
    wav, png, js = (stem.with_suffix(s) for s in (".wav", ".png", ".json"))
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert json.loads(js.read_text()) == json.loads(pick["scene"])  # the scene the dataset stores
    assert "+90° = left" in res.stdout and "Q (level" in res.stdout and "A:" in res.stdout
    if any(q["choices"] for q in pick["qa"]):
        assert "\nA. " in res.stdout and "\nD. " in res.stdout

    # the WAV is a direct render_rows of that scene, decoded from its FLAC bytes
    spec = load_recipe(recipe)
    corpora = corpora_for(spec)
    scene = sample_scene(spec, "train", index, corpora)
    fs = spec.audio.sample_rate_hz
    renderer = Renderer(BRIRSynthesizer(load_hrtf(spec.hrtf_for("train"), fs), fs, "cpu"), chunk_scenes=16)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        (row,) = render_rows([scene], spec, corpora, renderer, recipe_hash(spec))
    finally:
        torch.set_num_threads(previous)
    direct, _ = decode(row["audio"]["bytes"])
    written, fs_wav = sf.read(wav, dtype="float32", always_2d=True)
    assert fs_wav == fs and sf.info(str(wav)).subtype == "PCM_16"
    np.testing.assert_array_equal(written.T, direct)
    stored, _ = decode(pick["audio"]["bytes"])  # rendered in a chunk of 2: within 1 LSB
    assert np.max(np.abs(written.T - stored)) <= LSB + 1e-9


def test_preview_bad_inputs(recipe, tmp_path):
    assert_one_line_error(run("preview", str(recipe), "--index", "4", "--out", str(tmp_path)), "--index 4", "0–3")
    assert_one_line_error(run("preview", str(recipe), "--index", "-1", "--out", str(tmp_path)), "--index -1")
    assert_one_line_error(run("preview", str(recipe), "--index", "0", "--split", "dev", "--out", str(tmp_path)),
                          "'dev'", "test, train")
    assert_one_line_error(run("preview", str(tmp_path / "none.yaml"), "--index", "0"), "none.yaml")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_scene_figure_of_a_free_field_scene(dataset, tmp_path):
    from binsynth.plots.scene import plot_scene_top
    from binsynth.scene.record import SceneSpec

    scene = SceneSpec.from_json(rows_of(dataset)[0]["scene"])
    scene.room.anechoic = True
    plot_scene_top(scene, tmp_path / "free.png")
    assert (tmp_path / "free.png").read_bytes()[:8] == PNG_MAGIC


# ------------------------------------------------------------------------------ inspect


def test_inspect_summarises_and_verifies(dataset):
    res = run("inspect", str(dataset))
    assert res.returncode == 0, res.stderr
    out = res.stdout
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert manifest["recipe_hash"] in out and "recipe.yaml   matches the manifest" in out
    assert "3/3 shards match manifest.json" in out and "TAMPERED" not in out
    assert "binsynth-demo" in out and "16000 Hz" in out and "axd-example" in out
    assert "414f9300bbf13c59dfb2d4034d3003ae151b10d6fa8b6ca17a24a04f1b20946e" in out  # HRTF SHA-256
    # split | scenes | shards | verified
    assert re.search(r"train\W+4\W+2/2\W+2/2\W", out) and re.search(r"test\W+2\W+1/1\W+1/1\W", out), out
    assert "total" in out


def test_inspect_flags_a_tampered_shard_with_exit_1(dataset, tmp_path):
    ds = copy_of(dataset, tmp_path)
    shard = ds / "data" / "train-00001-of-00002.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    res = run("inspect", str(ds))
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert "TAMPERED" in res.stdout and "train-00001-of-00002.parquet" in res.stdout
    assert "2/3 shards match manifest.json" in res.stdout and "verification failed" in res.stderr
    unverified = run("inspect", str(ds), "--no-verify")  # no claim; exit 2 only if the flip broke the file
    assert unverified.returncode == 2 or "not checked (--no-verify)" in unverified.stdout

    shard.unlink()  # a missing shard is flagged too
    res = run("inspect", str(ds))
    assert res.returncode == 1 and "missing" in res.stdout


def test_inspect_refuses_what_is_not_a_dataset(tmp_path):
    assert_one_line_error(run("inspect", str(tmp_path / "nowhere")), "no such folder")
    assert_one_line_error(run("inspect", str(tmp_path)), "not a binsynth dataset")
    (tmp_path / "file.txt").write_text("x")
    assert_one_line_error(run("inspect", str(tmp_path / "file.txt")), "not a folder")


# -------------------------------------------------------------------------------- stats

STATS = {"azimuth", "elevation", "distance", "classes", "rt60", "sources_per_scene", "qa_tasks", "qa_levels"}


def test_stats_writes_pngs(dataset, tmp_path):
    res = run("stats", str(dataset), "--out", str(tmp_path / "figs"))
    assert res.returncode == 0, res.stderr
    pngs = sorted((tmp_path / "figs").glob("*.png"))
    assert {p.stem for p in pngs} == STATS
    assert all(p.read_bytes()[:8] == PNG_MAGIC for p in pngs)
    assert str(tmp_path / "figs") in res.stdout and "6 scenes" in res.stdout


def test_stats_default_folder_and_bad_input(dataset, tmp_path):
    ds = copy_of(dataset, tmp_path)
    res = run("stats", str(ds))
    assert res.returncode == 0, res.stderr
    assert {p.stem for p in (ds / "stats").glob("*.png")} == STATS
    assert_one_line_error(run("stats", str(tmp_path / "nowhere")), "no such folder")


def test_stats_reads_no_audio(dataset, monkeypatch):
    import pyarrow.parquet as pq

    from binsynth.dataset.reader import label_values, metadata, open_dataset

    seen = []
    real = pq.read_table
    monkeypatch.setattr(pq, "read_table", lambda path, columns=None, **kw: seen.append(columns) or real(path, columns=columns, **kw))
    values = label_values(metadata(open_dataset(dataset)))
    assert seen and all(cols is not None and "audio" not in cols for cols in seen)
    assert len(values["split"]) == 6 and len(values["azimuth_deg"]) == len(values["label"]) == values["n_sources"].sum()
    assert np.all((values["azimuth_deg"] > -180) & (values["azimuth_deg"] <= 180))


# ------------------------------------------------------------------------------- replay


def test_replay_matches_the_stored_audio(dataset, tmp_path):
    from binsynth.dataset.replay import replay_row

    rows = rows_of(dataset)
    for row in (rows[0], rows[-1]):
        audio, stored, fs = replay_row(dataset, row["id"])
        assert fs == 16000 and audio.shape == stored.shape == (2, 16000)
        assert np.max(np.abs(audio - stored)) <= LSB + 1e-9
        np.testing.assert_array_equal(stored, decode(row["audio"]["bytes"])[0])

    rid = rows[1]["id"]
    res = run("replay", str(dataset), "--id", rid, "--out", str(tmp_path / "r.wav"))
    assert res.returncode == 0, res.stderr
    assert "OK" in res.stdout and "LSB" in res.stdout and "scene JSON reproduced" in res.stdout
    written, _ = sf.read(tmp_path / "r.wav", dtype="float32", always_2d=True)
    assert np.max(np.abs(written.T - decode(rows[1]["audio"]["bytes"])[0])) <= LSB + 1e-9


def test_replay_refuses_another_recipe(dataset, tmp_path):
    ds = copy_of(dataset, tmp_path)
    text = (ds / "recipe.yaml").read_text()
    (ds / "recipe.yaml").write_text(text.replace("seed: 20240601", "seed: 20240602"))
    assert_one_line_error(run("replay", str(ds), "--id", "train-00000000"), "recipe hash", "differs")


def test_replay_refuses_another_hrtf_file(dataset, tmp_path):
    from binsynth.errors import ChecksumError
    from binsynth.io.shards import read_shard, write_shard
    from binsynth.dataset.replay import replay

    ds = copy_of(dataset, tmp_path)
    shard = ds / "data" / "test-00000-of-00001.parquet"
    rows = read_shard(shard)
    rows[0]["hrtf"]["sha256"] = "0" * 64
    write_shard(shard, rows, 16000)
    with pytest.raises(ChecksumError, match="SHA-256"):
        replay(ds, rows[0]["id"])


def test_replay_bad_inputs(dataset, tmp_path):
    assert_one_line_error(run("replay", str(dataset), "--id", "train-00000099"), "train-00000099", "no such row")
    assert_one_line_error(run("replay", str(dataset), "--id", "bogus"), "bogus")
    assert_one_line_error(run("replay", str(tmp_path / "nowhere"), "--id", "train-00000000"), "no such folder")
