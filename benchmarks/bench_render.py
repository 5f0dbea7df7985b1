"""Render benchmark: binsynth vs pyroomacoustics' binaural path, side by side in one run.

Both renderers get the *same* scenes: the same shoebox rooms (same energy absorption on
all six walls, flat over frequency), the same listener position and yaw, the same three
static sources and the same dry signals, at each sample rate and air-absorption setting.

* **binsynth**: ``Renderer(BRIRSynthesizer(load_hrtf(hrtf, fs), fs, device))`` with its
  defaults — every image source before the transition time, each with its own
  (interpolated) HRIR, plus the full-length diffuse binaural tail (1.1 × RT60), then
  batched FFT convolution; mixtures come back as host float32 arrays (before encoding).
* **pyroomacoustics** (the reference, :func:`binsynth.reference.pra.pra_render_scene`):
  its own image-source model with the image-source order capped at ``--pra-max-order``
  (10 by default), every image source filtered by the nearest measured HRIR of the same
  SOFA file, then ``room.simulate()``. Beyond order 10 its tail is simply missing, so
  it does less work than binsynth on the long rooms.
* Fairness: every (rate, air absorption) pair is its own result row, and in each row
  both renderers get the same setting. By default both settings are run (``--air off,on``):

  - **air on** is the like-for-like comparison of binsynth's *default physics*: binsynth
    applies ISO 9613-1 air absorption (20 °C, 50 % RH) on every path in every room unless
    told not to, and pyroomacoustics models the same thing only through its octave-band
    (multi-band) path, which is much slower than its single-band one. This row is what it
    costs to get the same physics from pyroomacoustics.
  - **air off** is pyroomacoustics' *fastest* path (single band) against binsynth with
    air absorption switched off — the most favourable comparison for pyroomacoustics,
    and so the conservative headline. binsynth's own cost barely changes with the
    setting; pyroomacoustics' changes a lot (measured on a 2-core EPYC VM at 16 kHz:
    23 → 1.3 scenes/s), so the two ratios differ by more than an order of magnitude.

  Rooms come from ``ShoeboxRoom.from_rt60`` (the same geometry in both air settings:
  only rooms valid in both are drawn) and pyroomacoustics gets the very same energy
  absorption coefficient (``room.absorption[0, 3]``, which depends on the air setting
  because Eyring's formula accounts for air). One-time setup is untimed for both
  (loading/resampling the HRTF set, building pyroomacoustics' SOFA directivities), and
  so is dry-audio generation. Each renderer gets a small untimed warm-up call per row
  first (caches, FFT plans; on CUDA one full chunk). pyroomacoustics renders scenes one
  by one (it has no batch API); binsynth renders the whole list through
  ``Renderer.render``.

Scenes (deterministic, ``numpy.random.default_rng(seed)``): room 3–10 × 3–8 × 2.5–4 m,
RT60 uniform 0.2–0.8 s (1 kHz, Eyring), listener ≥ 0.5 m from every wall, three sources
≥ 0.5 m from the walls and from the listener, yaw uniform in [-180, 180) degrees, 10 s
long. The geometry is the same at every rate and air setting; the dry signals (noise,
modulated noise, harmonic tones at -26 dBFS RMS) are drawn once per rate from a small bank.

Timing: ``time.perf_counter`` around the whole render (``torch.cuda.synchronize()``
before the clock stops on CUDA). binsynth is timed ``--repeats`` times over all its
scenes; the median and the best are reported. pyroomacoustics is timed once over its
(fewer) scenes; what counts is time per scene. Ratios are binsynth / pyroomacoustics in
scenes per second (``ratio`` from binsynth's median, ``ratio_best`` from its best).
After timing, one extra pass (not in the headline figures) splits binsynth's time into BRIR
synthesis and the rest (convolution, placing sources, copies), and a sanity check
compares the RMS of scene 0 from both renderers (printed, never fatal).

``--no-pra`` skips pyroomacoustics entirely (it is not even imported): binsynth only,
every pyroomacoustics and ratio field is null. On CUDA this is the default when
pyroomacoustics cannot be imported (a note goes to stderr) — GPU machines often lack it.

Floors the issue asks to report against (reported, never asserted):
binsynth ≥ 30× pyroomacoustics at 16 kHz on a 2-core CPU; ≥ 3,000 scenes/s at 16 kHz
on an H100/H200-class GPU (48 kHz reported alongside). Each is reported per air setting.

Output: a rich table, then ONE JSON line (the last line of stdout) with every figure:
``machine``, ``device``, ``device_name``, ``threads``, ``load_avg_1min`` (at the start) and
``load_avg_1min_end``, ``pra_max_order``, ``pra`` (whether
pyroomacoustics ran), ``air_absorption_modes``, ``results`` (one object per (rate, air)
pair: ``fs_hz``, ``air_absorption`` (bool), ``binsynth_scenes_per_s`` (median),
``binsynth_best_scenes_per_s``, ``pra_scenes_per_s``, ``ratio``, ``ratio_best``, ...),
``floors`` and ``floors_met``: one object per floor, ``{"air_off": bool|null,
"air_on": bool|null}`` (null where the floor does not apply to this device, the scenes
are not 10 s long, that air setting was not run, or pyroomacoustics was skipped).

Usage (``make bench BENCH_ARGS="..."`` passes the same arguments)::

    .venv/bin/python benchmarks/bench_render.py [options]

Options:
    --rates 16000,48000   sample rates to run, Hz (comma-separated)
    --air off,on          air absorption settings, one result row each: off, on or
                          off,on (default off,on; --quick: off). Same for both renderers.
    --scenes N[,N...]     binsynth scenes per rate: one value for all rates or one per
                          rate (default: CPU 128 at ≤ 24 kHz / 64 above; CUDA 1024 / 512)
    --pra-scenes N        pyroomacoustics scenes per row (default 20; the first N scenes)
    --pra-max-order K     pyroomacoustics image-source order cap (default 10)
    --no-pra              binsynth only: skip (and do not import) pyroomacoustics
    --device auto|cpu|cuda[:N]   binsynth's torch device (default auto)
    --chunk N             Renderer chunk_scenes (default 16 on CPU, 128 on CUDA)
    --repeats R           binsynth timing repeats (default 3)
    --duration S          scene length, seconds (default 10)
    --seed S              scene-generation seed (default 0)
    --hrtf NAME           HRTF registry name or SOFA path (default axd-example)
    --air-absorption      old spelling of --air on
    --threads T           torch.set_num_threads(T) (default: torch's own choice)
    --no-breakdown        skip the BRIR-synthesis/convolution split pass
    --profile             cProfile one extra binsynth pass per row; top entries to stderr
    --quick               smoke run for CI: 2 scenes per renderer, 16 kHz, air off, 2 s
                          scenes, 1 repeat (explicit options still override)
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
from pathlib import Path
import platform
import pstats
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

#: Floors from the issue (reported against, never asserted).
FLOOR_CPU_RATIO_16K = 30.0
FLOOR_GPU_SCENES_PER_S_16K = 3000.0

N_SOURCES = 3
WALL_MARGIN_M = 0.5
LISTENER_CLEARANCE_M = 0.5
DRY_BANK = 12
DRY_RMS = 0.05  # -26 dBFS
SANITY_TOL_DB = 6.0

_AIR_WORDS = {"off": False, "on": True}


def air_key(air: bool) -> str:
    """The ``floors_met`` key of one air-absorption setting."""
    return "air_on" if air else "air_off"


# --------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------


def parse_air(spec: str) -> list[bool]:
    """``"off"``, ``"on"``, ``"off,on"`` (either order) → air settings, duplicates dropped."""
    out: list[bool] = []
    for word in str(spec).split(","):
        word = word.strip().lower()
        if not word:
            continue
        if word not in _AIR_WORDS:
            raise ValueError(f"--air {spec!r}: expected off, on or off,on")
        if _AIR_WORDS[word] not in out:
            out.append(_AIR_WORDS[word])
    if not out:
        raise ValueError(f"--air {spec!r}: expected off, on or off,on")
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench_render.py",
        description="binsynth vs pyroomacoustics binaural rendering, scenes per second.",
    )
    p.add_argument("--rates", default=None, help="comma-separated sample rates, Hz (default 16000,48000)")
    p.add_argument("--air", default=None, help="air absorption rows: off | on | off,on (default off,on; --quick: off)")
    p.add_argument("--scenes", default=None, help="binsynth scenes per rate: N or N1,N2,... (one per rate)")
    p.add_argument("--pra-scenes", type=int, default=None, help="pyroomacoustics scenes per row (default 20)")
    p.add_argument("--pra-max-order", type=int, default=10, help="pyroomacoustics image-source order cap")
    p.add_argument("--no-pra", action="store_true", help="binsynth only: skip (and do not import) pyroomacoustics")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N]")
    p.add_argument("--chunk", type=int, default=None, help="Renderer chunk_scenes (default 16 CPU, 128 CUDA)")
    p.add_argument("--repeats", type=int, default=None, help="binsynth timing repeats (default 3)")
    p.add_argument("--duration", type=float, default=None, help="scene length, s (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hrtf", default="axd-example", help="HRTF registry name or SOFA path")
    p.add_argument("--air-absorption", action="store_true", help="old spelling of --air on")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--no-breakdown", action="store_true", help="skip the BRIR/convolution split pass")
    p.add_argument("--profile", action="store_true", help="cProfile one binsynth pass per row (stderr)")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 scenes, 16 kHz, air off, 2 s, 1 repeat")
    a = p.parse_args(argv)

    if a.air_absorption:
        if a.air is not None and a.air.strip().lower() != "on":
            p.error("--air-absorption means --air on; drop one of them")
        a.air = "on"
    if a.quick:
        a.rates = a.rates or "16000"
        a.air = a.air or "off"
        a.scenes = a.scenes or "2"
        a.pra_scenes = 2 if a.pra_scenes is None else a.pra_scenes
        a.duration = 2.0 if a.duration is None else a.duration
        a.repeats = 1 if a.repeats is None else a.repeats
    try:
        a.air = parse_air(a.air or "off,on")
    except ValueError as exc:
        p.error(str(exc))
    a.rates = [int(x) for x in (a.rates or "16000,48000").split(",") if x.strip()]
    a.pra_scenes = 20 if a.pra_scenes is None else a.pra_scenes
    a.duration = 10.0 if a.duration is None else a.duration
    a.repeats = 3 if a.repeats is None else a.repeats
    if a.scenes is not None:
        vals = [int(x) for x in str(a.scenes).split(",") if x.strip()]
        if len(vals) == 1:
            vals = vals * len(a.rates)
        if len(vals) != len(a.rates):
            p.error(f"--scenes has {len(vals)} values for {len(a.rates)} rates")
        a.scenes = vals
    bad = [
        name
        for name, v in (("--pra-scenes", a.pra_scenes), ("--repeats", a.repeats), ("--pra-max-order", a.pra_max_order + 1))
        if v < 1
    ]
    if bad or a.duration <= 0 or not a.rates or any(r <= 0 for r in a.rates) or (a.scenes and min(a.scenes) < 1):
        p.error("scenes, repeats and rates must be positive, --pra-max-order >= 0, --duration > 0")
    return a


def default_scenes(fs_hz: int, cuda: bool) -> int:
    low = fs_hz <= 24000
    if cuda:
        return 1024 if low else 512
    return 128 if low else 64


# --------------------------------------------------------------------------------------
# Scenes (untimed)
# --------------------------------------------------------------------------------------


@dataclass
class Geometry:
    """One scene's geometry, independent of the sample rate and the air setting."""

    dims: np.ndarray
    rt60_s: float
    listener: np.ndarray
    sources: list[np.ndarray]
    yaw_deg: float
    bank_index: list[int]


