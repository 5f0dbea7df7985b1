"""FOA (AmbiX: ACN W, Y, Z, X; SN3D; head frame) impulse responses against closed forms.

Directions are read back from the rendered channels through the active intensity
(W·X, W·Y, W·Z); levels through energies (Parseval: a fractional delay keeps an impulse's
energy, so 1/r shows exactly in the energy ratio).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import octave_band, run_cli

from binsynth.acoustics.brir import BRIRRequest, BRIRSynthesizer
from binsynth.acoustics.foa import CHANNELS, FOASynthesizer, ambix_gains, ambix_gains_deg
from binsynth.acoustics.room import ShoeboxRoom
from binsynth.constants import SPEED_OF_SOUND_M_S as C
from binsynth.dsp.measures import t30_s
from binsynth.geometry import head_to_room, sph_to_cart

LISTENER = np.array([3.0, 2.5, 1.6])


def _foa(fs, az, el, dist, room=None, listener=LISTENER, yaw=0.0, pitch=0.0, **kw):
    src = head_to_room(az, el, dist, listener, yaw, pitch)
    (ir,), (info,) = FOASynthesizer(fs).synthesize([BRIRRequest(room, listener, src, yaw, pitch, **kw)])
    return ir.numpy().astype(np.float64), info


def _direction(ir: np.ndarray) -> tuple[float, float]:
    """Azimuth and elevation in degrees of the active intensity of ``ir`` (W, Y, Z, X)."""
    w, y, z, x = ir
    ix, iy, iz = (w * x).sum(), (w * y).sum(), (w * z).sum()
    return float(np.degrees(np.arctan2(iy, ix))), float(np.degrees(np.arctan2(iz, np.hypot(ix, iy))))


def _angle_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    u, v = sph_to_cart(*a), sph_to_cart(*b)
    return float(np.degrees(np.arccos(np.clip(u @ v, -1.0, 1.0))))


def test_ambix_gains_are_the_sn3d_formulas():
    rng = np.random.default_rng(0)
    az, el = rng.uniform(-180, 180, 500), np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    unit = np.stack([sph_to_cart(a, e) for a, e in zip(az, el)])
    a, e = np.radians(az), np.radians(el)
    expected = np.stack([np.ones(500), np.sin(a) * np.cos(e), np.sin(e), np.cos(a) * np.cos(e)], -1)
    np.testing.assert_allclose(ambix_gains(unit), expected, atol=1e-6)
    np.testing.assert_allclose(ambix_gains_deg(az, el), expected, atol=1e-12)
    # front, left, up: X, Y, Z alone beside W (ACN order W, Y, Z, X)
    np.testing.assert_allclose(ambix_gains_deg([0.0, 90.0, 0.0], [0.0, 0.0, 90.0]),
                               [[1, 0, 0, 1], [1, 1, 0, 0], [1, 0, 1, 0]], atol=1e-12)
    assert CHANNELS == ("W", "Y", "Z", "X")


@pytest.mark.parametrize("fs", [16000, 48000])
@pytest.mark.parametrize("az, el", [(0.0, 0.0), (90.0, 0.0), (-135.0, 30.0), (60.0, -40.0), (170.0, 75.0)])
def test_anechoic_foa_arrives_at_r_over_c_from_the_source_direction(fs, az, el):
    ir, info = _foa(fs, az, el, 2.0, air_absorption=False)
    assert ir.shape[0] == 4
    assert abs(int(np.argmax(np.abs(ir[0]))) - 2.0 / C * fs) <= 1.0
    assert _angle_deg(_direction(ir), (az, el)) <= 1.0
    # each channel is the W impulse times its gain
    gains = ambix_gains_deg(az, el)
    for ch in range(1, 4):
        np.testing.assert_allclose(ir[ch], gains[ch] * ir[0], atol=1e-5 * np.abs(ir[0]).max())


def test_anechoic_w_energy_falls_as_one_over_r_squared():
    energy = {r: (_foa(48000, 30.0, 10.0, r, air_absorption=False)[0][0] ** 2).sum() for r in (0.5, 1.0, 3.0)}
    assert energy[0.5] / energy[1.0] == pytest.approx(4.0, rel=1e-3)
    assert energy[1.0] / energy[3.0] == pytest.approx(9.0, rel=1e-3)


@pytest.mark.parametrize("az, el", [(45.0, 0.0), (-100.0, 20.0), (160.0, -15.0)])
def test_direct_sound_direction_in_a_room(az, el):
    fs = 48000
    room = ShoeboxRoom.from_rt60([7.0, 5.0, 3.0], 0.5)
    ir, info = _foa(fs, az, el, 1.2, room=room)
    n0 = int(round(1.2 / C * fs))
    # up to 1 ms after the direct sound: before the first reflection (>= 1.3 ms later here)
    assert _angle_deg(_direction(ir[:, n0 - 20 : n0 + fs // 1000]), (az, el)) <= 3.0


def _mirrored_pair(axis: int):
    dims = np.array([7.0, 5.0, 3.0])
    room = ShoeboxRoom(dims, np.full((6, 7), 0.3))
    listener, source = np.array([2.5, 1.8, 1.4]), np.array([5.1, 3.2, 2.2])
    mirror = np.ones(3)
    mirror[axis] = -1
    m_listener = np.where(mirror < 0, dims - listener, listener)
    m_source = np.where(mirror < 0, dims - source, source)
    synth = FOASynthesizer(48000)
    (a, b), _ = synth.synthesize([
        BRIRRequest(room, listener, source, yaw_deg=20.0, max_order=2, tail=False),
        BRIRRequest(room, m_listener, m_source, yaw_deg=-20.0 if axis == 1 else 20.0, max_order=2, tail=False),
    ])
    return a.numpy(), b.numpy()


@pytest.mark.parametrize("axis, flipped", [(1, 1), (2, 2)])
def test_mirroring_the_scene_flips_only_its_channel(axis, flipped):
    """y -> -y (the yaw mirrored too) flips only Y; z -> -z flips only Z."""
    a, b = _mirrored_pair(axis)
    tol = 1e-5 * np.abs(a).max()
    for ch in range(4):
        sign = -1.0 if ch == flipped else 1.0
        np.testing.assert_allclose(b[ch], sign * a[ch], atol=tol, err_msg=CHANNELS[ch])
    assert np.abs(a[flipped]).max() > 100 * tol  # the flipped channel is not silent


def test_rotating_the_source_about_z_rotates_x_and_y():
    alpha = 50.0
    a, _ = _foa(48000, 20.0, 15.0, 1.7)
    b, _ = _foa(48000, 20.0 + alpha, 15.0, 1.7)
    c, s = np.cos(np.radians(alpha)), np.sin(np.radians(alpha))
    tol = 1e-5 * np.abs(a).max()
    np.testing.assert_allclose(b[0], a[0], atol=tol)
    np.testing.assert_allclose(b[2], a[2], atol=tol)
    np.testing.assert_allclose(b[3], c * a[3] - s * a[1], atol=tol)
    np.testing.assert_allclose(b[1], s * a[3] + c * a[1], atol=tol)


def test_foa_and_binaural_use_one_image_enumeration(sphere48):
    room = ShoeboxRoom.from_rt60([6.0, 4.0, 3.0], 0.4)
    req = BRIRRequest(room, LISTENER, head_to_room(-70.0, 5.0, 1.5, LISTENER, 0.0), seed=4)
    (_,), (foa,) = FOASynthesizer(48000).synthesize([req])
    (_,), (binaural,) = BRIRSynthesizer(sphere48, 48000).synthesize([req])
    for field in ("n_images", "image_order", "transition_s", "tail_match_db", "rt60_s", "direct_delay_s"):
        assert getattr(foa, field) == getattr(binaural, field), field
    assert foa.hrtf_name == "foa-ambix-sn3d"


def test_tail_is_isotropic_uncorrelated_and_decays_at_the_target_rt60():
    fs, rt60 = 48000, 0.6
    room = ShoeboxRoom.from_rt60([8.0, 6.0, 3.0], rt60)
    synth = FOASynthesizer(fs)
    src = head_to_room(40.0, 0.0, 2.0, LISTENER, 0.0)
    irs, infos = synth.synthesize([BRIRRequest(room, LISTENER, src, seed=s) for s in range(8)])
    ratios, corr = [], []
    for ir, info in zip(irs, infos):
        late = ir.numpy().astype(np.float64)[:, int((info.transition_s + 0.01) * fs):]
        energy = (late**2).sum(1)
        ratios.append(energy[1:] / energy[0])
        corr.append(np.abs(np.corrcoef(late)[np.triu_indices(4, 1)]).max())
    assert np.mean(ratios, axis=0) == pytest.approx([1 / 3] * 3, rel=0.05)
    assert max(corr) < 0.05
    w = irs[0].numpy().astype(np.float64)[0]
    t_mid = np.mean([t30_s(octave_band(w, fs, fc), fs) for fc in (500.0, 1000.0)])
    assert t_mid == pytest.approx(rt60, rel=0.10)


def test_tail_continues_the_early_part_without_a_step():
    """W's energy in 5 ms windows just before and just after the transition (seeds averaged),
    each divided by the expected decay, agree within 1.5 dB."""
    fs = 48000
    room = ShoeboxRoom.from_rt60([7.0, 5.0, 3.0], 0.5)
    src = head_to_room(120.0, 10.0, 2.5, LISTENER, 0.0)
    irs, infos = FOASynthesizer(fs).synthesize([BRIRRequest(room, LISTENER, src, seed=s) for s in range(8)])
    t = infos[0].transition_s
    rate = room.decay_rate_per_s[3]  # 1 kHz
    def level(a, b):
        seg = np.stack([ir.numpy()[0, int(a * fs):int(b * fs)] for ir in irs]).astype(np.float64)
        return (seg**2).mean() / np.exp(-rate * (a + b) / 2)
    before, after = level(t - 0.0125, t - 0.0075), level(t + 0.0075, t + 0.0125)
    assert abs(10 * np.log10(after / before)) <= 1.5


def test_the_top_band_does_not_step_at_the_transition():
    """Above 0.85 of Nyquist (where the images' band limit acts) W's level 10 ms either side
    of the transition, over the top band's decay, agrees within 3 dB: the tail is band-limited
    like the images (without it the tail stood 8 dB above them there)."""
    from scipy import signal

    fs = 16000
    room = ShoeboxRoom.from_rt60([7.0, 5.0, 3.0], 0.5)
    src = head_to_room(120.0, 10.0, 2.5, LISTENER, 0.0)
    irs, infos = FOASynthesizer(fs).synthesize([BRIRRequest(room, LISTENER, src, seed=s) for s in range(16)])
    t, rate = infos[0].transition_s, room.decay_rate_per_s[6]
    sos = signal.butter(8, 0.85, "highpass", output="sos")
    top = [signal.sosfiltfilt(sos, ir.numpy()[0].astype(np.float64)) for ir in irs]

    def level(a, b):
        return np.mean([(x[int(a * fs):int(b * fs)] ** 2).mean() for x in top]) / np.exp(-rate * (a + b) / 2)

    assert abs(10 * np.log10(level(t + 0.0075, t + 0.0125) / level(t - 0.0125, t - 0.0075))) <= 3.0


def test_cli_writes_a_four_channel_ambix_wav(tmp_path):
    out = tmp_path / "foa.wav"
    res = run_cli("brir", "--out", str(out), "--azimuth", "-60", "--elevation", "25", "--distance", "1.5",
                  "--room", "6x5x3", "--rt60", "0.4", "--listener", "3,2.5,1.5", "--receiver", "foa")
    assert res.returncode == 0, res.stderr
    data, fs = sf.read(out, always_2d=True)
    assert data.shape[1] == 4 and fs == 48000 and sf.info(out).subtype == "FLOAT"
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["conventions"]["channels"] == ["W", "Y", "Z", "X"]
    assert "SN3D" in sidecar["conventions"]["format"] and sidecar["hrtf"] is None
    assert sidecar["request"]["receiver"] == "foa"
    assert out.with_suffix(".png").stat().st_size > 10_000
    n0 = int(round(1.5 / C * fs))
    assert _angle_deg(_direction(data[n0 - 20 : n0 + 48].T), (-60.0, 25.0)) <= 3.0


def test_cli_refuses_an_unknown_receiver(tmp_path):
    res = run_cli("brir", "--out", str(tmp_path / "x.wav"), "--azimuth", "0", "--receiver", "hoa")
    assert res.returncode == 2
    assert res.stderr.strip() == "error: --receiver 'hoa': expected one of binaural, foa"
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("duration_s", [0.6, 3.0])  # one FFT, and block overlap-add
def test_renderer_mixes_a_foa_scene_as_a_direct_convolution(duration_s):
    from scipy import signal

    from binsynth.render.renderer import Renderer, Scene, Source, place_sources

    fs = 16000
    rng = np.random.default_rng(1)
    room = ShoeboxRoom.from_rt60([6.0, 5.0, 3.0], 0.3)
    sources = [Source((0.1 * rng.standard_normal(fs // 2)).astype(np.float32), head_to_room(az, 0.0, 1.5, LISTENER, 0.0),
                      onset_s=onset, gain_db=gain)
               for az, onset, gain in ((30.0, 0.0, 0.0), (-120.0, 0.2, -6.0))]
    scene = Scene(room, LISTENER, sources, duration_s, seed=5)
    synth = FOASynthesizer(fs)
    (mix,), (infos,) = Renderer(synth).render([scene])
    n = int(duration_s * fs)
    assert mix.shape == (4, n) and len(infos) == 2
    irs, _ = synth.synthesize(scene.requests())
    dry = place_sources(scene, fs).astype(np.float64)
    expected = sum(signal.fftconvolve(dry[k][None], irs[k].numpy().astype(np.float64), axes=-1)[:, :n] for k in range(2))
    np.testing.assert_allclose(mix, expected, atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("yaw, az, el", [(0.0, 35.0, 10.0), (40.0, -110.0, -20.0), (-75.0, 170.0, 45.0)])
def test_early_part_agrees_with_pyroomacoustics_figure_eights(yaw, az, el):
    """Order 2, no tail, uniform walls, no air: our FOA early part against pyroomacoustics with
    an omni and three signed figure-eight microphones along the head axes (independent
    delays, gains and directions): normalised correlation at lag 0 >= 0.9 per channel, and
    energy within 0.2 dB once both are low-passed below our band limit (0.8 of Nyquist)."""
    pytest.importorskip("pyroomacoustics")
    from scipy import signal

    from binsynth.reference.pra_foa import pra_foa_rir

    fs, dims, listener = 48000, [6.0, 4.5, 3.2], np.array([2.2, 1.9, 1.5])
    src = head_to_room(az, el, 1.8, listener, yaw)
    room = ShoeboxRoom(dims, np.full((6, 7), 0.25), air_absorption=False)
    (ours,), _ = FOASynthesizer(fs).synthesize([BRIRRequest(room, listener, src, yaw, max_order=2, tail=False)])
    ours = ours.numpy().astype(np.float64)
    ref = pra_foa_rir(dims, 0.25, listener, src, fs, 2, yaw_deg=yaw)
    n = min(ours.shape[1], ref.shape[1])
    for ch, name in enumerate(CHANNELS):
        a, b = ours[ch, :n], ref[ch, :n]
        ncc = (a @ b) / np.sqrt((a @ a) * (b @ b))
        assert ncc >= 0.95, (name, ncc)  # measured 0.959-0.968
        sos = signal.butter(8, 0.7, output="sos")  # 0.7 of Nyquist
        a, b = signal.sosfiltfilt(sos, a), signal.sosfiltfilt(sos, b)
        assert abs(10 * np.log10((a @ a) / (b @ b))) <= 0.2, name  # measured <= 0.08 dB
