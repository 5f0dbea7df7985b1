"""From scenes to dataset rows: dry audio, rendering, background, encoding.

Per scene: each source's clip is loaded at the dataset rate for its [onset, offset) span and
normalised to the recipe's loudness target (the factor is recorded in
``scene.extra["norm_gain_db"]``), then placed with its gain; the scene is rendered to two
ears; diffuse background noise (white, pink or babble, with the HRTF set's diffuse-field
spectrum and interaural coherence) is added at its SNR relative to the sources' power; if
the mixture would clip, it is scaled down and the factor recorded
(``scene.extra["output_gain_db"]``). Levels in dB, times in seconds, audio float32.
"""

from __future__ import annotations

import numpy as np

import binsynth
from binsynth.acoustics.tail import _diffuse_curves
from binsynth.io.codecs import CODECS, encode
from binsynth.noise import gaussian
from binsynth.render import Renderer, Scene, Source
from binsynth.sampling import draw
from binsynth.scene import SceneSpec

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


def diffuse_noise(kind: str, n: int, fs_hz: int, hrtf, seed: int) -> np.ndarray:
    """(2, n) binaural diffuse noise with unit mean power per ear (before any SNR scaling)."""
    if kind == "babble":
        from binsynth.corpora.synthetic import synthesize

        # two independent babbles, each four synthetic talkers
        pair = [sum(synthesize("speech_babble", int(seed % 100_000) * 8 + 4 * e + t, fs_hz, n / fs_hz) for t in range(4))
                for e in (0, 1)]
        base = np.stack(pair).astype(np.float64)
    else:
        base = gaussian([seed * 2 % (1 << 32), (seed * 2 + 1) % (1 << 32)], n).numpy().astype(np.float64)
    spec = np.fft.rfft(base, axis=-1)
    f = np.fft.rfftfreq(n, 1.0 / fs_hz)
    if kind == "pink":
        spec /= np.sqrt(np.maximum(f, 20.0) / 1000.0)
    power, coh = _diffuse_curves(hrtf, n)
    a, b = np.sqrt((1 + coh) / 2), np.sqrt((1 - coh) / 2)
    ears = np.stack([np.sqrt(power[0]) * (a * spec[0] + b * spec[1]), np.sqrt(power[1]) * (a * spec[0] - b * spec[1])])
    out = np.fft.irfft(ears, n, axis=-1)
    return (out / np.sqrt(np.mean(out**2) + 1e-30)).astype(np.float32)


def render_rows(scenes: list[SceneSpec], recipe, corpora: list, renderer: Renderer, recipe_hash: str) -> list[dict]:
    """Rows (dicts in the shard schema) for scenes that share one HRTF set and rate."""
    return finish_rows(scenes, *render_mixes(scenes, recipe, corpora, renderer), recipe, renderer.synth.hrtf, recipe_hash)


def render_mixes(scenes: list[SceneSpec], recipe, corpora: list, renderer: Renderer) -> tuple[dict, dict]:
    """The device part: dry audio placed and rendered. Returns ({i: mix (2, n)}, {i: BRIR infos})."""
    by_name = {c.name: c for c in corpora}
    normalize = recipe.sources.normalize
    jobs = []
    for sc in scenes:
        srcs, norm = [], []
        for k, s in enumerate(sc.sources):
            x, g = dry_signal(sc, k, by_name, normalize)
            norm.append(round(g, 4))
            srcs.append(Source(x, np.asarray(s.position_m), onset_s=s.onset_s, gain_db=s.gain_db))
        sc.extra["norm_gain_db"] = norm
        jobs.append(Scene(sc.shoebox(), np.asarray(sc.listener.position_m), srcs, sc.duration_s,
                          sc.listener.yaw_deg, sc.listener.pitch_deg, seed=sc.seed))
    renderable = [i for i, sc in enumerate(scenes) if sc.sources]
    if not renderable:
        return {}, {}
    out, inf = renderer.render([jobs[i] for i in renderable])
    return dict(zip(renderable, out)), dict(zip(renderable, inf))


def finish_rows(scenes: list[SceneSpec], mixes: dict, infos: dict, recipe, hrtf, recipe_hash: str) -> list[dict]:
    """The CPU part: background noise, peak guard, encoding, row dicts. Safe to run in a thread."""
    codec, bits = recipe.output.codec, recipe.output.bit_depth
    rows = []
    for i, sc in enumerate(scenes):
        n = int(round(sc.duration_s * sc.sample_rate_hz))
        mix = mixes.get(i, np.zeros((2, n), np.float32)).astype(np.float32)
        if sc.background is not None:
            noise = diffuse_noise(sc.background["type"], n, sc.sample_rate_hz, hrtf, sc.seed)
            power = float(np.mean(mix.astype(np.float64) ** 2))
            level = np.sqrt(power / 10 ** (sc.background["snr_db"] / 10)) if power > 0 else 10 ** (-50 / 20)
            mix = mix + noise * np.float32(level)
        peak = float(np.abs(mix).max())
        gain = PEAK_LIMIT / peak if peak > PEAK_LIMIT else 1.0
        sc.extra["output_gain_db"] = round(20 * np.log10(gain), 4)
        mix = mix * np.float32(gain)
        rows.append(_row(sc, mix, infos.get(i, []), hrtf, recipe_hash, codec, bits))
    return rows


def _row(sc: SceneSpec, mix, infos, hrtf, recipe_hash: str, codec: str, bits: int) -> dict:
    room = sc.shoebox()
    return {
        "id": sc.id,
        "split": sc.split,
        "audio": {"bytes": encode(mix, sc.sample_rate_hz, codec, bits), "path": sc.id + CODECS[codec][2]},
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