def make_geometries(n: int, seed: int) -> list[Geometry]:
    """``n`` deterministic geometries, each a valid ``from_rt60`` room with and without air.

    A room is kept only if it is valid in both air settings, so the draw does not depend
    on ``--air``: every row of a run (and of other runs) uses the same scenes.
    """
    from binsynth.acoustics.room import ShoeboxRoom
    from binsynth.errors import ConfigError

    rng = np.random.default_rng(seed)
    out: list[Geometry] = []
    while len(out) < n:
        dims = np.array([rng.uniform(3.0, 10.0), rng.uniform(3.0, 8.0), rng.uniform(2.5, 4.0)])
        rt60 = float(rng.uniform(0.2, 0.8))
        try:
            for air in (False, True):
                ShoeboxRoom.from_rt60(dims, rt60, air_absorption=air)
        except ConfigError:  # absorption out of range for this room: draw again
            continue
        lo, hi = np.full(3, WALL_MARGIN_M), dims - WALL_MARGIN_M
        listener = rng.uniform(lo, hi)
        sources: list[np.ndarray] = []
        while len(sources) < N_SOURCES:
            s = rng.uniform(lo, hi)
            if np.linalg.norm(s - listener) >= LISTENER_CLEARANCE_M:
                sources.append(s)
        yaw = float(rng.uniform(-180.0, 180.0))
        bank = [int(k) for k in rng.integers(0, DRY_BANK, N_SOURCES)]
        out.append(Geometry(dims, rt60, listener, sources, yaw, bank))
    return out


