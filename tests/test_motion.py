"""Moving sources (time-varying convolution by crossfaded segments) against closed forms:
a still path renders as the static source; the direction read back from the audio follows the
path (FOA active intensity, binaural GCC-PHAT); no click where impulse responses change."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from binsynth.acoustics.brir import BRIRRequest, BRIRSynthesizer
from binsynth.acoustics.foa import FOASynthesizer
from binsynth.acoustics.room import ShoeboxRoom
from binsynth.geometry import head_to_room
from binsynth.render.motion import window
from binsynth.render.renderer import Renderer, Scene, Source

FS = 16000
LISTENER = np.array([4.0, 3.0, 1.5])


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * FS))).astype(np.float32)


def _arc(az0: float, rate_deg_s: float, dist: float = 2.0, el: float = 0.0):
    return lambda t: head_to_room(az0 + rate_deg_s * t, el, dist, LISTENER, 0.0)


def test_keyframe_windows_cover_the_source_and_add_up_to_one():
    """At every rate and onset (odd hops, onsets between samples), the Hann windows of a
    source's keyframes sum to 1 over its samples and the centres sit on the clip's frame grid."""
    from binsynth.scene.paths import hop_samples, keyframe_centres

    for fs in (8000, 16000, 22050, 44100):
        hop = hop_samples(fs)
        for start, n in ((0, fs), (int(0.123 * fs), 7), (hop // 2, hop), (3 * hop + 1, 2 * hop - 1)):
            centres = keyframe_centres(start, start + n, hop)
            assert np.all((centres - hop // 2) % hop == 0)
            total = np.zeros(start + n + 4 * hop)
            for c in centres:
                lo = c - hop
                w = window(hop)
                keep = np.arange(lo, lo + 2 * hop) >= 0
                total[np.arange(lo, lo + 2 * hop)[keep]] += w[keep]
            np.testing.assert_allclose(total[start : start + n], 1.0, atol=1e-12)
            # no keyframe whose window misses the source
            assert centres[0] + hop > start and centres[-1] - hop < start + n


@pytest.mark.parametrize("receiver", ["binaural", "foa"])
def test_a_path_that_does_not_move_renders_as_the_static_source(receiver, sphere48):
    synth = BRIRSynthesizer(sphere48, FS) if receiver == "binaural" else FOASynthesizer(FS)
    room = ShoeboxRoom.from_rt60([7.0, 6.0, 3.0], 0.4)
    x, where = _noise(1.5), head_to_room(50.0, 10.0, 1.8, LISTENER, 0.0)
    static = Scene(room, LISTENER, [Source(x, where, onset_s=0.2 + 0.3 / FS, gain_db=-3.0)], 2.0, seed=9)
    moving = Scene(room, LISTENER, [Source.moving(x, FS, lambda t: where, onset_s=0.2 + 0.3 / FS, gain_db=-3.0)], 2.0,
                   seed=9)
    (a, b), _ = Renderer(synth).render([static, moving])
    assert moving.sources[0].keyframes.centres.size == 17  # frames 2..16, and one window each side
    assert np.abs(b - a).max() <= 1e-6 * np.abs(a).max()


def test_a_moving_source_renders_the_same_alone_or_with_others(sphere48):
    """Batching and chunking do not change a moving source's render."""
    room = ShoeboxRoom.from_rt60([7.0, 6.0, 3.0], 0.5)
    scenes = [Scene(room, LISTENER, [Source.moving(_noise(1.0, seed), FS, _arc(20.0 * seed, 30.0), onset_s=0.1 * seed),
                                     Source(_noise(0.5, 9), head_to_room(-40.0, 0.0, 2.0, LISTENER, 0.0))], 1.5, seed=seed)
              for seed in range(3)]
    together, _ = Renderer(BRIRSynthesizer(sphere48, FS)).render(scenes)
    alone, _ = Renderer(BRIRSynthesizer(sphere48, FS), chunk_scenes=1).render(scenes[1:2])
    np.testing.assert_allclose(alone[0], together[1], atol=1e-6)


