"""Moving sources (time-varying convolution by crossfaded segments) against closed forms:
a still path renders as the static source; the direction read back from the audio follows the
path (FOA active intensity, binaural GCC-PHAT); no click where impulse responses change."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from binsynth.acoustics.brir import BRIRSynthesizer
from binsynth.acoustics.foa import FOASynthesizer
from binsynth.acoustics.room import ShoeboxRoom
from binsynth.geometry import head_to_room
from binsynth.render.motion import HOP_S, moving_source, segment_windows
from binsynth.render.renderer import Renderer, Scene, Source

FS = 16000
LISTENER = np.array([4.0, 3.0, 1.5])


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * FS))).astype(np.float32)


def _arc(az0: float, rate_deg_s: float, dist: float = 2.0, el: float = 0.0):
    return lambda t: head_to_room(az0 + rate_deg_s * t, el, dist, LISTENER, 0.0)


def test_segment_windows_add_up_to_one():
    for n, hop in ((FS, 800), (FS + 123, 800), (7, 3)):
        centres, windows = segment_windows(n, hop)
        total = np.zeros(n + 4 * hop)
        for c, w in zip(centres, windows):
            total[c + hop : c + 3 * hop] += w  # offset by 2 hop: the first window starts at -hop
        np.testing.assert_allclose(total[2 * hop : 2 * hop + n], 1.0, atol=1e-12)


@pytest.mark.parametrize("receiver", ["binaural", "foa"])
def test_a_path_that_does_not_move_renders_as_the_static_source(receiver, sphere48):
    synth = BRIRSynthesizer(sphere48, FS) if receiver == "binaural" else FOASynthesizer(FS)
    room = ShoeboxRoom.from_rt60([7.0, 6.0, 3.0], 0.4)
    x, where = _noise(1.5), head_to_room(50.0, 10.0, 1.8, LISTENER, 0.0)
    static = Scene(room, LISTENER, [Source(x, where, onset_s=0.2, gain_db=-3.0)], 2.0, seed=9)
    moving = Scene(room, LISTENER, moving_source(x, FS, lambda t: where, onset_s=0.2, gain_db=-3.0, tail_index=0), 2.0,
                   seed=9)
    (a, b), _ = Renderer(synth).render([static, moving])
    assert len(moving.sources) == int(np.ceil(x.size / (HOP_S * FS))) + 1
    assert np.abs(b - a).max() <= 1e-6 * np.abs(a).max()  # float32 sums of ~30 segments


def test_segments_share_one_sample_grid_at_an_odd_hop():
    """44.1 kHz (a 2205-sample hop) and an onset between two samples: the segments of a still
    constant signal add back to the static placement (no segment a sample off)."""
    from binsynth.render.renderer import place_sources

    fs = 44100
    x = np.full(fs, 0.5, dtype=np.float32)
    where = head_to_room(0.0, 0.0, 1.0, LISTENER, 0.0)
    onset = 0.1 + 0.5 / fs
    static = place_sources(Scene(None, LISTENER, [Source(x, where, onset_s=onset)], 1.5), fs)[0]
    parts = place_sources(Scene(None, LISTENER, moving_source(x, fs, lambda t: where, onset_s=onset, tail_index=0), 1.5), fs)
    np.testing.assert_allclose(parts.sum(0), static, atol=1e-6)


def test_a_tail_index_past_the_key_space_is_refused():
    from binsynth.errors import ConfigError

    scene = Scene(None, LISTENER, [Source(_noise(0.1), head_to_room(0.0, 0.0, 1.0, LISTENER, 0.0), tail_index=1024)], 0.2)
    with pytest.raises(ConfigError, match="a tail index of 1024: at most 1023 per scene"):
        scene.requests()


def _frames(y: np.ndarray, frame: int):
    for k in range(y.shape[-1] // frame):
        yield k, y[..., k * frame : (k + 1) * frame]


def test_foa_direction_follows_the_path():
    """An arc at 40 deg/s, 2 m, in free field: the active intensity of each 100 ms frame points
    at the path's azimuth at the frame's centre (median error <= 5 deg)."""
    path = _arc(-60.0, 40.0)
    x = _noise(3.0, seed=1)
    scene = Scene(None, LISTENER, moving_source(x, FS, path, tail_index=0), 3.0, seed=1)
    (mix,), _ = Renderer(FOASynthesizer(FS)).render([scene])
    errors = []
    for k, seg in _frames(mix.astype(np.float64), FS // 10):
        w, y, _, xx = seg
        measured = np.degrees(np.arctan2((w * y).sum(), (w * xx).sum()))
        expected = -60.0 + 40.0 * (k + 0.5) / 10 - 40.0 * 2.0 / 343.0  # heard r/c later
        errors.append(abs((measured - expected + 180) % 360 - 180))
    assert np.median(errors) <= 5.0, np.median(errors)
    assert np.max(errors) <= 10.0


def test_binaural_lateral_side_follows_the_path(axd48):
    """An arc from +70 to -70 deg over 3.5 s: the GCC-PHAT lag of each 100 ms frame has the sign
    of the lateral angle (left ear first for a source on the left) on >= 95 % of the frames
    whose lateral angle is at least 20 deg."""
    path = _arc(70.0, -40.0)
    x = _noise(3.5, seed=2)
    scene = Scene(None, LISTENER, moving_source(x, FS, path, tail_index=0), 3.5, seed=2)
    (mix,), _ = Renderer(BRIRSynthesizer(axd48, FS)).render([scene])
    agree, counted = 0, 0
    for k, (left, right) in _frames(mix.astype(np.float64), FS // 10):
        az = 70.0 - 40.0 * (k + 0.5) / 10
        if abs(az) < 20.0:
            continue
        spec = np.conj(np.fft.rfft(left, 2 * left.size)) * np.fft.rfft(right, 2 * left.size)
        cc = np.fft.irfft(spec / (np.abs(spec) + 1e-12))
        lag = int(np.argmax(np.concatenate([cc[-40:], cc[:41]]))) - 40  # ±2.5 ms
        counted += 1
        agree += int(np.sign(lag) == np.sign(az))  # right lags (lag > 0) when the source is left
    assert counted >= 20 and agree / counted >= 0.95, (agree, counted)


def _switch_energy_ratio(mix: np.ndarray, hop: int) -> float:
    """High-passed (> 2 kHz) energy in 4 ms around the points where impulse responses change,
    over the same elsewhere (segment centres), for a 300 Hz tone whose own spectrum has
    nothing above 2 kHz."""
    sos = signal.butter(6, 2000.0, "highpass", fs=FS, output="sos")
    hp = signal.sosfiltfilt(sos, mix.astype(np.float64), axis=-1)
    half = int(0.002 * FS)

    def energy(points):
        return np.mean([(hp[..., p - half : p + half] ** 2).sum() for p in points if half <= p < hp.shape[-1] - half])

    centres = np.arange(4 * hop, hp.shape[-1] - 4 * hop, hop)
    return energy(centres + hop // 2) / energy(centres)


def test_no_click_where_impulse_responses_change():
    """The crossfade leaves no more high-frequency energy at the switch points than elsewhere;
    hard switching of the same impulse responses (gpuRIR style) does, so the check can fail."""
    t = np.arange(int(2.0 * FS)) / FS
    tone = (0.3 * np.sin(2 * np.pi * 300.0 * t)).astype(np.float32)
    path = _arc(-80.0, 80.0, dist=1.5)
    synth = FOASynthesizer(FS)
    crossfaded = Scene(None, LISTENER, moving_source(tone, FS, path, tail_index=0), 2.0)
    hop = int(HOP_S * FS)
    hard = [Source(tone[max(0, c - hop // 2) : c + hop // 2], path(c / FS), onset_s=max(0, c - hop // 2) / FS, tail_index=0)
            for c in range(0, tone.size, hop)]
    (smooth, switched), _ = Renderer(synth).render([crossfaded, Scene(None, LISTENER, hard, 2.0)])
    assert _switch_energy_ratio(smooth, hop) <= 1.5
    assert _switch_energy_ratio(switched, hop) >= 3.0