def make_dry_bank(fs_hz: int, duration_s: float, seed: int) -> list[np.ndarray]:
    """DRY_BANK deterministic mono float32 signals: noise, modulated noise, harmonic tones."""
    from scipy.signal import lfilter

    rng = np.random.default_rng([seed, fs_hz])
    n = int(round(duration_s * fs_hz))
    t = np.arange(n) / fs_hz
    bank = []
    for k in range(DRY_BANK):
        kind = k % 3
        if kind == 0:  # coloured noise (one-pole low-pass of white noise)
            pole = rng.uniform(0.0, 0.95)
            x = lfilter([1.0 - pole], [1.0, -pole], rng.standard_normal(n))
        elif kind == 1:  # amplitude-modulated noise (speech-like syllable rate)
            rate = rng.uniform(2.0, 6.0)
            x = rng.standard_normal(n) * (0.5 + 0.5 * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))) ** 2
        else:  # harmonic tone with slow vibrato
            f0 = rng.uniform(110.0, 440.0)
            phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.01 * np.sin(2 * np.pi * 5.0 * t))) / fs_hz
            x = sum(np.sin(h * phase) / h for h in range(1, 9) if h * f0 < fs_hz / 2)
        x = np.asarray(x, dtype=np.float64)
        x *= DRY_RMS / max(float(np.sqrt(np.mean(x**2))), 1e-12)
        bank.append(x.astype(np.float32))
    return bank


