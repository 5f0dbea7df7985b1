"""BRIR physics against closed forms: delays, ITD, ILD, RT60, energy continuity, coherence."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import octave_band

from binsynth.acoustics.brir import BRIRRequest, BRIRSynthesizer
from binsynth.acoustics.room import ShoeboxRoom
from binsynth.acoustics.spherical import woodworth_itd_s
from binsynth.constants import SPEED_OF_SOUND_M_S as C
from binsynth.dsp.measures import onset_samples, t30_s
from binsynth.geometry import head_to_room


def _brir(hrtf, fs, az, el, dist, room=None, listener=(3.0, 2.5, 1.5), yaw=0.0, interpolation="interp", **kw):
    src = head_to_room(az, el, dist, listener, yaw)
    synth = BRIRSynthesizer(hrtf, fs, "cpu", interpolation)
    (b,), (info,) = synth.synthesize([BRIRRequest(room, listener, src, yaw, **kw)])
    return b.numpy().astype(np.float64), info


@pytest.mark.parametrize("fs", [16000, 48000])
@pytest.mark.parametrize("dist", [0.5, 1.0, 2.3, 4.0])
def test_direct_path_arrives_at_distance_over_c(axd48, fs, dist):
    # frontal source: both ears are reached when the head centre would be
    b, info = _brir(axd48, fs, 0.0, 0.0, dist)
    arrival = onset_samples(b).mean()
    assert abs(arrival - dist / C * fs) <= 1.0
    assert info.direct_delay_s == pytest.approx(dist / C)


def test_direct_path_in_a_room_with_order_zero(axd48):
    room = ShoeboxRoom.from_rt60([6, 5, 3], 0.5)
    b, _ = _brir(axd48, 48000, 0.0, 0.0, 2.0, room=room, max_order=0, tail=False)
    assert abs(onset_samples(b).mean() - 2.0 / C * 48000) <= 1.0
    # 1/r spreading: twice the distance, half the amplitude (air absorption aside, ~1 %)
    b4, _ = _brir(axd48, 48000, 0.0, 0.0, 4.0, room=None, air_absorption=False)
    b2, _ = _brir(axd48, 48000, 0.0, 0.0, 2.0, room=None, air_absorption=False)
    assert np.sqrt((b2**2).sum() / (b4**2).sum()) == pytest.approx(2.0, rel=0.01)


@pytest.mark.parametrize("az,el", [(30, 0), (60, 0), (90, 0), (130, 0), (-45, 0), (-100, 20), (45, 30), (0, -30)])
@pytest.mark.parametrize("interpolation", ["nearest", "interp"])
def test_itd_matches_the_measured_set(axd48, az, el, interpolation):
    fs = 48000
    k = axd48.nearest(az, el)
    az_k, el_k = axd48.azimuth_deg[k], axd48.elevation_deg[k]
    b, _ = _brir(axd48, fs, az_k, el_k, 1.5, interpolation=interpolation)
    on = onset_samples(b)
    own = onset_samples(axd48.irs[k].astype(np.float64))
    assert abs((on[1] - on[0]) - (own[1] - own[0])) <= 1.0


def test_itd_of_interpolated_direction_lies_between_neighbours(axd48):
    fs = 48000
    b, _ = _brir(axd48, fs, 47.5, 0.0, 1.5)
    itd = np.diff(onset_samples(b))[0]
    lo, hi = sorted(np.diff(onset_samples(axd48.irs[[axd48.nearest(45, 0), axd48.nearest(50, 0)]].astype(float)), axis=1)[:, 0])
    assert lo - 0.5 <= itd <= hi + 0.5


@pytest.mark.parametrize("az", [0, 10, 20, 35, 50, 65, 80, 90, -30, -75])
def test_spherical_itd_follows_woodworth(sphere48, az):
    fs = 48000
    b, _ = _brir(sphere48, fs, az, 0.0, 2.0)
    on = onset_samples(b)
    itd = (on[1] - on[0]) / fs
    assert abs(itd - np.sign(az) * woodworth_itd_s(abs(az))) <= 30e-6


@pytest.mark.parametrize("hrtf_name", ["axd48", "sphere48"])
def test_ild_lateral_sources_louder_on_their_side(request, hrtf_name):
    hrtf = request.getfixturevalue(hrtf_name)
    for az, louder in ((90, 0), (-90, 1)):
        b, _ = _brir(hrtf, 48000, az, 0.0, 1.5)
        e = (b**2).sum(axis=1)
        ild_db = 10 * np.log10(e[louder] / e[1 - louder])
        assert ild_db >= 6.0, (az, ild_db)


@pytest.mark.parametrize("fs", [16000, 48000])
@pytest.mark.parametrize("rt60", [0.3, 0.6, 1.0])
def test_rt60_of_rendered_brir(axd48, fs, rt60):
    room = ShoeboxRoom.from_rt60([7.0, 5.5, 3.0], rt60)
    b, info = _brir(axd48, fs, 40.0, 5.0, 2.0, room=room, seed=3)
    # the BRIR reaches past the RT60: no truncated tail
    assert b.shape[-1] / fs >= rt60
    # T_mid (mean of the 500 Hz and 1 kHz octave bands, ISO 3382) within 10 %
    t_mid = np.mean([t30_s(octave_band(b, fs, fc), fs) for fc in (500.0, 1000.0)])
    assert t_mid == pytest.approx(rt60, rel=0.10)
    # broadband, with air absorption off (it shortens the highest bands), within 10 %
    dry_room = ShoeboxRoom.from_rt60([7.0, 5.5, 3.0], rt60, air_absorption=False)
    b2, _ = _brir(axd48, fs, 40.0, 5.0, 2.0, room=dry_room, seed=3)
    assert t30_s(b2, fs) == pytest.approx(rt60, rel=0.10)


def test_tail_joins_the_image_model_without_an_energy_step(sphere48):
    """Around the transition, early part + tail carry the energy a complete image model has."""
    fs = 16000
    room = ShoeboxRoom([6.0, 5.0, 3.0], np.full((6, 7), 0.25), air_absorption=False)
    rng = np.random.default_rng(0)
    synth = BRIRSynthesizer(sphere48, fs)
    ratios = []
    for i in range(8):
        lst = rng.uniform([1, 1, 1.2], [5, 4, 1.8])
        src = rng.uniform([0.5, 0.5, 0.5], [5.5, 4.5, 2.5])
        if np.linalg.norm(src - lst) < 1.0:
            continue
        (hyb,), (info,) = synth.synthesize([BRIRRequest(room, lst, src, seed=i)])
        (ism,), _ = synth.synthesize([BRIRRequest(room, lst, src, max_order=14, tail=False)])
        a, z = int((info.transition_s - 0.01) * fs), int((info.transition_s + 0.01) * fs)
        ratios.append((hyb[:, a:z] ** 2).sum().item() / (ism[:, a:z] ** 2).sum().item())
    assert len(ratios) >= 5
    step_db = 10 * np.log10(np.mean(ratios))
    assert abs(step_db) <= 1.0, step_db


def test_tail_level_is_the_diffuse_field_expectation(sphere48):
    """Well after the transition the tail has the closed-form level (4πc/V) e^{-δt} · E_hrtf."""
    fs = 16000
    room = ShoeboxRoom([6.0, 5.0, 3.0], np.full((6, 7), 0.25), air_absorption=False)
    synth = BRIRSynthesizer(sphere48, fs)
    reqs = [BRIRRequest(room, [2.0, 2.0, 1.5], [4.5, 3.5, 1.2], seed=s) for s in range(8)]
    brirs, infos = synth.synthesize(reqs)
    hrtf_energy = float(((synth.hrtf.irs.astype(float) ** 2).sum(-1).mean(-1) * synth.hrtf.weights).sum())
    rate = room.decay_rate_per_s[3]
    for t0 in (0.1, 0.2, 0.3):
        a, z = int(t0 * fs), int((t0 + 0.05) * fs)
        measured = np.mean([(b[:, a:z].numpy().astype(float) ** 2).mean() for b in brirs])
        match = 10 ** (np.mean([i.tail_match_db for i in infos]) / 10)
        t = (np.arange(a, z) / fs)
        expected = (4 * np.pi * C / (room.volume_m3 * fs) * np.exp(-rate * t)).mean() * hrtf_energy * match
        assert 10 * np.log10(measured / expected) == pytest.approx(0.0, abs=0.5)


def test_tail_interaural_coherence_matches_the_diffuse_field(axd48):
    from scipy import signal

    fs = 48000
    room = ShoeboxRoom.from_rt60([8.0, 6.0, 3.5], 1.0)
    b, info = _brir(axd48, fs, 0.0, 0.0, 2.0, room=room, seed=11)
    seg = b[:, int(0.1 * fs) : int(0.6 * fs)]
    seg = seg * np.exp(np.arange(seg.shape[1]) / fs * 6.9 / 1.0)  # undo the decay
    f, pxy = signal.csd(seg[0], seg[1], fs, nperseg=1024)
    _, pxx = signal.welch(seg[0], fs, nperseg=1024)
    _, pyy = signal.welch(seg[1], fs, nperseg=1024)
    measured = np.real(pxy) / np.sqrt(pxx * pyy)
    expected = np.interp(f, np.fft.rfftfreq(1024, 1 / fs), axd48.diffuse_coherence(1024))
    for lo, hi in ((100, 300), (300, 600), (600, 1200), (2000, 8000)):
        band = (f >= lo) & (f < hi)
        assert abs(measured[band].mean() - expected[band].mean()) <= 0.1, (lo, hi)
    # a diffuse field is coherent at low frequencies and incoherent at high ones
    assert expected[(f > 50) & (f < 200)].mean() > 0.8
    assert abs(expected[(f > 3000)].mean()) < 0.2


def test_anechoic_brir_has_no_reflections(axd48):
    b, info = _brir(axd48, 48000, 30.0, 0.0, 2.0)
    assert info.n_images == 1 and info.image_order == 0 and info.transition_s is None
    direct = int(2.0 / C * 48000)
    late = b[:, direct + 600 :]
    assert np.abs(late).max() < 1e-4 * np.abs(b).max()


def test_yaw_turns_the_head(axd48):
    # a source at room +y seen by a listener facing +y (yaw 90) is in front: equal onsets
    lst = np.array([3.0, 2.0, 1.5])
    synth = BRIRSynthesizer(axd48, 48000)
    (b,), (info,) = synth.synthesize([BRIRRequest(None, lst, lst + [0, 2.0, 0], yaw_deg=90.0)])
    assert abs(info.azimuth_deg) < 1e-9
    on = onset_samples(b.numpy().astype(float))
    assert abs(on[0] - on[1]) < 1.0
    (b,), (info,) = synth.synthesize([BRIRRequest(None, lst, lst + [2.0, 0, 0], yaw_deg=90.0)])
    assert info.azimuth_deg == pytest.approx(-90.0)  # +x is on the right of a head facing +y
    e = (b.numpy() ** 2).sum(1)
    assert e[1] > 4 * e[0]


def test_interp_blends_the_direct_sound_and_interp_all_every_image(axd48):
    fs = 16000
    az, el = 47.5, 12.0  # between measured directions
    room = ShoeboxRoom([6.0, 5.0, 3.0], np.full((6, 7), 0.3), air_absorption=False)
    direct = {m: _brir(axd48, fs, az, el, 2.0, interpolation=m)[0] for m in ("nearest", "interp", "interp-all")}
    np.testing.assert_array_equal(direct["interp"], direct["interp-all"])
    assert not np.allclose(direct["interp"], direct["nearest"])
    early = {m: _brir(axd48, fs, az, el, 2.0, room=room, max_order=2, tail=False, interpolation=m)[0]
             for m in ("interp", "interp-all")}
    a, b = early["interp"].ravel(), early["interp-all"].ravel()
    assert 0.95 < np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)) < 1.0
    with pytest.raises(Exception, match="interpolation 'cubic'"):
        BRIRSynthesizer(axd48, fs, "cpu", "cubic")


def test_brir_is_continuous_in_the_geometry(axd48):
    """Moving the listener by 3e-7 m (float32 rounding on another device) changes no BRIR by
    more than 1e-4 of its peak: no reflection crossing a window edge may step the tail's level."""
    fs = 16000
    rng = np.random.default_rng(3)
    synth = BRIRSynthesizer(axd48.resampled(fs), fs)
    reqs, moved = [], []
    for i in range(24):
        dims = rng.uniform([3, 3, 2.5], [10, 8, 4])
        room = ShoeboxRoom(dims, np.full((6, 7), rng.uniform(0.1, 0.5)), air_absorption=False)
        lst = dims * rng.uniform(0.3, 0.7, 3)
        src = dims * rng.uniform(0.1, 0.9, 3)
        reqs.append(BRIRRequest(room, lst, src, seed=i))
        moved.append(BRIRRequest(room, lst + 3e-7, src, seed=i))
    for a, b in zip(synth.synthesize(reqs)[0], synth.synthesize(moved)[0], strict=True):
        n = min(a.shape[-1], b.shape[-1])
        assert (a[:, :n] - b[:, :n]).abs().max().item() <= 1e-4 * a.abs().max().item()
