"""Cross-checks against pyroomacoustics, the reference implementation.

* Image sources: same positions and orders as pyroomacoustics' own image-source model.
* Early reflections: pyroomacoustics' per-image-source SOFA rendering (MeasuredDirectivity
  with a sofar-based reader, nearest measured HRIR per image) and binsynth agree for the
  same room, HRTF and image-source order 2, without tail: normalised cross-correlation
  ≥ 0.9 per ear, energy within 1 dB.

Documented convention differences are undone before comparing: binsynth scales the HRTF
set to unit diffuse-field energy (``hrtf.gain``) and removes the HRIRs' own measurement
pre-delay (``hrtf.ref_delay_samples``), so time 0 is emission. Below the file's 48 kHz,
pyroomacoustics resamples HRIRs like signals (tap values kept), which lowers their gain
by fs/48 kHz; binsynth scales the taps by 48 kHz/fs so the frequency response is kept,
and the test multiplies pyroomacoustics' output by the same factor.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pra = pytest.importorskip("pyroomacoustics")

from binsynth.acoustics.brir import BRIRRequest, BRIRSynthesizer  # noqa: E402
from binsynth.acoustics.images import enumerate_images  # noqa: E402
from binsynth.acoustics.room import ShoeboxRoom  # noqa: E402
from binsynth.reference.pra import pra_brir  # noqa: E402

CASES = [
    # room dims, listener, source, yaw
    ([6.0, 5.0, 3.0], [2.0, 2.5, 1.5], [4.5, 3.5, 1.2], 0.0),
    ([6.0, 5.0, 3.0], [3.1, 1.7, 1.6], [1.0, 4.0, 2.2], 30.0),
    ([8.0, 4.0, 2.8], [6.0, 2.0, 1.2], [2.5, 1.0, 1.7], -120.0),
    ([4.5, 3.8, 2.6], [1.0, 1.0, 1.4], [3.2, 2.9, 0.8], 75.0),
]


@pytest.mark.parametrize("dims,listener,source,_yaw", CASES)
def test_image_sources_match_pyroomacoustics(dims, listener, source, _yaw):
    room = pra.ShoeBox(dims, fs=16000, max_order=3, materials=pra.Material(0.3))
    room.add_source(source)
    room.add_microphone(listener)
    room.image_source_model()
    theirs = sorted(
        (tuple(np.round(p.astype(float), 4).tolist()), int(o)) for p, o in zip(room.sources[0].images.T, room.sources[0].orders)
    )
    f64 = dict(dtype=torch.float64)
    imgs = enumerate_images(
        torch.tensor([dims], **f64), torch.tensor([source], **f64), torch.tensor([listener], **f64),
        torch.tensor([1e9], **f64), torch.tensor([3]),
    )
    ours = sorted((tuple(np.round(p, 4).tolist()), int(o)) for p, o in zip(imgs.position_m.numpy(), imgs.order.numpy()))
    assert ours == theirs
    # wall hits: each reflection off an absorbing wall multiplies pressure by sqrt(1 - α)
    assert int(imgs.counts.sum()) == int(sum(o for _, o in theirs))


def _ncc(a: np.ndarray, b: np.ndarray, max_lag: int) -> tuple[float, int]:
    """Largest normalised cross-correlation over lags |l| ≤ max_lag, and its lag."""
    n = max(a.size, b.size) + max_lag
    a = np.pad(a, (0, n - a.size))
    b = np.pad(b, (0, n - b.size))
    best = (-1.0, 0)
    for lag in range(-max_lag, max_lag + 1):
        c = float(np.dot(a, np.roll(b, lag)) / np.sqrt(np.dot(a, a) * np.dot(b, b)))
        best = max(best, (c, lag))
    return best


@pytest.mark.parametrize("fs", [16000, 48000])
@pytest.mark.parametrize("dims,listener,source,yaw", CASES)
def test_early_reflections_agree_with_pyroomacoustics(axd_path, axd48, fs, dims, listener, source, yaw):
    alpha = 0.3
    theirs = pra_brir(dims, alpha, listener, yaw, source, axd_path, fs, max_order=2, air_absorption=False)
    synth = BRIRSynthesizer(axd48, fs, "cpu", interpolation="nearest")
    room = ShoeboxRoom(dims, np.full((6, 7), alpha), air_absorption=False)
    (b,), (info,) = synth.synthesize([BRIRRequest(room, listener, source, yaw, max_order=2, tail=False)])
    assert info.image_order == 2 and info.n_images == 25
    ours = b.numpy().astype(np.float64) / synth.hrtf.gain  # undo the diffuse-field normalisation
    shift = int(round(synth.hrtf.ref_delay_samples))  # pyroomacoustics keeps the HRIR pre-delay
    theirs = theirs[:, shift:] * (axd48.fs_hz / fs)
    for ear in (0, 1):
        ncc, lag = _ncc(ours[ear], theirs[ear], max_lag=3)
        assert ncc >= 0.9, (ear, ncc)
        assert abs(lag) <= 1
        energy_db = 10 * np.log10((ours[ear] ** 2).sum() / (theirs[ear] ** 2).sum())
        assert abs(energy_db) <= 1.0, (ear, energy_db)