def build_scenes(geoms: list[Geometry], bank: list[np.ndarray], duration_s: float, air_absorption: bool):
    from binsynth.acoustics.room import ShoeboxRoom
    from binsynth.render.renderer import Scene, Source

    scenes = []
    for i, g in enumerate(geoms):
        room = ShoeboxRoom.from_rt60(g.dims, g.rt60_s, air_absorption=air_absorption)
        srcs = [Source(signal=bank[b], position_m=p, onset_s=0.0, gain_db=0.0) for p, b in zip(g.sources, g.bank_index)]
        scenes.append(Scene(room=room, listener_m=g.listener, sources=srcs, duration_s=duration_s, yaw_deg=g.yaw_deg, seed=i))
    return scenes


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_binsynth(renderer, scenes, repeats: int, device) -> list[float]:
    times = []
    for _ in range(repeats):
        _sync(device)
        t0 = time.perf_counter()
        mixes, _ = renderer.render(scenes)
        _sync(device)
        times.append(time.perf_counter() - t0)
        del mixes
    return times


def breakdown_binsynth(renderer, scenes, device) -> dict:
    """One more pass with the synthesiser's entry points wrapped: BRIR synthesis vs the rest.

    Both ``synthesize`` and ``synthesize_batch`` (whichever the renderer calls) are wrapped
    on the instance; only the outermost call is timed, so nesting is not counted twice.
    """
    synth = renderer.synth
    names = [n for n in ("synthesize", "synthesize_batch") if callable(getattr(synth, n, None))]
    spent, depth = [0.0], [0]

    def wrap(orig):
        def timed(*args, **kwargs):
            if depth[0]:
                return orig(*args, **kwargs)
            depth[0] += 1
            _sync(device)
            t = time.perf_counter()
            try:
                return orig(*args, **kwargs)
            finally:
                _sync(device)
                spent[0] += time.perf_counter() - t
                depth[0] -= 1

        return timed

    for n in names:  # instance attributes; the class is untouched
        setattr(synth, n, wrap(getattr(synth, n)))
    try:
        _sync(device)
        t0 = time.perf_counter()
        mixes, _ = renderer.render(scenes)
        _sync(device)
        total = time.perf_counter() - t0
    finally:
        for n in names:
            delattr(synth, n)
    del mixes
    return {"total_s": total, "brir_s": spent[0], "brir_share": spent[0] / total, "conv_share": 1.0 - spent[0] / total}


