"""`binsynth verify DIR`: an intact dataset passes; tampering, corruption, a truncated
render, stray files and a manifest that lies are each named on their own line (exit 1);
what is not a dataset is a one-line error (exit 2). And the folder lock's corner cases."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import rendered, shrunk_demo_recipe
from conftest import run_cli as run

SHARD = "data/train-00001-of-00003.parquet"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("verify")
    return rendered(shrunk_demo_recipe(folder, {"train": 6, "test": 3}), folder / "ds", "--workers", "1")


@pytest.fixture
def copy(dataset, tmp_path) -> Path:
    out = tmp_path / "ds"
    shutil.copytree(dataset, out)
    return out


def rewrite(folder: Path, file: str, table: pa.Table) -> None:
    """Replace a shard and make the manifest vouch for it (a consistent forgery)."""
    pq.write_table(table, folder / file)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["shards"][file]["sha256"] = hashlib.sha256((folder / file).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def problems(folder: Path) -> list[str]:
    res = run("verify", str(folder))
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr)
    assert "problem(s)" in res.stderr
    return [line for line in res.stdout.splitlines() if line.startswith("PROBLEM ")]


def test_an_intact_dataset_passes(dataset):
    res = run("verify", str(dataset))
    assert res.returncode == 0, res.stdout
    assert "intact — 5 shards, 9 rows" in res.stdout


def test_a_flipped_byte_is_named(copy):
    data = bytearray((copy / SHARD).read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / SHARD).write_bytes(bytes(data))
    assert any(f"{SHARD}: SHA-256 differs" in p for p in problems(copy))


def test_a_dropped_row_is_caught_even_with_a_rewritten_manifest(copy):
    table = pq.read_table(copy / SHARD)
    rewrite(copy, SHARD, table.slice(0, 1))
    found = problems(copy)
    assert found == [f"PROBLEM {SHARD}: 1 rows, manifest.json records 2"], found


def test_undecodable_audio_is_caught_even_with_a_rewritten_manifest(copy):
    table = pq.read_table(copy / SHARD)
    audio = table.column("audio").to_pylist()
    audio[1] = {"bytes": audio[1]["bytes"][:100], "path": audio[1]["path"]}  # truncated FLAC
    table = table.set_column(table.schema.get_field_index("audio"), "audio",
                             pa.array(audio, type=table.schema.field("audio").type))
    rewrite(copy, SHARD, table)
    found = problems(copy)
    assert len(found) == 1 and f"{SHARD} row train-00000003" in found[0], found


def test_scenes_of_another_shard_are_caught(copy):
    other = pq.read_table(copy / "data/train-00000-of-00003.parquet")
    rewrite(copy, SHARD, other)
    assert problems(copy) == [f"PROBLEM {SHARD}: scene ids are not train-00000002..train-00000003 in order"]


def test_missing_stray_and_temporary_files_are_named(copy):
    (copy / "data/test-00001-of-00002.parquet").unlink()
    (copy / "data/.train-00000-of-00003.parquet.x1.tmp.parquet").write_bytes(b"half")
    shutil.copy(copy / SHARD, copy / "data/train-00009-of-00010.parquet")
    found = "\n".join(problems(copy))
    assert "data/test-00001-of-00002.parquet: listed in manifest.json but missing" in found
    assert "data/train-00009-of-00010.parquet: not listed in manifest.json" in found
    assert "data/.train-00000-of-00003.parquet.x1.tmp.parquet: a temporary file left by a killed run" in found


def test_an_unfinished_render_is_named(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["shards"]["data/test-00001-of-00002.parquet"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    (copy / "data/test-00001-of-00002.parquet").unlink()
    found = "\n".join(problems(copy))
    assert "1 of 5 shards not rendered yet (first: data/test-00001-of-00002.parquet)" in found


def test_a_changed_recipe_is_named(copy):
    import yaml

    data = yaml.safe_load((copy / "recipe.yaml").read_text())
    data["dataset"]["seed"] += 1
    (copy / "recipe.yaml").write_text(yaml.safe_dump(data))
    assert "PROBLEM recipe.yaml: recipe.yaml's hash differs from the manifest's" in problems(copy)


@pytest.mark.parametrize("make, needle", [
    (lambda p: p, "no such folder"),
    (lambda p: (p.mkdir(), p)[1], "not a binsynth dataset"),
    (lambda p: (p.write_text("x"), p)[1], "not a folder"),
])
def test_what_is_not_a_dataset_is_one_line(tmp_path, make, needle):
    res = run("verify", str(make(tmp_path / "x")))
    assert res.returncode == 2 and needle in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_the_lock_refuses_a_second_holder_and_takes_over_a_stale_file(tmp_path):
    import fcntl
    import os

    from binsynth.errors import BusyError
    from binsynth.io.lock import LOCK, folder_lock

    with folder_lock(tmp_path):
        assert json.loads((tmp_path / LOCK).read_text())["pid"] == os.getpid()
        with pytest.raises(BusyError, match="another binsynth render is writing here"):
            with folder_lock(tmp_path):
                pass
    assert not (tmp_path / LOCK).exists()  # removed by its holder
    # a stale file left by a killed run (unlocked) is taken over
    (tmp_path / LOCK).write_text("{}")
    with folder_lock(tmp_path):
        fd = os.open(tmp_path / LOCK, os.O_RDWR)
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(fd)


def test_a_render_in_progress_and_an_unfinished_card_are_named(copy):
    from binsynth.io.lock import folder_lock

    (copy / "README.md").unlink()
    (copy / ".manifest.json.x1.tmp.json").write_text("{")
    with folder_lock(copy):
        found = "\n".join(problems(copy))
    assert "a render is writing into this folder now (pid" in found
    assert "README.md: missing — the render did not finish" in found
    assert ".manifest.json.x1.tmp.json: a temporary file left by a killed run" in found
