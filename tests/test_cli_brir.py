"""`binsynth brir` and `binsynth demo` through the real console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

BIN = str(Path(sys.executable).with_name("binsynth"))


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    return subprocess.run([BIN, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_brir_writes_wav_sidecar_and_png(tmp_path, axd_path):
    out = tmp_path / "b.wav"
    res = run("brir", "--hrtf", str(axd_path), "--fs", "16000", "--room", "6x5x3", "--rt60", "0.4",
              "--listener", "2,2,1.5", "--yaw", "30", "--azimuth", "45", "--elevation", "10",
              "--distance", "2", "--out", str(out))
    assert res.returncode == 0, res.stderr
    data, fs = sf.read(out, dtype="float32", always_2d=True)
    info = sf.info(out)
    assert fs == 16000 and data.shape[1] == 2 and info.subtype == "FLOAT"
    side = json.loads(out.with_suffix(".json").read_text())
    brir = side["brir"]
    assert brir["n_taps"] == data.shape[0] and brir["image_order"] >= 1 and brir["transition_s"] > 0
    assert brir["hrtf_sha256"] == "414f9300bbf13c59dfb2d4034d3003ae151b10d6fa8b6ca17a24a04f1b20946e"
    assert brir["rt60_target_s"] == 0.4 and side["room"]["rt60_target_s"] == 0.4
    assert brir["azimuth_deg"] == pytest.approx(45.0) and brir["elevation_deg"] == pytest.approx(10.0)
    assert data.shape[0] / fs >= 0.4  # the tail reaches the RT60
    e = (data.astype(float) ** 2).sum(0)
    assert out.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.all(e > 0)


def test_anechoic_spherical_brir(tmp_path):
    out = tmp_path / "a.wav"
    res = run("brir", "--hrtf", "spherical", "--fs", "48000", "--azimuth", "90", "--distance", "1",
              "--out", str(out), "--no-png")
    assert res.returncode == 0, res.stderr
    data, _ = sf.read(out, always_2d=True)
    e = (data**2).sum(0)
    assert e[0] > 4 * e[1]  # +90 = left = channel 0
    assert not out.with_suffix(".png").exists()
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["room"] is None and side["brir"]["n_images"] == 1


@pytest.mark.parametrize(
    "args,message",
    [
        (["--room", "6x5x3", "--rt60", "0.5", "--listener", "2,2,1.5", "--azimuth", "90", "--distance", "5"],
         "is outside the 6x5x3 m room"),
        (["--room", "6x5", "--rt60", "0.5", "--listener", "2,2,1.5", "--azimuth", "0"], "--room '6x5'"),
        (["--room", "6x5x3", "--listener", "2,2,1.5", "--azimuth", "0"], "exactly one of --rt60"),
        (["--azimuth", "0", "--elevation", "100"], "--elevation 100"),
        (["--azimuth", "0", "--distance", "0.05"], "at least 0.2 m"),
        (["--azimuth", "0", "--hrtf", "no-such-set"], "unknown HRTF set 'no-such-set'"),
        (["--azimuth", "0", "--fs", "100"], "--fs 100"),
        (["--azimuth", "0", "--room", "6x5x3", "--rt60", "90", "--listener", "1,1,1"], "too long"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, args, message):
    out = tmp_path / "x.wav"
    res = run("brir", "--fs", "16000", "--out", str(out), *args) if "--fs" not in args else run("brir", "--out", str(out), *args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_demo_writes_its_files(tmp_path, axd_path):
    res = run("demo", "--out", str(tmp_path / "d"), "--fs", "16000", "--device", "cpu")
    assert res.returncode == 0, res.stderr
    names = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert names == ["brir.json", "brir.png", "brir.wav", "scene.json", "scene.wav"]
    mix, fs = sf.read(tmp_path / "d" / "scene.wav", always_2d=True)
    assert fs == 16000 and mix.shape == (6 * 16000, 2) and np.abs(mix).max() > 0.05
    meta = json.loads((tmp_path / "d" / "scene.json").read_text())
    assert [round(s["azimuth_deg"]) for s in meta["sources"]] == [70, -30, 180]