def profile_binsynth(renderer, scenes, label: str, top: int = 30) -> None:
    prof = cProfile.Profile()
    prof.enable()
    renderer.render(scenes)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(f"\n==== cProfile: binsynth, {len(scenes)} scenes, {label} ====", file=sys.stderr)
    print(buf.getvalue(), file=sys.stderr)


def pra_args(scene, absorption: float):
    return dict(
        room_dim=scene.room.dimensions_m,
        absorption=absorption,
        listener_pos=scene.listener_m,
        listener_yaw_deg=scene.yaw_deg,
        sources=[(s.position_m, s.signal) for s in scene.sources],
    )


def time_pra(scenes, sofa_path, fs_hz: int, max_order: int, air_absorption: bool):
    """Seconds for all scenes (one by one), per-stage totals, and scene 0's mixture."""
    from binsynth.reference.pra import pra_render_scene

    stages: dict[str, float] = {}
    first = None
    t0 = time.perf_counter()
    for i, sc in enumerate(scenes):
        tm: dict = {}
        out = pra_render_scene(
            **pra_args(sc, float(sc.room.absorption[0, 3])),
            sofa_path=sofa_path,
            fs_hz=fs_hz,
            max_order=max_order,
            air_absorption=air_absorption,
            timings=tm,
        )
        if i == 0:
            first = out
        for k, v in tm.items():
            stages[k] = stages.get(k, 0.0) + v
    return time.perf_counter() - t0, stages, first


