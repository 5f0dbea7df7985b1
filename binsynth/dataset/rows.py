"""From scenes to dataset rows: dry audio, rendering, background, encoding.

Per scene: each source's clip is loaded at the dataset rate for its [onset, offset) span and
normalised to the recipe's loudness target (the factor is recorded in
``scene.extra["norm_gain_db"]``), then placed with its gain; the scene is rendered to two
ears; diffuse background noise (white, pink or babble, with the HRTF set's diffuse-field
spectrum and interaural coherence) is added at its SNR relative to the sources' power; if
the mixture would clip, it is scaled down and the factor recorded
(``scene.extra["output_gain_db"]``). Levels in dB, times in seconds, audio float32.

With ``output.receivers: [binaural, foa]`` the same placed sources are also rendered to
first-order ambisonics (AmbiX W, Y, Z, X, SN3D; column ``audio_foa``): its background is an
isotropic diffuse noise (Y, Z, X uncorrelated, 1/3 of W's power) at the same SNR relative to
the sources' W power, and its own peak guard is recorded as ``output_gain_db_foa``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

import binsynth
from binsynth.acoustics.foa import DIFFUSE_GAINS
from binsynth.acoustics.tail import _diffuse_curves
from binsynth.io.codecs import CODECS, encode
from binsynth.dsp.noise import gaussian, stream_key
from binsynth.render.renderer import Renderer, Scene, Source
from binsynth.scene.paths import positions_at
from binsynth.scene.sampling import draw
from binsynth.scene.record import SceneSpec

PEAK_LIMIT = 0.99


def dry_signal(scene: SceneSpec, k: int, corpora_by_name: dict, normalize) -> tuple[np.ndarray, float]:
    """Source k's dry audio (float32, its own span) and the normalisation gain in dB."""
    src = scene.sources[k]
    corpus_name, clip_id = src.clip_id.split(":", 1)
    corpus = corpora_by_name[corpus_name]
    x = corpus.load(corpus.clip(clip_id), scene.sample_rate_hz, duration_s=src.offset_s - src.onset_s)
    gain_db = 0.0
    rng = np.random.default_rng([scene.seed, k])  # a target given as a distribution: drawn per source
    if normalize is not None and np.any(x):
        if normalize.rms_dbfs is not None:
            target = float(draw(normalize.rms_dbfs, rng))
            gain_db = target - 10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20)
        elif normalize.peak_dbfs is not None:
            target = float(draw(normalize.peak_dbfs, rng))
            gain_db = target - 20 * np.log10(np.abs(x).max() + 1e-20)
    return (x * np.float32(10 ** (gain_db / 20))).astype(np.float32), float(gain_db)


def diffuse_noise(kind: str, n: int, fs_hz: int, hrtf, seed: int, device: torch.device | str = "cpu") -> np.ndarray:
    """(2, n) binaural diffuse noise with unit mean power per ear (before any SNR scaling)."""
    return diffuse_noise_batch(kind, n, fs_hz, hrtf, [seed], device)[0]


#: (HRTF, n, rate, pink, device) -> ear filters; a few entries (one per duration in practice)
_SHAPES: dict = {}


def _pink_tilt(n: int, fs_hz: int) -> np.ndarray:
    """Amplitude over rfft bins of a -3 dB/octave tilt, 1 at 1 kHz, flat below 20 Hz."""
    return 1.0 / np.sqrt(np.maximum(np.fft.rfftfreq(n, 1.0 / fs_hz), 20.0) / 1000.0)