def _frames(y: np.ndarray, frame: int):
    for k in range(y.shape[-1] // frame):
        yield k, y[..., k * frame : (k + 1) * frame]


def test_foa_direction_follows_the_path():
    """An arc at 40 deg/s, 2 m, in free field: the active intensity of each 100 ms frame points
    at the path's azimuth at the frame's centre (median error <= 1.5 deg; the issue asks 5)."""
    path = _arc(-60.0, 40.0)
    x = _noise(3.0, seed=1)
    scene = Scene(None, LISTENER, [Source.moving(x, FS, path)], 3.0, seed=1)
    (mix,), _ = Renderer(FOASynthesizer(FS)).render([scene])
    errors = []
    for k, seg in _frames(mix.astype(np.float64), FS // 10):
        w, y, _, xx = seg
        measured = np.degrees(np.arctan2((w * y).sum(), (w * xx).sum()))
        expected = -60.0 + 40.0 * (k + 0.5) / 10 - 40.0 * 2.0 / 343.0  # heard r/c later
        errors.append(abs((measured - expected + 180) % 360 - 180))
    # the bound is 5 deg; a label one frame (4 deg) off would exceed 1.5
    assert np.median(errors) <= 1.5, np.median(errors)
    assert np.max(errors) <= 5.0


def test_binaural_lateral_side_follows_the_path(axd48):
    """An arc from +70 to -70 deg over 3.5 s: the GCC-PHAT lag of each 100 ms frame has the sign
    of the lateral angle (left ear first for a source on the left) on >= 95 % of the frames
    whose lateral angle is at least 20 deg."""
    path = _arc(70.0, -40.0)
    x = _noise(3.5, seed=2)
    scene = Scene(None, LISTENER, [Source.moving(x, FS, path)], 3.5, seed=2)
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
    """High-passed (> 2 kHz) energy in 4 ms around the points where impulse responses change
    (halfway between keyframes), over the same at the keyframes, for a 300 Hz tone whose own spectrum has
    nothing above 2 kHz."""
    sos = signal.butter(6, 2000.0, "highpass", fs=FS, output="sos")
    hp = signal.sosfiltfilt(sos, mix.astype(np.float64), axis=-1)
    half = int(0.002 * FS)

    def energy(points):
        return np.mean([(hp[..., p - half : p + half] ** 2).sum() for p in points if half <= p < hp.shape[-1] - half])

    switches = np.arange(4 * hop, hp.shape[-1] - 4 * hop, hop)  # halfway between keyframes
    return energy(switches) / energy(switches + hop // 2)


def test_no_click_where_impulse_responses_change():
    """The crossfade leaves no more high-frequency energy at the switch points than elsewhere;
    hard switching of the same impulse responses (gpuRIR style) does, so the check can fail."""
    t = np.arange(int(2.0 * FS)) / FS
    tone = (0.3 * np.sin(2 * np.pi * 300.0 * t)).astype(np.float32)
    path = _arc(-80.0, 80.0, dist=1.5)
    synth = FOASynthesizer(FS)
    crossfaded = Scene(None, LISTENER, [Source.moving(tone, FS, path)], 2.0)
    hop = FS // 10
    # the same keyframes switched hard halfway between them (gpuRIR style)
    hard = [Source(tone[c - hop // 2 : c + hop // 2], path(c / FS), onset_s=(c - hop // 2) / FS)
            for c in range(hop // 2, tone.size, hop)]
    (smooth, switched), _ = Renderer(synth).render([crossfaded, Scene(None, LISTENER, hard, 2.0)])
    assert _switch_energy_ratio(smooth, hop) <= 1.5
    assert _switch_energy_ratio(switched, hop) >= 3.0


def test_keyframes_synthesised_in_small_batches_render_the_same(sphere48, monkeypatch):
    """Memory is bounded by synthesising a few keyframes at a time; the split changes nothing."""
    import binsynth.render.renderer as R

    room = ShoeboxRoom.from_rt60([6.0, 5.0, 3.0], 0.3)
    scene = Scene(room, LISTENER, [Source.moving(_noise(1.2, 4), FS, _arc(-30.0, 25.0), onset_s=0.15)], 1.5, seed=4)
    (whole,), _ = Renderer(BRIRSynthesizer(sphere48, FS)).render([scene])
    monkeypatch.setattr(R, "KEYFRAMES_PER_BATCH", 4)
    (split,), _ = Renderer(BRIRSynthesizer(sphere48, FS)).render([scene])
    assert scene.sources[0].keyframes.centres.size > 3 * 4
    np.testing.assert_allclose(split, whole, atol=1e-6)


def test_receivers_rendered_together_equal_each_rendered_alone(sphere48):
    """``render_all`` shares the image sources, dry placement and dry transforms between the
    binaural and the FOA receiver: each gets what it renders alone (moving and still sources,
    a room and free field), and receivers at another rate are refused."""
    from binsynth.errors import ConfigError

    room = ShoeboxRoom.from_rt60([6.5, 5.0, 3.0], 0.45)
    scenes = [
        Scene(room, LISTENER, [Source.moving(_noise(1.0, 5), FS, _arc(10.0, -30.0), onset_s=0.2),
                               Source(_noise(0.8, 6), head_to_room(120.0, 5.0, 1.5, LISTENER, 0.0), gain_db=-4.0)],
              1.5, seed=5),
        Scene(None, LISTENER, [Source(_noise(0.6, 7), head_to_room(-70.0, 0.0, 2.5, LISTENER, 0.0))], 1.0, seed=6),
    ]
    binaural, foa = BRIRSynthesizer(sphere48, FS), FOASynthesizer(FS)
    (both_b, both_f), _ = Renderer(binaural).render_all(scenes, (foa,))
    alone_b, _ = Renderer(binaural).render(scenes)
    alone_f, _ = Renderer(foa).render(scenes)
    for together, alone in ((both_b, alone_b), (both_f, alone_f)):
        for a, b in zip(together, alone):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, atol=1e-6 * np.abs(b).max())
    assert all(np.array_equal(a, b) for a, b in zip(both_b, alone_b))  # the first receiver's bytes too
    with pytest.raises(ConfigError, match="share rate and device"):
        Renderer(binaural).render_all(scenes, (FOASynthesizer(8000),))


@pytest.mark.parametrize("fs", [8000, 22050])
def test_a_moving_source_that_outlasts_the_clip_is_cut_like_a_static_one(fs, sphere48):
    room = ShoeboxRoom.from_rt60([6.0, 5.0, 3.0], 0.3)
    x = (0.1 * np.random.default_rng(3).standard_normal(2 * fs)).astype(np.float32)  # 2 s in a 1 s scene
    where = head_to_room(-20.0, 0.0, 1.7, LISTENER, 0.0)
    still = Scene(room, LISTENER, [Source.moving(x, fs, lambda t: where, onset_s=0.3)], 1.0, seed=2)
    static = Scene(room, LISTENER, [Source(x, where, onset_s=0.3)], 1.0, seed=2)
    (a, b), _ = Renderer(BRIRSynthesizer(sphere48, fs)).render([static, still])
    assert a.shape == b.shape == (2, fs)
    assert np.abs(b - a).max() <= 1e-6 * np.abs(a).max()


def test_more_sources_than_tail_keys_are_refused():
    from binsynth.errors import ConfigError

    src = Source(_noise(0.01), head_to_room(0.0, 0.0, 1.0, LISTENER, 0.0))
    with pytest.raises(ConfigError, match="1025 sources in one scene: at most 1024"):
        Scene(None, LISTENER, [src] * 1025, 0.1).requests()


def test_a_keyframes_early_part_and_the_sources_tail_make_that_positions_brir(sphere48):
    """An impulse at a moving source's middle keyframe hears that keyframe's early part (the
    other windows are 0 there) plus the source's one tail, level-matched at that very
    position: together they are the static BRIR there, joined without a gap or an overlap
    (the path is slow, so the shared transition time is that position's own)."""
    room = ShoeboxRoom.from_rt60([7.0, 6.0, 3.0], 0.5)
    path = _arc(35.0, 2.0, dist=2.2)
    n = int(1.2 * FS)
    x = np.zeros(n, dtype=np.float32)
    src = Source.moving(x, FS, path)
    mid = int(src.keyframes.centres[src.keyframes.centres.size // 2])
    x[mid] = 1.0
    moving = Scene(room, LISTENER, [Source.moving(x, FS, path)], 2.0, seed=3)
    (y,), _ = Renderer(BRIRSynthesizer(sphere48, FS)).render([moving])
    brir, _ = BRIRSynthesizer(sphere48, FS).synthesize([BRIRRequest(room, LISTENER, path(mid / FS), seed=3 * 1024)])
    h = brir[0].numpy()
    got = y[:, mid : mid + h.shape[1]]
    err = np.sum((got - h[:, : got.shape[1]]) ** 2) / np.sum(h**2)
    assert err < 1e-4, err