# --------------------------------------------------------------------------------------
# Machine
# --------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_state() -> dict:
    """Commit of the checkout and whether binsynth/ has uncommitted changes (None outside git)."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "binsynth"], cwd=root, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    if head.returncode != 0:
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": head.stdout.strip(), "git_dirty": bool(dirty.stdout.strip())}


def machine_info(device) -> dict:
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        cores = os.cpu_count() or 0
    info = {
        "machine": cpu_model(),
        "cpu_cores": cores,
        "device": device.type,
        "device_name": cpu_model(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "load_avg_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    if device.type == "cuda":
        info["device_name"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    return info


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


@dataclass
class RateSetup:
    """What one sample rate shares across its air rows (built once, untimed)."""

    fs_hz: int
    n_scenes: int
    bank: list[np.ndarray]
    synth: object
    renderer: object


def setup_rate(args, fs_hz: int, n_scenes: int, device, chunk: int) -> RateSetup:
    from binsynth.acoustics.brir import BRIRSynthesizer
    from binsynth.acoustics.sets import load_hrtf
    from binsynth.render.renderer import Renderer

    bank = make_dry_bank(fs_hz, args.duration, args.seed)
    hrtf = load_hrtf(args.hrtf, fs_hz)
    synth = BRIRSynthesizer(hrtf, fs_hz, device)
    return RateSetup(fs_hz, n_scenes, bank, synth, Renderer(synth, chunk_scenes=chunk))


def run_case(args, rs: RateSetup, air: bool, geoms, sofa_path, device, chunk: int, use_pra: bool, log) -> dict:
    """One result row: one sample rate, one air-absorption setting, both renderers."""
    fs_hz, n_scenes, renderer = rs.fs_hz, rs.n_scenes, rs.renderer
    n_pra = min(args.pra_scenes, len(geoms)) if use_pra else 0
    scenes = build_scenes(geoms[: max(n_scenes, n_pra)], rs.bank, args.duration, air)
    b_scenes, p_scenes = scenes[:n_scenes], scenes[:n_pra]
    label = f"{fs_hz} Hz, air {'on' if air else 'off'}"

    # warm-up (untimed): binsynth on two scenes (one full chunk on CUDA, so the timed
    # passes reuse its FFT plans and allocator pool), pyroomacoustics on one (builds its
    # SOFA directivities once per (file, rate), and any FFT plans)
    n_warm = min(chunk if device.type == "cuda" else 2, len(b_scenes))
    warm_mix, _ = renderer.render(b_scenes[:n_warm])
    _sync(device)

    pra_s = pra_stages = pra_first = None
    if use_pra:
        from binsynth.reference.pra import pra_render_scene

        pra_render_scene(
            **pra_args(scenes[0], float(scenes[0].room.absorption[0, 3])),
            sofa_path=sofa_path, fs_hz=fs_hz, max_order=args.pra_max_order, air_absorption=air,
        )
        log(f"[{label}] pyroomacoustics: {n_pra} scenes, order ≤ {args.pra_max_order} …")
        pra_s, pra_stages, pra_first = time_pra(p_scenes, sofa_path, fs_hz, args.pra_max_order, air)
    log(f"[{label}] binsynth: {n_scenes} scenes × {args.repeats} repeats on {device} …")
    times = time_binsynth(renderer, b_scenes, args.repeats, device)
    split = None if args.no_breakdown else breakdown_binsynth(renderer, b_scenes, device)
    if args.profile:
        profile_binsynth(renderer, b_scenes, label)

    med, best = statistics.median(times), min(times)
    b_med, b_best = n_scenes / med, n_scenes / best
    res = {
        "fs_hz": fs_hz,
        "air_absorption": bool(air),
        "device": device.type,
        "binsynth_scenes": n_scenes,
        "binsynth_scenes_per_s": round(b_med, 3),
        "binsynth_best_scenes_per_s": round(b_best, 3),
        "binsynth_times_s": [round(t, 4) for t in times],
        "pra_scenes": None,
        "pra_scenes_per_s": None,
        "pra_stage_share": None,
        "ratio": None,
        "ratio_best": None,
        "sanity": None,
    }
    if use_pra:
        # sanity (untimed): scene 0, RMS of both mixtures over the scene's duration, with
        # the documented convention differences undone (binsynth's diffuse-field HRTF
        # gain; pyroomacoustics resamples HRIR taps like a signal, losing fs/fs_sofa in level)
        n = int(round(args.duration * fs_hz))
        ours = warm_mix[0].astype(np.float64) / rs.synth.hrtf.gain
        theirs = pra_first[:, :n] * (sofa_rate(sofa_path) / fs_hz)
        rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
        diff = [20 * np.log10(max(rms(ours[e]), 1e-20) / max(rms(theirs[e]), 1e-20)) for e in (0, 1)]
        p_rate = n_pra / pra_s
        res.update(
            {
                "pra_scenes": n_pra,
                "pra_scenes_per_s": round(p_rate, 3),
                "pra_stage_share": {
                    k: round(v / pra_stages["total_s"], 3) for k, v in pra_stages.items() if k != "total_s"
                },
                "ratio": round(b_med / p_rate, 3),
                "ratio_best": round(b_best / p_rate, 3),
                "sanity": {
                    "rms_diff_db": [round(d, 2) for d in diff],
                    "ok": bool(all(abs(d) <= SANITY_TOL_DB for d in diff)),
                },
            }
        )
    if split is not None:
        res["binsynth_brir_share"] = round(split["brir_share"], 3)
        res["binsynth_conv_share"] = round(split["conv_share"], 3)
    return res


_SOFA_FS: dict[str, float] = {}


def sofa_rate(path) -> float:
    key = str(path)
    if key not in _SOFA_FS:
        import sofar

        _SOFA_FS[key] = float(np.asarray(sofar.read_sofa(key, verbose=False).Data_SamplingRate).ravel()[0])
    return _SOFA_FS[key]


def resolve_sofa(spec: str):
    from pathlib import Path

    if Path(spec).suffix.lower() == ".sofa":
        return Path(spec)
    from binsynth.acoustics.registry import pull

    return pull(spec)


def floors_met(results: list[dict], cuda: bool, full_scenes: bool) -> dict:
    """Per floor, per air setting: bool, or None where it does not apply / was not run."""
    rows16 = {air_key(r["air_absorption"]): r for r in results if r["fs_hz"] == 16000}
    cpu, gpu = {}, {}
    for key in ("air_off", "air_on"):
        r = rows16.get(key)
        ok_cpu = r is not None and not cuda and full_scenes and r["ratio"] is not None
        ok_gpu = r is not None and cuda and full_scenes
        cpu[key] = bool(r["ratio"] >= FLOOR_CPU_RATIO_16K) if ok_cpu else None
        gpu[key] = bool(r["binsynth_scenes_per_s"] >= FLOOR_GPU_SCENES_PER_S_16K) if ok_gpu else None
    return {"cpu_ratio_vs_pra_16k": cpu, "gpu_scenes_per_s_16k": gpu}


def _fmt(x, spec: str, suffix: str = "") -> str:
    return "—" if x is None else f"{x:{spec}}{suffix}"


def print_table(report: dict, args) -> None:
    from rich.console import Console
    from rich.table import Table

    use_pra = report["pra"]
    console = Console(file=sys.stdout, width=132)
    title = (
        f"binsynth vs pyroomacoustics — {args.duration:g} s scenes, {N_SOURCES} static sources"
        if use_pra
        else f"binsynth (pyroomacoustics skipped: --no-pra) — {args.duration:g} s scenes, {N_SOURCES} static sources"
    )
    t = Table(title=title)
    for col in ("rate", "air\nabsorption", "binsynth scenes/s\n(median)", "binsynth\n(best)",
                f"pra scenes/s\n(order ≤ {report['pra_max_order']})", "ratio", "ratio\n(best)", "BRIR share",
                "scene-0 RMS Δ dB\n(L, R)"):
        t.add_column(col, justify="right")
    for r in report["results"]:
        share = f"{100 * r['binsynth_brir_share']:.0f} %" if "binsynth_brir_share" in r else "—"
        if r["sanity"] is None:
            sanity = "—"
        else:
            d = r["sanity"]["rms_diff_db"]
            sanity = f"{d[0]:+.1f}, {d[1]:+.1f}" + ("" if r["sanity"]["ok"] else " (!)")
        t.add_row(
            f"{r['fs_hz'] / 1000:g} kHz",
            "on" if r["air_absorption"] else "off",
            f"{r['binsynth_scenes_per_s']:.1f}",
            f"{r['binsynth_best_scenes_per_s']:.1f}",
            _fmt(r["pra_scenes_per_s"], ".1f"),
            _fmt(r["ratio"], ".1f", "×"),
            _fmt(r["ratio_best"], ".1f", "×"),
            share,
            sanity,
        )
    console.print(t)
    lines = [
        f"binsynth: {report['device']} ({report['device_name']}), {report['threads']} torch threads, "
        f"chunk {report['chunk_scenes']}, full-length tails, median/best of {report['repeats']}; "
        f"1-min load average {report['load_avg_1min']} at start, {report['load_avg_1min_end']} at end "
        f"({report['cpu_cores']} cores; others' jobs skew timings)",
    ]
    if use_pra:
        lines += [
            f"pyroomacoustics: image-source order capped at {report['pra_max_order']} (no tail beyond it), "
            "CPU numpy, one scene at a time",
            "air absorption: the same setting for both renderers in each row. air on = binsynth's default "
            "physics (ISO 9613-1 in every room), the like-for-like row; pyroomacoustics then runs its "
            "multi-band path. air off = pyroomacoustics' fastest (single-band) path.",
            "ratio = binsynth scenes/s ÷ pyroomacoustics scenes/s",
        ]
    else:
        lines.append("pyroomacoustics skipped (--no-pra): no ratios")
    console.print("\n".join(lines))
    for name, floor in report["floors"].items():
        parts = []
        for key, met in report["floors_met"][name].items():
            state = "n/a" if met is None else ("met" if met else "NOT met")
            parts.append(f"{key.replace('_', ' ')}: {state}")
        console.print(f"floor {name} = {floor:g}: " + ", ".join(parts))
    if any(v is None for m in report["floors_met"].values() for v in m.values()):
        console.print(
            "[dim](n/a: needs the matching device, 10 s scenes, that air setting in --air, "
            "and pyroomacoustics for the ratio)[/dim]"
        )
    for r in report["results"]:
        if r["sanity"] is not None and not r["sanity"]["ok"]:
            console.print(
                f"[yellow]sanity: scene 0 at {r['fs_hz']} Hz, air {'on' if r['air_absorption'] else 'off'}, "
                f"RMS differs by {r['sanity']['rms_diff_db']} dB (> {SANITY_TOL_DB:g} dB; "
                f"pyroomacoustics' tail stops at order {report['pra_max_order']})[/yellow]"
            )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    import binsynth
    from binsynth.dsp.device import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    from binsynth.errors import ConfigError

    try:
        device = resolve_device(args.device)
    except ConfigError as exc:
        print(f"bench_render.py: {exc}", file=sys.stderr)
        return 2
    cuda = device.type == "cuda"
    chunk = args.chunk or (128 if cuda else 16)
    scenes_per_rate = args.scenes or [default_scenes(fs, cuda) for fs in args.rates]
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    use_pra = not args.no_pra
    pra_version = None
    if use_pra:
        try:
            import pyroomacoustics
        except ImportError as exc:
            if not cuda:
                print(
                    f"bench_render.py: pyroomacoustics cannot be imported ({exc}); install binsynth[dev] "
                    "or pass --no-pra for binsynth-only figures",
                    file=sys.stderr,
                )
                return 2
            log(f"note: pyroomacoustics cannot be imported ({exc}); running binsynth only, as with --no-pra")
            use_pra = False
        else:
            pra_version = pyroomacoustics.__version__

    sofa_path = resolve_sofa(args.hrtf) if use_pra else None
    n_geo = max(max(scenes_per_rate), args.pra_scenes if use_pra else 0)
    geoms = make_geometries(n_geo, args.seed)

    report = machine_info(device)
    report.update(
        {
            "binsynth": binsynth.__version__,
            **git_state(),
            "pra": use_pra,
            "pyroomacoustics": pra_version,
            "hrtf": args.hrtf,
            "duration_s": args.duration,
            "n_sources": N_SOURCES,
            "pra_max_order": args.pra_max_order,
            "binsynth_tail": "full",
            "air_absorption_modes": ["on" if a else "off" for a in args.air],
            "chunk_scenes": chunk,
            "repeats": args.repeats,
            "seed": args.seed,
        }
    )
    results = []
    for fs, n in zip(args.rates, scenes_per_rate):
        rs = setup_rate(args, fs, n, device, chunk)
        for air in args.air:
            results.append(run_case(args, rs, air, geoms, sofa_path, device, chunk, use_pra, log))
        del rs
    report["results"] = results
    report["floors"] = {
        "cpu_ratio_vs_pra_16k": FLOOR_CPU_RATIO_16K,
        "gpu_scenes_per_s_16k": FLOOR_GPU_SCENES_PER_S_16K,
    }
    report["floors_met"] = floors_met(results, cuda, args.duration == 10.0)
    report["load_avg_1min_end"] = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    print_table(report, args)
    sys.stdout.flush()
    # end-to-end figures (bench_pipeline.py) and the long run's memory (bench_memory.py)
    for key, var in (("pipeline", "BINSYNTH_BENCH_PIPELINE_JSON"), ("memory", "BINSYNTH_BENCH_MEMORY_JSON")):
        extra = os.environ.get(var)
        if extra and Path(extra).is_file():
            report[key] = json.loads(Path(extra).read_text().strip().splitlines()[-1])
    print(json.dumps(report, separators=(",", ":")), flush=True)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