def _noise_shapes(pink: bool, n: int, fs_hz: int, hrtf, device: torch.device) -> torch.Tensor:
    """(2 ears, 2 noises, F) float32 gains: ear e = g[e,0]·N0 + g[e,1]·N1 has the set's
    diffuse-field power and interaural coherence (and a -3 dB/octave tilt if pink)."""
    key = (id(hrtf), hrtf.sha256, hrtf.n_taps, n, fs_hz, pink, str(device))
    if key not in _SHAPES:
        if len(_SHAPES) >= 8:
            _SHAPES.clear()
        power, coh = _diffuse_curves(hrtf, n)
        tilt = _pink_tilt(n, fs_hz) if pink else 1.0
        a, b = np.sqrt((1 + coh) / 2) * tilt, np.sqrt((1 - coh) / 2) * tilt
        g = np.stack([np.sqrt(power[0]) * np.stack([a, b]), np.sqrt(power[1]) * np.stack([a, -b])])
        _SHAPES[key] = torch.as_tensor(g, dtype=torch.float32, device=device)
    return _SHAPES[key]


def diffuse_noise_batch(kind: str, n: int, fs_hz: int, hrtf, seeds: list[int],
                        device: torch.device | str = "cpu") -> list[np.ndarray]:
    """:func:`diffuse_noise` for several seeds at once, on ``device`` (float32 FFTs; the
    white and pink draws are counter-based, so a scene's noise does not depend on the batch)."""
    device = torch.device(device)
    if kind == "babble":
        from binsynth.corpora.synthetic import synthesize

        # two independent babbles per seed, each four synthetic talkers
        base = torch.as_tensor(np.stack([
            sum(synthesize("speech_babble", int(seed % 100_000) * 8 + 4 * e + t, fs_hz, n / fs_hz) for t in range(4))
            for seed in seeds for e in (0, 1)]), dtype=torch.float32, device=device)
    else:
        keys = [k for seed in seeds for k in (seed * 2 % (1 << 32), (seed * 2 + 1) % (1 << 32))]
        base = gaussian(keys, n, device=device)
    spec = torch.fft.rfft(base.reshape(len(seeds), 2, n), dim=-1)  # (S, 2 noises, F)
    g = _noise_shapes(kind == "pink", n, fs_hz, hrtf, device)
    ears = torch.fft.irfft(torch.einsum("enf,snf->sef", g.to(spec.dtype), spec), n, dim=-1)  # (S, 2 ears, n)
    ears = ears / torch.sqrt(torch.mean(ears.double() ** 2, dim=(1, 2), keepdim=True) + 1e-30).float()
    return list(ears.cpu().numpy())


def foa_noise_batch(kind: str, n: int, fs_hz: int, seeds: list[int], device: torch.device | str = "cpu") -> list[np.ndarray]:
    """(4, n) isotropic diffuse FOA noises (W, Y, Z, X; SN3D: Y, Z, X uncorrelated at 1/3 of
    W's power), W at unit mean power, one per seed; counter-based like the binaural ones."""
    device = torch.device(device)
    if kind == "babble":
        from binsynth.corpora.synthetic import synthesize

        base = torch.as_tensor(np.stack([
            # variants from 10**6 on: the binaural babbles use (seed % 10**5) * 8 + 0..7, below it
            sum(synthesize("speech_babble", 10**6 + int(seed % 100_000) * 16 + 4 * c + t, fs_hz, n / fs_hz) for t in range(4))
            for seed in seeds for c in range(4)]), dtype=torch.float32, device=device).reshape(len(seeds), 4, n)
        base = base / torch.sqrt(torch.mean(base.double() ** 2, dim=2, keepdim=True) + 1e-30).float()
    else:
        base = gaussian([stream_key("foa-background", int(s), c) for s in seeds for c in range(4)], n, device=device)
        base = base.reshape(len(seeds), 4, n)
        if kind == "pink":
            spec = torch.fft.rfft(base, dim=-1) * torch.as_tensor(_pink_tilt(n, fs_hz), dtype=torch.float32, device=device)
            base = torch.fft.irfft(spec, n, dim=-1)
    out = base * torch.tensor(DIFFUSE_GAINS, dtype=torch.float32, device=device)[:, None]
    out = out / torch.sqrt(torch.mean(out[:, :1].double() ** 2, dim=2, keepdim=True) + 1e-30).float()
    return list(out.cpu().numpy())


