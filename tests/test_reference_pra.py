"""The pyroomacoustics reference renderer: conventions checked against the SOFA data.

The SOFA file is the measured HRTF shipped in the ``spatialaudiometrics`` 0.1.2 wheel
(shared fixture ``axd_path`` in conftest: the registry pulls and SHA-checks it).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyroomacoustics")
pytest.importorskip("sofar")

from binsynth.errors import ConfigError, GeometryError  # noqa: E402
from binsynth.reference import pra as ref  # noqa: E402

SOFA_SHA256 = "414f9300bbf13c59dfb2d4034d3003ae151b10d6fa8b6ca17a24a04f1b20946e"
FS = 48000
ROOM = [6.0, 5.0, 3.0]
LISTENER = np.array([3.0, 2.5, 1.5])


@pytest.fixture(scope="session")
def sofa_path(axd_path) -> Path:
    """The measured AXD file, from the shared fixture (registry pull, SHA-256 checked)."""
    assert hashlib.sha256(Path(axd_path).read_bytes()).hexdigest() == SOFA_SHA256
    return Path(axd_path)


@pytest.fixture(scope="session")
def sofa_data(sofa_path):
    import sofar

    s = sofar.read_sofa(str(sofa_path), verify=False, verbose=False)
    return np.asarray(s.Data_IR, float), np.asarray(s.SourcePosition, float)


def _head_direction(d_room: np.ndarray, yaw_deg: float) -> tuple[float, float]:
    """Room-frame offset (source - listener) to head-frame (azimuth, elevation) degrees."""
    y = np.deg2rad(yaw_deg)
    x_h = np.cos(y) * d_room[0] + np.sin(y) * d_room[1]
    y_h = -np.sin(y) * d_room[0] + np.cos(y) * d_room[1]
    r = np.linalg.norm(d_room)
    return float(np.degrees(np.arctan2(y_h, x_h))), float(np.degrees(np.arcsin(d_room[2] / r)))


def _nearest(src_pos: np.ndarray, az: float, el: float) -> int:
    a, e = np.deg2rad(src_pos[:, 0]), np.deg2rad(src_pos[:, 1])
    v = np.stack([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)], axis=1)
    a0, e0 = np.deg2rad(az), np.deg2rad(el)
    t = np.array([np.cos(e0) * np.cos(a0), np.cos(e0) * np.sin(a0), np.sin(e0)])
    return int(np.argmax(v @ t))


def _frac_delay(x: np.ndarray, delay: float, n: int) -> np.ndarray:
    nfft = 1 << int(np.ceil(np.log2(n + len(x) + 64)))
    X = np.fft.rfft(x, nfft) * np.exp(-2j * np.pi * np.fft.rfftfreq(nfft) * delay)
    return np.fft.irfft(X, nfft)[:n]


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def _energy_db(h: np.ndarray) -> np.ndarray:
    return 10 * np.log10(np.sum(h**2, axis=-1))


def test_reader_layout(sofa_path):
    ir, fs, dirs, rec, src_labels, mic_labels = ref.sofar_file_reader(sofa_path, fs=None)
    assert ir.shape == (793, 2, 256) and fs == 48000
    assert dirs.shape == (3, 793) and rec.shape == (3, 2)
    assert mic_labels == ["left", "right"] and src_labels is None
    assert np.all((dirs[1] >= 0) & (dirs[1] <= np.pi))  # colatitude, radians
    np.testing.assert_allclose(dirs[2], 1.5)
    np.testing.assert_allclose(rec[:, 0], [0.0, 0.09, 0.0])
    # SOFA (azimuth 90, elevation 0) is the left side: colatitude 90 deg, azimuth +pi/2
    k = int(np.argmin(np.abs(np.cos(dirs[0]) - 0) + np.abs(np.sin(dirs[0]) - 1) + np.abs(dirs[1] - np.pi / 2)))
    assert abs(dirs[0, k] - np.pi / 2) < 1e-9 and abs(dirs[1, k] - np.pi / 2) < 1e-9

    ir16, fs16, *_ = ref.sofar_file_reader(sofa_path, fs=16000)
    assert fs16 == 16000 and ir16.shape == (793, 2, 86)


@pytest.mark.parametrize(
    "yaw, offset",
    [
        (0.0, [1.7, 0.0, 0.0]),  # front
        (0.0, [0.0, 1.9, 0.0]),  # left
        (90.0, [0.0, -1.4, 0.3]),  # right, slightly above
        (30.0, [1.0, 0.6, 0.4]),  # nearly in front, above
        (-120.0, [-1.2, 1.1, -0.5]),
    ],
)
def test_direct_path_is_hrir_over_r_at_r_over_c(sofa_path, sofa_data, yaw, offset):
    import pyroomacoustics as pra

    hrirs, src_pos = sofa_data
    d = np.asarray(offset)
    r = float(np.linalg.norm(d))
    h = ref.pra_brir(ROOM, 0.3, LISTENER, yaw, LISTENER + d, sofa_path, FS, max_order=0)
    assert h.shape[0] == 2 and h.dtype == np.float64

    k = _nearest(src_pos, *_head_direction(d, yaw))
    delay = r / pra.constants.get("c") * FS
    for ch in (0, 1):
        hrir = hrirs[k, ch]
        # arrival time: lag of the cross-correlation peak with the undelayed HRIR
        xc = np.correlate(h[ch], hrir, mode="full")
        lag = int(np.argmax(xc)) - (len(hrir) - 1)
        assert abs(lag - delay) <= 1.0, (ch, lag, delay)
        # shape and scale: the HRIR / r, delayed by r / c
        expected = _frac_delay(hrir / r, delay, h.shape[1])
        assert _ncc(expected, h[ch]) >= 0.99
        scale = np.dot(expected, h[ch]) / np.dot(expected, expected)
        assert abs(scale - 1.0) < 0.02, scale


@pytest.mark.parametrize("yaw", [0.0, 135.0, -60.0])
def test_left_source_is_louder_in_channel_0(sofa_path, yaw):
    y = np.deg2rad(yaw)
    left = np.array([-np.sin(y), np.cos(y), 0.0]) * 1.2  # head +y in the room frame
    e_left = _energy_db(ref.pra_brir(ROOM, 0.3, LISTENER, yaw, LISTENER + left, sofa_path, FS, 0))
    e_right = _energy_db(ref.pra_brir(ROOM, 0.3, LISTENER, yaw, LISTENER - left, sofa_path, FS, 0))
    assert e_left[0] - e_left[1] > 6.0
    assert e_right[1] - e_right[0] > 6.0


def test_yaw_90_turns_plus_y_into_front(sofa_path):
    src = LISTENER + np.array([0.0, 1.5, 0.0])
    h90 = ref.pra_brir(ROOM, 0.3, LISTENER, 90.0, src, sofa_path, FS, 0)
    # same ear signals as a source straight ahead of an unrotated listener
    h0_front = ref.pra_brir(ROOM, 0.3, LISTENER, 0.0, LISTENER + [1.5, 0.0, 0.0], sofa_path, FS, 0)
    n = min(h90.shape[1], h0_front.shape[1])
    np.testing.assert_allclose(h90[:, :n], h0_front[:, :n], atol=1e-6 * np.abs(h0_front).max())
    # in front: equal onsets (interaural lag within one sample) and levels within 3 dB
    xc = np.correlate(h90[0], h90[1], mode="full")
    assert abs(int(np.argmax(xc)) - (h90.shape[1] - 1)) <= 1
    e = _energy_db(h90)
    assert abs(e[0] - e[1]) < 3.0
    # without the yaw the same source is on the left
    e0 = _energy_db(ref.pra_brir(ROOM, 0.3, LISTENER, 0.0, src, sofa_path, FS, 0))
    assert e0[0] - e0[1] > 6.0


def test_pitch_up_puts_a_level_source_below(sofa_path):
    e = np.deg2rad(30.0)
    pitched = ref.pra_brir(ROOM, 0.3, LISTENER, 0.0, LISTENER + [1.5, 0.0, 0.0], sofa_path, FS, 0,
                           listener_pitch_deg=30.0)
    below = ref.pra_brir(ROOM, 0.3, LISTENER, 0.0, LISTENER + 1.5 * np.array([np.cos(e), 0.0, -np.sin(e)]),
                         sofa_path, FS, 0)
    n = min(pitched.shape[1], below.shape[1])
    np.testing.assert_allclose(pitched[:, :n], below[:, :n], atol=1e-4 * np.abs(below).max())


def test_cached_directivity_is_not_rotated_in_place(sofa_path):
    src = LISTENER + np.array([1.0, 1.0, 0.0])
    a = ref.pra_brir(ROOM, 0.3, LISTENER, 0.0, src, sofa_path, FS, 0)
    ref.pra_brir(ROOM, 0.3, LISTENER, 170.0, src, sofa_path, FS, 0)
    b = ref.pra_brir(ROOM, 0.3, LISTENER, 0.0, src, sofa_path, FS, 0)
    np.testing.assert_array_equal(a, b)


def test_reflections_follow_the_direct_path(sofa_path):
    import pyroomacoustics as pra

    src = LISTENER + np.array([1.5, 0.5, 0.0])
    h0 = ref.pra_brir(ROOM, 0.3, LISTENER, 0.0, src, sofa_path, 16000, 0)
    h3 = ref.pra_brir(ROOM, 0.3, LISTENER, 0.0, src, sofa_path, 16000, 3)
    n0 = h0.shape[1]
    assert h3.shape[1] > n0
    # the first reflection (floor, 1.5 m below) cannot arrive before its path length
    d_floor = np.linalg.norm(src - (LISTENER * [1, 1, -1]))
    t_floor = int(d_floor / pra.constants.get("c") * 16000)
    direct_only = np.sum(h0[:, : t_floor - 30] ** 2)
    assert np.isclose(np.sum(h3[:, : t_floor - 30] ** 2), direct_only, rtol=1e-3)
    assert np.sum(h3**2) > 1.2 * np.sum(h0**2)


def test_render_scene_equals_sum_of_brir_convolutions(sofa_path):
    rng = np.random.default_rng(7)
    fs = 16000
    srcs = [
        ([1.0, 1.0, 1.2], rng.standard_normal(fs // 4)),
        ([5.0, 4.0, 1.7], rng.standard_normal(fs // 8)),
    ]
    timings: dict = {}
    y = ref.pra_render_scene(ROOM, 0.25, LISTENER, 20.0, srcs, sofa_path, fs, 3, timings=timings)
    want = np.zeros_like(y)
    for pos, sig in srcs:
        h = ref.pra_brir(ROOM, 0.25, LISTENER, 20.0, pos, sofa_path, fs, 3)
        c = np.stack([np.convolve(sig, h[0]), np.convolve(sig, h[1])])
        assert c.shape[1] <= y.shape[1]
        want[:, : c.shape[1]] += c
    # They differ only by the pre-emission samples pra_brir drops (the zero-phase
    # 10 Hz high-pass of pyroomacoustics spreads a little energy before t = 0).
    err = np.max(np.abs(y - want)) / np.max(np.abs(want))
    assert err < 5e-3
    assert {"directivity_s", "ism_s", "rir_s", "simulate_s", "total_s"} <= timings.keys()


def test_bad_input_is_reported(sofa_path):
    with pytest.raises(GeometryError, match="source_pos"):
        ref.pra_brir(ROOM, 0.3, LISTENER, 0.0, [7.0, 1.0, 1.0], sofa_path, FS, 0)
    with pytest.raises(GeometryError, match="listener_pos"):
        ref.pra_brir(ROOM, 0.3, [3.0, 2.5, 3.0], 0.0, [1.0, 1.0, 1.0], sofa_path, FS, 0)
    with pytest.raises(GeometryError, match="coincides"):
        ref.pra_brir(ROOM, 0.3, LISTENER, 0.0, LISTENER, sofa_path, FS, 0)
    with pytest.raises(ConfigError, match="absorption"):
        ref.pra_brir(ROOM, 1.5, LISTENER, 0.0, [1.0, 1.0, 1.0], sofa_path, FS, 0)
    with pytest.raises(ConfigError, match="signal"):
        ref.pra_render_scene(ROOM, 0.3, LISTENER, 0.0, [([1.0, 1.0, 1.0], np.zeros((2, 4)))], sofa_path, FS, 0)


def test_missing_pyroomacoustics_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyroomacoustics", None)
    with pytest.raises(ImportError, match=r"pip install binsynth\[dev\]"):
        ref._import_pra()
