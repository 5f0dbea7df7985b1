"""Unusable source audio: screened before anything is written; left out and counted under
``--on-bad-audio skip`` (the default), a one-line error under ``fail``; sound but unusual
files (several channels, odd rates) are kept."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from binsynth.corpora.screen import screen_file
from conftest import shrunk_demo_recipe
from conftest import run_cli as run

BAD = {"chirp/empty.wav": "empty", "chirp/cut.wav": "truncated", "hum/nan.wav": "NaN or infinite samples",
       "hum/text.wav": "not audio", "hum/cut.flac": "truncated or corrupt"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(7)
    for label in ("chirp", "hum"):
        (root / label).mkdir()
        for k in range(4):
            sf.write(root / label / f"ok{k}.flac", (0.1 * rng.standard_normal(16000)).astype(np.float32), 16000)
    tone = (0.1 * np.sin(np.arange(22050) * 0.05)).astype(np.float32)
    sf.write(root / "hum/four-channels.wav", np.stack([tone] * 4, axis=1), 44100)  # sound: downmixed
    sf.write(root / "hum/odd-rate.wav", tone, 11025)  # sound: resampled
    sf.write(root / "chirp/empty.wav", np.zeros(0, np.float32), 16000)
    sf.write(root / "chirp/cut.wav", tone, 16000)
    data = (root / "chirp/cut.wav").read_bytes()
    (root / "chirp/cut.wav").write_bytes(data[: len(data) // 2])  # a cut-off download
    nan = tone.copy()
    nan[500] = np.nan
    sf.write(root / "hum/nan.wav", nan, 16000, subtype="FLOAT")
    (root / "hum/text.wav").write_text("not audio at all")
    sf.write(root / "hum/cut.flac", tone, 16000)
    data = (root / "hum/cut.flac").read_bytes()
    (root / "hum/cut.flac").write_bytes(data[: len(data) // 2])
    return root


@pytest.fixture(scope="module")
def recipe(corpus, tmp_path_factory) -> Path:
    path = shrunk_demo_recipe(tmp_path_factory.mktemp("recipe"), {"train": 6, "test": 2})
    data = yaml.safe_load(path.read_text())
    data["sources"]["corpora"] = [{"type": "folder", "root": str(corpus)}]
    data["sources"]["n_sources"] = 1
    path.write_text(yaml.safe_dump(data))
    return path


def test_each_kind_of_bad_file_is_named(corpus, tmp_path):
    found = {f"{p.parent.name}/{p.name}": screen_file(p) for p in sorted(corpus.rglob("*.*"))
             if p.suffix in (".wav", ".flac")}
    assert {k: v for k, v in found.items() if v} == BAD
    assert screen_file(tmp_path / "gone.wav") == "missing"
    assert screen_file(corpus / "hum/ok0.flac", max_clip_s=0.5) == "longer than 0.5 s"  # an optional cap
    # a WAV written to a pipe carries a placeholder data size: not truncated
    streamed = tmp_path / "streamed.wav"
    sf.write(streamed, np.zeros(1000, np.float32), 16000, subtype="PCM_16")
    data = bytearray(streamed.read_bytes())
    at = data.index(b"data") + 4
    data[at:at + 4] = (0x7FFFF000).to_bytes(4, "little")
    streamed.write_bytes(bytes(data))
    assert screen_file(streamed) is None


def test_an_unreadable_file_is_an_error_not_bad_audio(corpus, monkeypatch):
    """An I/O or permission error says nothing about the audio: it must not be skipped quietly."""
    import errno

    from binsynth.corpora import screen
    from binsynth.errors import PathError

    def refuse(path, mode="r", *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(screen, "open", refuse, raising=False)
    with pytest.raises(PathError, match="ok0.flac: cannot read it"):
        screen_file(corpus / "hum/ok0.flac")


def test_skip_leaves_bad_files_out_and_counts_them(recipe, tmp_path):
    out = tmp_path / "ds"
    res = run("render", str(recipe), "--out", str(out), "--workers", "1")
    assert res.returncode == 0, res.stderr
    assert "5 unusable source file(s) left out" in res.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stats"]["skipped_audio"] == {f"folder:{k}": v for k, v in sorted(BAD.items())}
    card = (out / "README.md").read_text()
    assert "5 source file(s) were unusable and left out" in card and "1 NaN or infinite samples" in card
    import pyarrow.parquet as pq

    used = {s["clip_id"] for f in (out / "data").glob("*.parquet") for row in pq.read_table(f).to_pylist()
            for s in row["sources"]}
    assert used and not used & {f"folder:{k}" for k in BAD}
    assert run("verify", str(out)).returncode == 0
    # preview shows the scene the dataset holds: it leaves the same files out
    rows = {row["id"]: row for f in (out / "data").glob("train-*.parquet") for row in pq.read_table(f).to_pylist()}
    for index in range(3):
        res = run("preview", str(recipe), "--index", str(index), "--out", str(tmp_path / "preview"))
        assert res.returncode == 0, res.stderr
        scene = json.loads((tmp_path / "preview" / f"train-{index}.json").read_text())
        assert scene == json.loads(rows[f"train-{index:08d}"]["scene"])


def test_fail_stops_at_the_first_bad_file_before_writing(recipe, tmp_path):
    out = tmp_path / "ds"
    res = run("render", str(recipe), "--out", str(out), "--on-bad-audio", "fail")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "chirp/cut.wav: truncated" in res.stderr and "--on-bad-audio skip" in res.stderr
    assert not out.exists()  # nothing half-written, not even the folder


def test_a_split_left_without_usable_clips_is_one_line(corpus, recipe, tmp_path):
    data = yaml.safe_load(recipe.read_text())
    bad_only = tmp_path / "bad"
    for name in BAD:
        (bad_only / name).parent.mkdir(parents=True, exist_ok=True)
        (bad_only / name).write_bytes((corpus / name).read_bytes())
    data["sources"]["corpora"] = [{"type": "folder", "root": str(bad_only)}]
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data))
    res = run("render", str(path), "--out", str(tmp_path / "ds"))
    assert res.returncode == 2, res.stderr
    assert "corpus 'folder': no usable source clip left for split" in res.stderr, res.stderr
    assert "(5 unusable file(s) left out)" in res.stderr
    assert not (tmp_path / "ds").exists()


def test_a_bad_policy_name_is_one_line(recipe, tmp_path):
    res = run("render", str(recipe), "--out", str(tmp_path / "ds"), "--on-bad-audio", "ignore")
    assert res.returncode == 2 and "--on-bad-audio 'ignore': expected skip or fail" in res.stderr, res.stderr


def test_a_missing_file_listed_in_a_manifest_is_skipped_or_fails(corpus, recipe, tmp_path):
    rows = ["path,label,split"] + [f"{label}/ok{k}.flac,{label},{'test' if k == 0 else 'train'}"
                                   for label in ("chirp", "hum") for k in range(4)]
    (corpus / "list.csv").write_text("\n".join(rows + ["hum/gone.flac,hum,train"]) + "\n")
    data = yaml.safe_load(recipe.read_text())
    data["sources"]["corpora"] = [{"type": "manifest", "path": str(corpus / "list.csv")}]
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data))
    res = run("render", str(path), "--out", str(tmp_path / "ds"), "--workers", "1")
    assert res.returncode == 0, res.stderr
    manifest = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert manifest["stats"]["skipped_audio"] == {"manifest:hum/gone.flac": "missing"}
    res = run("render", str(path), "--out", str(tmp_path / "ds2"), "--on-bad-audio", "fail")
    assert res.returncode == 2 and "hum/gone.flac: missing" in res.stderr, res.stderr


def test_changed_source_files_refuse_a_resume_and_overwrite_starts_afresh(corpus, recipe, tmp_path):
    import shutil

    root = tmp_path / "corpus"
    shutil.copytree(corpus, root, ignore=shutil.ignore_patterns("*.csv"))
    data = yaml.safe_load(recipe.read_text())
    data["sources"]["corpora"] = [{"type": "folder", "root": str(root)}]
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "ds"
    assert run("render", str(path), "--out", str(out), "--workers", "1").returncode == 0
    (root / "hum/junk.wav").write_text("junk")  # one more unusable file: the scenes would change
    res = run("render", str(path), "--out", str(out), "--workers", "1")
    assert res.returncode == 2 and "the usable source files changed since its shards were rendered" in res.stderr
    assert "--overwrite" in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    res = run("render", str(path), "--out", str(out), "--workers", "1", "--overwrite")
    assert res.returncode == 0, res.stderr
    skipped = json.loads((out / "manifest.json").read_text())["stats"]["skipped_audio"]
    assert skipped["folder:hum/junk.wav"] == "not audio" and len(skipped) == 6
    assert run("verify", str(out)).returncode == 0


def test_a_corpus_left_without_clips_for_a_split_is_one_line(corpus, recipe, tmp_path):
    """Scenes pick a corpus first: one corpus without clips for a split is enough to fail."""
    data = yaml.safe_load(recipe.read_text())
    lonely = tmp_path / "lonely"
    (lonely / "hum").mkdir(parents=True)
    for k in range(3):
        (lonely / "hum" / f"bad{k}.wav").write_text("not audio")
    data["sources"]["corpora"] = [{"type": "folder", "root": str(corpus)},
                                  {"type": "folder", "root": str(lonely), "name": "lonely"}]
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data))
    res = run("render", str(path), "--out", str(tmp_path / "ds"))
    assert res.returncode == 2, res.stderr
    assert "corpus 'lonely': no usable source clip left for split" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "ds").exists()