def render_rows(scenes: list[SceneSpec], recipe, corpora: list, renderer: Renderer, recipe_hash: str,
                foa_renderer: Renderer | None = None) -> list[dict]:
    """Rows (dicts in the shard schema) for scenes that share one HRTF set and rate."""
    rendered = render_mixes(scenes, recipe, corpora, renderer, foa_renderer)
    return finish_rows(scenes, rendered, recipe, renderer.synth.hrtf, recipe_hash)


@dataclass
class Rendered:
    """What the device part hands to the CPU part, keyed by scene index in the chunk:
    mixes (2, n) float32, BRIR infos, unit-power background noise (2, n) float32, the same
    for FOA (4, n) when asked for, and the seconds spent on dry audio and on the device."""

    mixes: dict = field(default_factory=dict)
    infos: dict = field(default_factory=dict)
    noises: dict = field(default_factory=dict)
    foa_mixes: dict | None = None  # (4, n) per scene when FOA is rendered too
    foa_noises: dict = field(default_factory=dict)
    dry_s: float = 0.0
    device_s: float = 0.0


def render_mixes(scenes: list[SceneSpec], recipe, corpora: list, renderer: Renderer,
                 foa_renderer: Renderer | None = None) -> Rendered:
    """The device part: dry audio placed and rendered (also to FOA with ``foa_renderer``),
    background noise drawn."""
    t0 = time.perf_counter()
    by_name = {c.name: c for c in corpora}
    normalize = recipe.sources.normalize
    jobs = []
    for sc in scenes:
        srcs, norm = [], []
        for k, s in enumerate(sc.sources):
            x, g = dry_signal(sc, k, by_name, normalize)
            norm.append(round(g, 4))
            if s.motion is None:
                srcs.append(Source(x, np.asarray(s.position_m), onset_s=s.onset_s, gain_db=s.gain_db))
            else:  # the positions the trajectory labels (binsynth.scene.paths)
                srcs.append(Source.moving(x, sc.sample_rate_hz, lambda t, s=s, sc=sc: positions_at(s, sc.listener, t),
                                          onset_s=s.onset_s, gain_db=s.gain_db))
        sc.extra["norm_gain_db"] = norm
        jobs.append(Scene(sc.shoebox(), np.asarray(sc.listener.position_m), srcs, sc.duration_s,
                          sc.listener.yaw_deg, sc.listener.pitch_deg, seed=sc.seed))
    renderable = [i for i, sc in enumerate(scenes) if sc.sources]
    result = Rendered()
    t1 = time.perf_counter()
    if renderable:  # both receivers at once: image sources, dry placement and transforms shared
        others = (foa_renderer.synth,) if foa_renderer is not None else ()
        out, inf = renderer.render_all([jobs[i] for i in renderable], others)
        result.mixes, result.infos = dict(zip(renderable, out[0])), dict(zip(renderable, inf))
        if foa_renderer is not None:
            result.foa_mixes = dict(zip(renderable, out[1]))
    elif foa_renderer is not None:
        result.foa_mixes = {}
    groups: dict[tuple[str, int], list[int]] = {}
    for i, sc in enumerate(scenes):
        if sc.background is not None:
            groups.setdefault((sc.background["type"], int(round(sc.duration_s * sc.sample_rate_hz))), []).append(i)
    for (kind, n), members in groups.items():
        seeds = [scenes[i].seed for i in members]
        result.noises.update(zip(members, diffuse_noise_batch(kind, n, renderer.fs_hz, renderer.synth.hrtf, seeds,
                                                              renderer.device)))
        if foa_renderer is not None:
            result.foa_noises.update(zip(members, foa_noise_batch(kind, n, renderer.fs_hz, seeds, renderer.device)))
    result.dry_s, result.device_s = t1 - t0, time.perf_counter() - t1
    return result


