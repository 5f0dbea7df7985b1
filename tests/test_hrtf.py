"""HRTF sets: SOFA loading through sofar, normalisation, onsets, resampling, the spherical model."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from binsynth.acoustics.hrtf import direction_weights, load_sofa
from binsynth.acoustics.spherical import SphericalHead, ear_delay_s, woodworth_itd_s
from binsynth.constants import HEAD_RADIUS_M, SPEED_OF_SOUND_M_S
from binsynth.dsp.measures import onset_samples
from binsynth.errors import HRTFError, PathError


def test_axd_set_loads_with_its_hash_and_conventions(axd_path, axd48):
    assert axd48.irs.shape == (793, 2, 256) and axd48.fs_hz == 48000
    assert axd48.sha256 == hashlib.sha256(axd_path.read_bytes()).hexdigest()
    assert axd48.azimuth_deg.max() <= 180 and axd48.azimuth_deg.min() > -180
    # +90 (left) is louder in channel 0
    k = axd48.nearest(90, 0)
    e = (axd48.irs[k].astype(float) ** 2).sum(-1)
    assert e[0] > 10 * e[1]
    # unit diffuse-field energy after normalisation, and the gain is recorded
    energy = (axd48.irs.astype(float) ** 2).sum(-1).mean(-1)
    assert float((axd48.weights * energy).sum()) == pytest.approx(1.0, rel=1e-6)
    assert axd48.gain > 0 and axd48.distance_m == pytest.approx(1.5)


def test_voronoi_weights_follow_area_on_a_regular_grid():
    az, el = SphericalHead(step_deg=10.0).grid()
    w = direction_weights(az, el)
    assert w.sum() == pytest.approx(1.0)
    ring = lambda e: w[(el == e)].mean()  # noqa: E731
    # cell area ∝ cos(elevation) on an equiangular grid
    assert ring(60.0) / ring(0.0) == pytest.approx(np.cos(np.radians(60)), rel=0.05)


def test_aligned_irs_put_every_onset_at_lead(axd48):
    aligned = axd48.aligned_irs(24)
    on = onset_samples(aligned[::37].astype(float))
    np.testing.assert_allclose(on, 24.0, atol=0.6)


def test_resampling_keeps_itd_and_low_frequency_gain(axd48):
    h16 = axd48.resampled(16000)
    assert h16.fs_hz == 16000 and h16.irs.shape[-1] == 256 // 3 + 1
    for az in (30, 90, -60):
        k = axd48.nearest(az, 0)
        assert abs(h16.itd_s(k) - axd48.itd_s(k)) <= 1 / 16000
        # the frequency response below 6 kHz is kept (taps scaled by 48/16)
        f48 = np.abs(np.fft.rfft(axd48.irs[k, 0].astype(float), 4800))[:600:50]
        f16 = np.abs(np.fft.rfft(h16.irs[k, 0].astype(float), 1600))[:600:50]
        np.testing.assert_allclose(20 * np.log10(f16 / f48), 0.0, atol=0.5)


def test_missing_and_broken_sofa_files(tmp_path):
    with pytest.raises(PathError, match="no such file"):
        load_sofa(tmp_path / "nope.sofa")
    bad = tmp_path / "bad.sofa"
    bad.write_bytes(b"not a netcdf file")
    with pytest.raises(HRTFError, match="not a readable SOFA file"):
        load_sofa(bad)


def test_woodworth_closed_form():
    a_c = HEAD_RADIUS_M / SPEED_OF_SOUND_M_S
    assert woodworth_itd_s(90) == pytest.approx(a_c * (np.pi / 2 + 1))
    assert woodworth_itd_s(0) == 0.0
    # the ear delays reproduce it: left ear at θ = 90° - φ, right at 90° + φ
    phi = np.radians(40)
    itd = ear_delay_s(np.pi / 2 + phi) - ear_delay_s(np.pi / 2 - phi)
    assert itd == pytest.approx(woodworth_itd_s(40))


def test_spherical_head_shadow_and_bright_side():
    head = SphericalHead(fs_hz=48000)
    irs, _ = head.responses(90.0, 0.0)  # source on the left axis
    spec = np.abs(np.fft.rfft(irs[0], 4096))
    f = np.fft.rfftfreq(4096, 1 / 48000)
    lit = 20 * np.log10(spec[:, (f > 15000) & (f < 20000)].mean(axis=1))
    low = 20 * np.log10(spec[:, (f > 50) & (f < 150)].mean(axis=1))
    assert lit[0] - low[0] == pytest.approx(20 * np.log10(2.0), abs=1.0)  # +6 dB shelf, α(0) = 2
    assert lit[1] - low[1] < -10  # shadowed ear loses the highs
    assert abs(low[0] - low[1]) < 1  # the head is transparent at low frequencies


def test_spherical_model_exports_a_sofa_file_that_loads_back(tmp_path):
    head = SphericalHead(fs_hz=16000, step_deg=15.0)
    path = head.to_sofa(tmp_path / "sphere.sofa")
    back = load_sofa(path)
    ref = head.to_hrtf_set()
    assert back.irs.shape == ref.irs.shape
    np.testing.assert_allclose(back.irs, ref.irs, atol=1e-5)
    for az in (0, 45, 90, -120):
        k, j = back.nearest(az, 0), ref.nearest(az, 0)
        assert abs(back.itd_s(k) - ref.itd_s(j)) <= 1 / 16000
