"""The renderer: convolution against scipy, onsets/gains, batch invariance, determinism, CUDA."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import cuda
from scipy import signal

from binsynth.acoustics.brir import BRIRRequest, BRIRSynthesizer
from binsynth.acoustics.room import ShoeboxRoom
from binsynth.dsp.noise import gaussian
from binsynth.render.renderer import Renderer, Scene, Source, convolve_sum, place_sources, plan_convolution


def test_convolve_sum_equals_scipy():
    rng = np.random.default_rng(0)
    dry = rng.standard_normal((3, 2, 1000)).astype(np.float32)
    brir = rng.standard_normal((3, 2, 2, 257)).astype(np.float32)
    out = convolve_sum(torch.from_numpy(dry), torch.from_numpy(brir)).numpy()
    assert out.shape == (3, 2, 1256)
    for b in range(3):
        for ear in range(2):
            ref = sum(signal.fftconvolve(dry[b, s], brir[b, s, ear]) for s in range(2))
            np.testing.assert_allclose(out[b, ear], ref, atol=2e-4)


def test_block_convolution_equals_scipy():
    rng = np.random.default_rng(1)
    dry = rng.standard_normal((2, 3, 5000)).astype(np.float32)
    brir = rng.standard_normal((2, 3, 2, 700)).astype(np.float32)
    out = convolve_sum(torch.from_numpy(dry), torch.from_numpy(brir), n_fft=2048, block=1349).numpy()
    assert out.shape == (2, 2, 5699)
    for b in range(2):
        for ear in range(2):
            ref = sum(signal.fftconvolve(dry[b, s], brir[b, s, ear]) for s in range(3))
            np.testing.assert_allclose(out[b, ear], ref, atol=3e-4)


def test_convolution_plan_uses_blocks_for_long_scenes():
    taps, n_fft, block = plan_convolution(160000, 14000, 3)
    assert taps >= 14000 and block + taps - 1 <= n_fft < 160000
    assert plan_convolution(2000, 14000, 3)[2] == 2000  # short scene: one block


def test_place_sources_applies_onset_and_gain():
    fs = 1000
    ramp = np.linspace(0.1, 1.0, 50, dtype=np.float32)  # a ramp: a swap or shift shows
    scene = Scene(None, np.zeros(3), [Source(ramp, np.array([1.0, 0, 0]), onset_s=0.2, gain_db=-6.0),
                                      Source(ramp, np.array([0, 1.0, 0]), onset_s=0.98)], duration_s=1.0)
    placed = place_sources(scene, fs)
    assert placed.shape == (2, 1000)
    np.testing.assert_allclose(placed[0, 200:250], ramp * 10 ** (-6 / 20), rtol=1e-6)
    assert not placed[0, :200].any() and not placed[0, 250:].any()
    np.testing.assert_array_equal(placed[1, 980:], ramp[:20])  # cut at the scene's end


def test_rendered_impulse_is_the_brir(sphere48):
    fs = 16000
    synth = BRIRSynthesizer(sphere48, fs)
    room = ShoeboxRoom.from_rt60([5, 4, 3], 0.3)
    lst, src = np.array([2.0, 2.0, 1.5]), np.array([4.0, 1.0, 1.2])
    impulse = np.zeros(fs, dtype=np.float32)
    impulse[0] = 1.0
    (mix,), (infos,) = Renderer(synth).render([Scene(room, lst, [Source(impulse, src)], 1.0, seed=5)])
    (brir,), _ = synth.synthesize([BRIRRequest(room, lst, src, seed=5 * 1024)])
    n = min(fs, brir.shape[-1])
    np.testing.assert_allclose(mix[:, :n], brir.numpy()[:, :n], atol=1e-6)
    assert infos[0].azimuth_deg == pytest.approx(np.degrees(np.arctan2(-1.0, 2.0)))


def _scenes(fs: int, n: int, seed: int = 0) -> list[Scene]:
    rng = np.random.default_rng(seed)
    scenes = []
    for i in range(n):
        dims = rng.uniform([4, 3, 2.5], [8, 6, 3.5])
        room = ShoeboxRoom.from_rt60(dims, rng.uniform(0.2, 0.6)) if i % 3 else None
        lst = dims * [0.5, 0.5, 0] + [0, 0, 1.5]
        srcs = [
            Source(rng.standard_normal(int(fs * 0.8)).astype(np.float32) * 0.1,
                   rng.uniform([0.5, 0.5, 0.5], dims - 0.5), onset_s=float(rng.uniform(0, 0.5)))
            for _ in range(int(rng.integers(1, 4)))
        ]
        scenes.append(Scene(room, lst, srcs, 1.0, yaw_deg=float(rng.uniform(-180, 180)), seed=i))
    return scenes


def test_batch_size_does_not_change_results(sphere48):
    fs = 16000
    synth = BRIRSynthesizer(sphere48, fs)
    scenes = _scenes(fs, 7)
    ref, _ = Renderer(synth, chunk_scenes=1).render(scenes)
    for chunk in (3, 7):
        out, _ = Renderer(synth, chunk_scenes=chunk).render(scenes)
        for a, b in zip(ref, out):
            np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


def test_rendering_is_deterministic_to_the_byte(sphere48):
    fs = 16000
    scenes = _scenes(fs, 5, seed=3)
    first, _ = Renderer(BRIRSynthesizer(sphere48, fs), chunk_scenes=4).render(scenes)
    again, _ = Renderer(BRIRSynthesizer(sphere48, fs), chunk_scenes=4).render(scenes)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(first, again))


def test_noise_is_a_pure_function_of_key_and_index():
    a = gaussian([7, 8], 1000)
    b = gaussian([8], 1500)
    assert torch.equal(a[1], b[0, :1000])
    assert not torch.equal(a[0], a[1])
    big = gaussian([1], 200_000)[0].double()
    assert abs(big.mean().item()) < 0.01 and abs(big.std().item() - 1) < 0.01
    assert abs(torch.corrcoef(torch.stack([big[:-1], big[1:]]))[0, 1].item()) < 0.01


@cuda
def test_cuda_matches_cpu(axd48):
    fs = 16000
    scenes = _scenes(fs, 6, seed=9)
    cpu, _ = Renderer(BRIRSynthesizer(axd48, fs, "cpu")).render(scenes)
    gpu, _ = Renderer(BRIRSynthesizer(axd48, fs, "cuda")).render(scenes)
    for a, b in zip(cpu, gpu):
        np.testing.assert_allclose(a, b, atol=1e-4, rtol=0)


@cuda
def test_cuda_noise_matches_cpu():
    from binsynth.dsp.noise import hash32

    x = torch.arange(0, 1 << 20, 7, dtype=torch.int64)
    assert torch.equal(hash32(x), hash32(x.cuda()).cpu())  # the integer part is exact
    torch.testing.assert_close(gaussian([1, 2, 3], 4096), gaussian([1, 2, 3], 4096, device="cuda").cpu(), atol=1e-5, rtol=0)