def finish_rows(scenes: list[SceneSpec], rendered: Rendered, recipe, hrtf, recipe_hash: str) -> list[dict]:
    """The CPU part: background level, peak guard, encoding, row dicts. Safe to run in a thread."""
    codec, bits, flac_level = recipe.output.codec, recipe.output.bit_depth, recipe.output.flac_level
    rows = []
    for i, sc in enumerate(scenes):
        n = int(round(sc.duration_s * sc.sample_rate_hz))
        mix = rendered.mixes.get(i, np.zeros((2, n), np.float32)).astype(np.float32)
        mix, sc.extra["output_gain_db"] = _finish(mix, mix, sc.background, rendered.noises.get(i))
        row = _row(sc, mix, rendered.infos.get(i, []), hrtf, recipe_hash, codec, bits, flac_level)
        if recipe.sources.motion is not None:
            tracks = sc.trajectories() or [[] for _ in sc.sources]
            for spec, src, track in zip(sc.sources, row["sources"], tracks):
                src["moving"] = spec.moving
                src["trajectory"] = [dict(zip(("t", "azimuth", "elevation", "distance"), f)) for f in track]
        if rendered.foa_mixes is not None:
            foa = rendered.foa_mixes.get(i, np.zeros((4, n), np.float32)).astype(np.float32)
            foa, sc.extra["output_gain_db_foa"] = _finish(foa, foa[0], sc.background, rendered.foa_noises.get(i))
            row["audio_foa"] = {"bytes": encode(foa, sc.sample_rate_hz, codec, bits, flac_level),
                                "path": sc.id + ".foa" + CODECS[codec][2]}
            row["scene"] = sc.to_json()  # with the FOA gain
        rows.append(row)
    return rows


def _finish(mix: np.ndarray, reference: np.ndarray, background: dict | None, noise: np.ndarray | None):
    """(mix with its background, peak-guarded; the guard's gain in dB rounded to 1e-4).

    The background is added at ``background["snr_db"]`` below the mean power of ``reference``
    (both ears; FOA's W channel), or at -50 dBFS over silence; a mix whose peak would pass
    :data:`PEAK_LIMIT` is scaled down to it."""
    if background is not None:
        power = float(np.mean(reference.astype(np.float64) ** 2))
        level = np.sqrt(power / 10 ** (background["snr_db"] / 10)) if power > 0 else 10 ** (-50 / 20)
        mix = mix + noise * np.float32(level)
    peak = float(np.abs(mix).max())
    gain = PEAK_LIMIT / peak if peak > PEAK_LIMIT else 1.0
    return mix * np.float32(gain), round(20 * np.log10(gain), 4)


def _row(sc: SceneSpec, mix, infos, hrtf, recipe_hash: str, codec: str, bits: int, flac_level: int) -> dict:
    room = sc.shoebox()
    return {
        "id": sc.id,
        "split": sc.split,
        "audio": {"bytes": encode(mix, sc.sample_rate_hz, codec, bits, flac_level), "path": sc.id + CODECS[codec][2]},
        "sample_rate": sc.sample_rate_hz,
        "duration": sc.duration_s,
        "sources": [
            {"label": s.label, "clip_id": s.clip_id, "onset": s.onset_s, "offset": s.offset_s,
             "azimuth": s.azimuth_deg, "elevation": s.elevation_deg, "distance": s.distance_m, "gain_db": s.gain_db}
            for s in sc.sources
        ],
        "room": {
            "anechoic": room is None,
            "dimensions": None if room is None else [float(d) for d in room.dimensions_m],
            "rt60": None if room is None else float(room.rt60_s[3]),
            "rt60_bands": None if room is None else [float(t) for t in room.rt60_s],
            "air_absorption": sc.room.air_absorption,
        },
        "listener": {"position": sc.listener.position_m, "yaw": sc.listener.yaw_deg, "pitch": sc.listener.pitch_deg},
        "hrtf": {"name": hrtf.name, "sha256": hrtf.sha256},
        "qa": sc.extra.get("qa", []),
        "scene": sc.to_json(),
        "recipe_hash": recipe_hash,
        "binsynth_version": binsynth.__version__,
    }

