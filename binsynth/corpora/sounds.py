"""The generators of the built-in synthetic sound classes (see :mod:`binsynth.corpora.synthetic`).

Each generator is ``(rng, nrng, fs_hz, n_samples) -> float64 (n,)``: ``rng`` draws the
variant's parameters first (a fixed number of draws), then its events; ``nrng`` gives
noise samples. Frequencies in Hz, times in seconds; components stay below 0.45 · fs_hz.

Speed: ``np.sin`` costs ~8 ns a sample, so the oscillators do not call it per sample and
harmonic: sinusoids of constant frequency are products of two small tables (:func:`_sines`),
harmonic sums of a varying pitch are read from a wavetable (:func:`_harmonics`). Both equal
the plain formulas to ~1e-9 of the peak (rounding, and the wavetable's bounded error).
Long arrays are worked on in place or in blocks: a fresh full-length temporary (its page
faults) can cost more than the arithmetic on it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import signal

from binsynth.corpora.base import fade_window

#: Components stay below this fraction of the sample rate (0.5 = Nyquist).
_GUARD = 0.45
#: Samples per block in the block-wise loops (their scratch arrays stay in cache).
_BLOCK = 8192

Generator = Callable[[np.random.Generator, np.random.Generator, int, int], np.ndarray]


# ------------------------------------------------------------------ oscillators


def _sine_tables(w, m: int, amps, damp, phases) -> tuple[np.ndarray, np.ndarray]:
    """The tables of :func:`_sines`: amps · e^{i phases} · z^{h·B} (K, H) and z^l (K, B), H·B >= m.

    z = e^{i w - damp}; the powers are running products (one rounding per factor: relative
    error < 1e-13 for these lengths).
    """
    w, a, d, p = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (w, amps, damp, phases)))
    b = math.isqrt(max(m, 1) - 1) + 1
    h = -(-max(m, 1) // b)
    s = 1j * w - d  # exponent per sample
    lo = np.empty((len(s), b), dtype=np.complex128)
    lo[:, 0] = 1.0
    lo[:, 1:] = np.exp(s)[:, None]
    hi = np.empty((len(s), h), dtype=np.complex128)
    hi[:, 0] = a * np.exp(1j * p)
    hi[:, 1:] = np.exp(s * b)[:, None]
    return np.cumprod(hi, axis=1, out=hi), np.cumprod(lo, axis=1, out=lo)


def _sines(w, m: int, amps=1.0, damp=0.0, phases=0.0) -> np.ndarray:
    """``sum_k amps_k · exp(-damp_k · j) · sin(w_k · j + phases_k)`` for samples j = 0 … m-1.

    ``w`` in radians and ``damp`` in nepers per sample (scalars or one per component).
    With j = h·B + l, exp(s·j) = exp(s·h·B) · exp(s·l): the m samples are one
    (H × 2K) @ (2K × B) matrix product of two small tables (B ≈ H ≈ sqrt(m)), i.e.
    ~2·sqrt(m) complex multiplications per component instead of m sines.
    """
    hi, lo = _sine_tables(w, m, amps, damp, phases)
    # Im(hi · lo) = Re(hi)·Im(lo) + Im(hi)·Re(lo), summed over the components
    left = np.concatenate([hi.real, hi.imag]).T
    right = np.concatenate([lo.imag, lo.real])
    return (left @ right).ravel()[:m]


def _sines_each(w, m: int, amps=1.0, damp=0.0, phases=0.0) -> np.ndarray:
    """The components of :func:`_sines` separately: (K, M), M >= m (samples past m continue them)."""
    hi, lo = _sine_tables(w, m, amps, damp, phases)
    # a stack of K (H × 2) @ (2 × B) products
    return np.matmul(np.stack([hi.real, hi.imag], axis=2), np.stack([lo.imag, lo.real], axis=1)).reshape(len(hi), -1)


def _turns(freq: np.ndarray | float, fs: int, n: int) -> np.ndarray:
    """Phase in turns (cycles) of an oscillator following ``freq`` (Hz, scalar or (n,)).

    Trapezoidal integral from t = 0, so the phase at time t (and the waveform) is nearly
    the same at every sample rate.
    """
    f = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    if n == 0:
        return np.zeros(0)
    c = np.cumsum(f)
    for s in range(0, n, _BLOCK):  # block by block: no full-length temporary
        part = c[s : s + _BLOCK]
        part -= 0.5 * (f[s : s + _BLOCK] + f[0])
        part /= fs
    return c


#: Bound on a wavetable's interpolation error, relative to the sum of |coefficients|.
_TABLE_TOL = 1e-9


def _trig_tables(c: np.ndarray) -> np.ndarray:
    """Wavetables of f_s(φ) = Re sum_j c[s, j] e^{ijφ}, one per row s of ``c`` (complex, (S, J)).

    f is 2π-periodic, so it is tabulated exactly (inverse FFT) at N points and read by
    quintic Hermite interpolation (value, slope and curvature match at each node): error
    <= Δ⁶/46080 · max|f⁽⁶⁾| <= Δ⁶/46080 · sum_j |c_j| j⁶ (Δ = 2π/N). N is the smallest power
    of two keeping this below _TABLE_TOL · sum_j |c_j| in every row. Returns (S, N, 6): the
    quintic of each interval in the step t in [0, 1), highest power first.
    """
    rows, size = c.shape
    j = np.arange(size)
    mag = np.abs(c)
    total = mag.sum(1)
    worst = float(np.max((mag @ j.astype(np.float64) ** 6) / np.where(total > 0, total, 1.0)))
    n = 64
    while n < 4 * size or (2 * np.pi / n) ** 6 / 46080 * worst > _TABLE_TOL:
        n *= 2
    # Each coefficient is a linear filter of f: the table is one inverse FFT of the spectrum
    # times a factor per coefficient. With D = i j Δ (d/dt, t in steps) and E = e^D (one step
    # on), the value, slope and curvature left at the far end by their Taylor terms are
    # dy = E - 1 - D - D²/2, dd = D (E - 1 - D), dc = D² (E - 1), and the quintic is
    # (6 dy - 3 dd + dc/2) t⁵ + (-15 dy + 7 dd - dc) t⁴ + (10 dy - 4 dd + dc/2) t³ + D²/2 t² + D t + 1.
    d = 1j * (2 * np.pi / n) * j
    e1 = np.expm1(d)
    dy, dd, dc = e1 - d - 0.5 * d * d, d * (e1 - d), d * d * e1
    t5, t4, t3 = 6 * dy - 3 * dd + 0.5 * dc, -15 * dy + 7 * dd - dc, 10 * dy - 4 * dd + 0.5 * dc
    factors = np.stack([t5, t4, t3, 0.5 * d * d, d, np.ones(size)], axis=1)
    spec = np.zeros((rows, n // 2 + 1, 6), dtype=np.complex128)
    spec[:, :size] = (c * (n / 2))[:, :, None] * factors  # irfft: x_t = sum_j 2 Re(X_j e^{2πijt/N}) / N ...
    spec[:, 0] = (c[:, 0].real * n)[:, None] * factors[0]  # ... + X_0 / N
    table = np.fft.irfft(spec, n, axis=1)
    table.flags.writeable = False
    return table


@functools.lru_cache(maxsize=16)
def _harmonic_table(partials: tuple[tuple[int, float], ...], am: tuple[float, int] | None) -> np.ndarray:
    """Wavetable (see :func:`_trig_tables`) of sum a_k sin(k φ) over ``partials`` (k, a_k),
    times 1 + d sin(h φ) where ``am`` = (d, h).
    """
    k = np.array([p[0] for p in partials], dtype=np.int64)
    a = np.array([p[1] for p in partials], dtype=np.float64)
    d, h = am if am is not None else (0.0, 0)
    c = np.zeros(int(k.max()) + h + 1, dtype=np.complex128)
    c[k] = -1j * a  # a sin(kφ) = Re(-i a e^{ikφ})
    if d:  # a sin(kφ) · d sin(hφ) = a d/2 · (cos((k - h)φ) - cos((k + h)φ))
        np.add.at(c, np.abs(k - h), 0.5 * d * a)
        np.add.at(c, k + h, -0.5 * d * a)
    return _trig_tables(c[None, :])[0]


def _read_table(table: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Periodic ``table`` (N × 6, N a power of 2) at positions ``pos`` (in table steps), into ``pos``."""
    n, mask = pos.shape[0], table.shape[0] - 1
    size = min(n, _BLOCK)
    fl, t, idx, c = np.empty(size), np.empty(size), np.empty(size, np.int64), np.empty((size, 6))
    for s in range(0, n, _BLOCK):
        p = pos[s : s + _BLOCK]
        if p.shape[0] < size:
            size = p.shape[0]
            fl, t, idx, c = fl[:size], t[:size], idx[:size], c[:size]
        np.floor(p, out=fl)
        np.subtract(p, fl, out=t)
        np.copyto(idx, fl, casting="unsafe")
        idx &= mask  # periodic
        np.take(table, idx, axis=0, out=c, mode="clip")  # (in range already: "clip" skips the check)
        np.multiply(c[:, 0], t, out=p)  # Horner, in place: p is not needed any more
        for i in range(1, 6):
            p += c[:, i]
            if i < 5:
                p *= t
    return pos


def _harmonics(
    f0: np.ndarray | float,
    amps: Sequence[float],
    fs: int,
    n: int,
    phase0: float = 0.0,
    am: tuple[float, int] | None = None,
) -> np.ndarray:
    """Sum of harmonics k·f0 (k = 1, 2, …) with ``amps``; those above the guard are left out.

    ``am`` = (depth, h) multiplies the sum by 1 + depth · sin(h · phase), a modulation
    locked to the phase. The harmonics audible throughout are read from one wavetable
    (a dozen operations a sample, whatever their number); those that cross the guard
    within the signal are added with a per-sample mask.
    """
    f0 = np.broadcast_to(np.asarray(f0, dtype=np.float64), (n,))
    if n == 0:
        return np.zeros(0)
    top = _GUARD * fs
    lo, hi = float(f0.min()), float(f0.max())
    full, partial = [], []
    for k, a in enumerate(amps, start=1):
        if a == 0:
            continue
        if k * lo >= top:  # inaudible throughout, and so are the higher ones
            break
        (full if k * hi < top else partial).append((k, float(a)))
    turns = _turns(f0, fs, n)
    phase = 2 * np.pi * turns + phase0 if partial else None
    if full:
        table = _harmonic_table(tuple(full), am)
        if phase0:
            turns += phase0 / (2 * np.pi)
        out = _read_table(table, np.multiply(turns, table.shape[0], out=turns))
    else:
        out = np.zeros(n)
    if partial:  # rare: a harmonic crossing the guard (low rates)
        mod = 1.0 + am[0] * np.sin(am[1] * phase) if am is not None else 1.0
        for k, a in partial:
            out += a * np.sin(k * phase) * (k * f0 < top) * mod
    return out


def _sos(kind: str, fs: int, lo: float | None = None, hi: float | None = None, order: int = 2) -> np.ndarray:
    """Butterworth SOS; edges are kept inside (20 Hz, guard · fs)."""
    top = _GUARD * fs
    if kind == "lowpass":
        return signal.butter(order, min(hi, top), "lowpass", fs=fs, output="sos")
    if kind == "highpass":
        return signal.butter(order, min(lo, 0.8 * top), "highpass", fs=fs, output="sos")
    hi = min(hi, top)
    lo = max(20.0, min(lo, 0.7 * hi))
    return signal.butter(order, [lo, hi], "bandpass", fs=fs, output="sos")


def _filt(x: np.ndarray, sos: np.ndarray) -> np.ndarray:
    """``x`` filtered along its last axis (the rows of a 2-D ``x`` each on its own, in one call)."""
    if x.size == 0:
        return np.zeros(x.shape)
    return signal.sosfilt(sos, x, axis=-1)


def _place(x: np.ndarray, start_s: float, event: np.ndarray, fs: int) -> None:
    """Add ``event`` into ``x`` from ``start_s`` seconds on (cut at the end of ``x``)."""
    s = int(round(start_s * fs))
    if s >= x.shape[0]:
        return
    m = min(event.shape[0], x.shape[0] - s)
    x[s : s + m] += event[:m]


def _gate(n_on: int, ramp: int) -> np.ndarray:
    """An on-envelope of ``n_on`` samples with raised-cosine ramps of ``ramp`` samples."""
    return fade_window(n_on, ramp)


def _half_sine(m: int) -> np.ndarray:
    """sin(π (j + 0.5) / m) for j = 0 … m-1: one arch, > 0 at every sample."""
    return _sines(np.pi / m, m, phases=np.pi / (2 * m))


def _decay(n: int, fs: int, tau_s: float, attack_s: float = 0.002) -> np.ndarray:
    """Envelope: raised-cosine attack, then exp(-t / tau_s)."""
    t = np.arange(n) / fs
    env = np.exp(-t / tau_s)
    a = max(1, int(attack_s * fs))
    env[:a] *= 0.5 - 0.5 * np.cos(np.pi * (np.arange(min(a, n)) + 0.5) / a)
    return env


def _add_floor(x: np.ndarray, nrng: np.random.Generator, rel_db: float) -> np.ndarray:
    """Add white room tone ``rel_db`` below the signal's peak, into ``x``.

    The noise is drawn block by block (the same stream as one draw): no full-length temporary.
    """
    n = x.shape[0]
    peak = max(float(x.max()), -float(x.min())) if n else 0.0
    gain = (peak or 1.0) * 10.0 ** (rel_db / 20.0)
    buf = np.empty(min(n, _BLOCK))
    for s in range(0, n, _BLOCK):
        b = buf[: min(_BLOCK, n - s)]
        nrng.standard_normal(out=b)
        b *= gain
        x[s : s + b.shape[0]] += b
    return x


def _event_times(rng: np.random.Generator, total_s: float, first_max_s: float, gap: Callable[[], float]) -> list[float]:
    """Onsets in seconds: the first in [0, first_max_s), then ``gap()`` apart, until total_s."""
    t = rng.uniform(0.0, first_max_s)
    times = []
    while t < total_s:
        times.append(t)
        t += gap()
    return times


# ------------------------------------------------------------------ the classes
# Each generator: (rng, nrng, fs_hz, n_samples) -> float64 (n,). ``rng`` draws the
# variant's parameters first (a fixed number of draws), then its events; ``nrng`` gives
# noise samples.


def _siren(rng, nrng, fs, n):
    """Emergency siren: a harmonic tone swept by a slow 'wail' or a fast 'yelp' LFO."""
    yelp = rng.random() < 0.5
    lo, hi = rng.uniform(550, 800), rng.uniform(1300, 1700)
    rate = rng.uniform(3.0, 5.0) if yelp else rng.uniform(0.4, 0.9)
    phase = rng.uniform(0, 2 * np.pi)
    h2, h3 = rng.uniform(0.2, 0.5), rng.uniform(0.1, 0.3)
    f = _sines(2 * np.pi * rate / fs, n, phases=phase + np.pi / 2)  # cos(2π rate t + phase)
    f *= -0.5
    f += 0.5  # the LFO, 0..1
    f *= hi - lo
    f += lo
    return _add_floor(_harmonics(f, [1.0, h2, h3], fs, n), nrng, -50)


def _alarm_beeps(rng, nrng, fs, n):
    """Electronic alarm: strictly periodic short high beeps, sometimes alternating two pitches."""
    f1 = rng.uniform(1500, 3000)
    f2 = f1 * rng.uniform(0.72, 0.88)
    alternate = rng.random() < 0.4
    on_s = rng.uniform(0.1, 0.25)
    period_s = on_s + rng.uniform(0.08, 0.25)
    amps = [1.0, 0.0, 1 / 3, 0.0, 1 / 5] if rng.random() < 0.5 else [1.0]
    start = rng.uniform(0, 0.04)
    x = np.zeros(n)
    n_on = max(2, int(on_s * fs))
    env = _gate(n_on, int(0.003 * fs))
    beeps = {}  # every beep of a pitch is the same: make each once
    k = 0
    while start + k * period_s < n / fs:
        f = f2 if alternate and k % 2 else f1
        if f not in beeps:
            beeps[f] = env * _harmonics(f, amps, fs, n_on)
        _place(x, start + k * period_s, beeps[f], fs)
        k += 1
    return _add_floor(x, nrng, -55)


def _engine_hum(rng, nrng, fs, n):
    """Idling engine: a low harmonic drone (25–60 Hz) with rpm wobble, firing pulses and rumble."""
    f0 = rng.uniform(25, 60)
    wobble_rate, wobble = rng.uniform(0.2, 1.0), rng.uniform(0.01, 0.04)
    tilt = rng.uniform(0.7, 1.3)
    jitter = rng.uniform(0.6, 1.4, size=40)
    firing = rng.uniform(0.2, 0.5)
    rumble_hz, rumble = rng.uniform(150, 400), rng.uniform(0.3, 0.7)
    f = _sines(2 * np.pi * wobble_rate / fs, n)  # sin(2π wobble_rate t)
    f *= wobble
    f += 1
    f *= f0
    amps = jitter * np.arange(1, 41, dtype=float) ** -tilt
    # two firings per revolution: x (1 + firing sin(2 phase)), folded into the wavetable
    x = _harmonics(f, amps, fs, n, am=(firing, 2))
    noise = _filt(nrng.standard_normal(n), _sos("lowpass", fs, hi=rumble_hz, order=4))
    noise *= rumble * np.std(x) / max(np.std(noise), 1e-12)
    x += noise
    return _add_floor(x, nrng, -60)


def _bird_chirps(rng, nrng, fs, n):
    """Songbird: phrases of fast frequency-swept chirps between 1.5 and 7 kHz."""
    f_start = rng.uniform(3000, 5000)
    sweep = rng.uniform(800, 2000) * (1 if rng.random() < 0.5 else -1)
    chirp_s = rng.uniform(0.03, 0.09)
    gap_s = rng.uniform(0.02, 0.08)
    phrase_len = int(rng.integers(3, 9))
    pause_s = rng.uniform(0.15, 0.5)
    h2 = rng.uniform(0.05, 0.25)
    x = np.zeros(n)
    count = 0

    def gap():
        nonlocal count
        count += 1
        return chirp_s + (pause_s if count % phrase_len == 0 else gap_s)

    for onset in _event_times(rng, n / fs, 0.06, gap):
        jit = rng.uniform(0.93, 1.07)
        m = max(2, int(chirp_s * fs * rng.uniform(0.85, 1.15)))
        f = np.clip(jit * (f_start + sweep * np.linspace(0, 1, m) ** 0.7), 1500, _GUARD * fs)
        env = _half_sine(m)
        env *= env
        env *= _harmonics(f, [1.0, h2], fs, m)
        _place(x, onset, env, fs)
    return _add_floor(x, nrng, -45)


def _footsteps(rng, nrng, fs, n):
    """Footsteps: a dull low-passed heel thud and a lighter toe tap, every 0.4–0.65 s."""
    step_s = rng.uniform(0.4, 0.65)
    cutoff = rng.uniform(250, 800)
    tau = rng.uniform(0.015, 0.04)
    toe_delay, toe_gain = rng.uniform(0.05, 0.09), rng.uniform(0.3, 0.6)
    scuff = rng.uniform(0.02, 0.15)
    sos_thud = _sos("lowpass", fs, hi=cutoff, order=4)
    sos_scuff = _sos("bandpass", fs, lo=1500, hi=5000, order=2)
    x = np.zeros(n)
    m = int(6 * tau * fs) + 1
    decay = _decay(m, fs, tau)
    for onset in _event_times(rng, n / fs, 0.08, lambda: step_s * rng.uniform(0.95, 1.05)):
        level = rng.uniform(0.7, 1.0)
        noise = nrng.standard_normal((2, 2, m))  # (heel, toe) × (thud, scuff): the draw order of one by one
        bursts = 8 * _filt(noise[:, 0], sos_thud) + scuff * _filt(noise[:, 1], sos_scuff)
        for burst, (delay, gain) in zip(bursts, ((0.0, 1.0), (toe_delay, toe_gain)), strict=True):
            _place(x, onset + delay, level * gain * burst * decay, fs)
    return _add_floor(x, nrng, -55)


#: Formant frequencies F1–F3 in Hz of six vowels (Peterson & Barney averages, male voices).
_VOWELS = (
    (730, 1090, 2440), (530, 1840, 2480), (270, 2290, 3010),
    (570, 840, 2410), (300, 870, 2240), (660, 1720, 2410),
)  # fmt: skip
_FORMANT_BW = (90.0, 110.0, 170.0)


def _speech_babble(rng, nrng, fs, n):
    """Speech-like babble: 1–3 voices of formant-shaped harmonic syllables at 3.5–6 per second."""
    n_voices = int(rng.integers(1, 4))
    voices = []
    for _ in range(n_voices):
        f0 = rng.uniform(90, 140) if rng.random() < 0.5 else rng.uniform(170, 240)
        voices.append((f0, rng.uniform(3.5, 6.0), rng.uniform(0.5, 1.0)))
    syllables, hisses = [], []  # every syllable is drawn first, then all are made together
    for f0, rate, gain in voices:
        syl_s = 1.0 / rate
        for onset in _event_times(rng, n / fs, 0.08, lambda: syl_s * rng.uniform(0.8, 1.25)):
            vowel = _VOWELS[int(rng.integers(len(_VOWELS)))]
            dur = syl_s * rng.uniform(0.6, 0.95)
            pitch = f0 * rng.uniform(0.9, 1.1)
            glide = rng.uniform(-0.12, 0.12)
            if rng.random() < 0.3:  # a fricative
                hisses.append((onset, gain))
            syllables.append((onset, max(2, int(dur * fs)), pitch, glide, gain, *vowel))
    x = np.zeros(n)
    if syllables:
        onsets, lengths, pitch, glide, gains, *formants = (np.array(v) for v in zip(*syllables, strict=True))
        # harmonics up to 5 kHz: voiced energy above is negligible (fricatives cover it). With
        # the glide within ±12 %, k · f <= min(guard, 5 kHz) · 1.12 / 1.15 stays below the
        # guard: every harmonic is audible throughout, so a syllable is one wavetable read.
        counts = (min(_GUARD * fs, 5000.0) / (pitch * 1.15)).astype(np.int64)
        k = np.arange(1, int(counts.max()) + 1)
        kf = k * pitch[:, None]
        shape = sum(1.0 / (1.0 + ((kf - F[:, None]) / B) ** 2) for F, B in zip(formants, _FORMANT_BW, strict=True))
        amps = np.where(k <= counts[:, None], shape * k**-0.5, 0.0)
        c = np.concatenate([np.zeros((len(syllables), 1)), -1j * amps], axis=1)  # a sin(kφ) = Re(-i a e^{ikφ})
        j = np.arange(int(lengths.max()), dtype=np.float64)
        for g0 in range(0, len(syllables), 16):  # 16 syllables at a time: their tables stay in cache
            tables = _trig_tables(c[g0 : g0 + 16])
            size = tables.shape[1]
            # the envelope sin(π (j + 0.5) / m)^0.6 is symmetric: the first halves of all 16 arches
            ms = lengths[g0 : g0 + 16]
            arches = _sines_each(np.pi / ms, int(ms.max() + 1) // 2, phases=np.pi / (2 * ms))
            for i, table, env in zip(range(g0, g0 + len(tables)), tables, arches, strict=True):
                m, p, g = int(lengths[i]), pitch[i], glide[i]
                # f = p (1 + g j / (m - 1)): the phase, its trapezoidal integral, is exactly
                # p / fs · (j + g j² / (2 (m - 1))) turns
                pos = j[:m] * (size * p * g / (2 * (m - 1) * fs))
                pos += size * p / fs
                pos *= j[:m]
                wave = _read_table(table, pos)
                half = (m + 1) // 2
                env = env[:half]
                np.power(env, 0.6, out=env)
                env *= gains[i]
                wave[:half] *= env
                wave[half:] *= env[: m - half][::-1]
                _place(x, onsets[i], wave, fs)
    # the fricatives' hiss: every burst in one draw (in syllable order), filtered in one call
    mf = int(0.06 * fs)
    hiss = _filt(nrng.standard_normal((len(hisses), mf)), _sos("highpass", fs, lo=3000, order=4))
    gate = _gate(mf, mf // 3)
    for (onset, gain), h in zip(hisses, hiss, strict=True):
        _place(x, max(0.0, onset - 0.04), 0.15 * gain * h * gate, fs)
    return _add_floor(x, nrng, -50)


def _piano_notes(rng, nrng, fs, n):
    """Piano: notes of a major or minor scale with inharmonic, exponentially decaying partials."""
    interval_s = rng.uniform(0.15, 0.45)
    root = int(rng.integers(52, 70))
    scale = (0, 2, 4, 5, 7, 9, 11) if rng.random() < 0.5 else (0, 2, 3, 5, 7, 8, 10)
    t60 = rng.uniform(0.5, 1.5)
    inharm = rng.uniform(5e-5, 4e-4)
    tilt = rng.uniform(0.9, 1.6)
    chord_p = rng.uniform(0.0, 0.4)
    x = np.zeros(n)
    tau = t60 / 6.9  # exp(-t / tau) reaches -60 dB at t60
    m = max(2, min(int(0.5 * t60 * fs), n))  # to -30 dB; the last fifth fades out
    shape = fade_window(m, m // 5, fade_in=False) * _decay(m, fs, 1e9, attack_s=0.002)
    notes = {}  # a note depends on its pitch only: make each once
    for onset in _event_times(rng, n / fs, 0.05, lambda: interval_s * rng.choice([1.0, 1.0, 2.0])):
        degrees = [int(rng.integers(0, 14))]
        if rng.random() < chord_p:
            degrees += [degrees[0] + 2, degrees[0] + 4]
        velocity = rng.uniform(0.6, 1.0)
        for d in degrees:
            midi = root + 12 * (d // 7) + scale[d % 7]
            if midi not in notes:
                f0 = 440.0 * 2 ** ((midi - 69) / 12)
                fk = [k * f0 * math.sqrt(1 + inharm * k * k) for k in range(1, 17)]
                k = np.arange(1, 1 + next((i for i, f in enumerate(fk) if f >= _GUARD * fs), 16))
                # partial k: k^-tilt · exp(-t (1 + (k - 1) / 4) / tau) · sin(2π f_k t)
                note = _sines(2 * np.pi * np.array(fk[: len(k)]) / fs, m, k**-tilt, (1 + 0.25 * (k - 1)) / (tau * fs))
                notes[midi] = note * shape
            _place(x, onset, velocity * notes[midi], fs)
    return _add_floor(x, nrng, -55)


def _dog_bark(rng, nrng, fs, n):
    """Dog: groups of 1–3 harsh barks, a falling harmonic voice mixed with rough noise."""
    f0 = rng.uniform(350, 750)
    drop = rng.uniform(0.15, 0.4)
    bark_s = rng.uniform(0.09, 0.22)
    noise_mix = rng.uniform(0.3, 0.7)
    formant = rng.uniform(800, 1600)
    per_group = int(rng.integers(1, 4))
    in_gap, group_gap = rng.uniform(0.12, 0.3), rng.uniform(0.5, 1.0)
    x = np.zeros(n)
    count = 0
    sos_body = _sos("bandpass", fs, lo=formant * 0.5, hi=formant * 2.5, order=2)
    sos_rough = _sos("lowpass", fs, hi=80.0, order=2)

    def gap():
        nonlocal count
        count += 1
        return in_gap if count % per_group else group_gap

    amps = np.arange(1, 16, dtype=float) ** -0.7
    for onset in _event_times(rng, n / fs, 0.06, gap):
        m = max(2, int(bark_s * rng.uniform(0.85, 1.15) * fs))
        u = np.linspace(0, 1, m)
        # pitch rises 15 % over the first 15 % of the bark, then falls by ``drop``
        contour = 1 + 0.15 * np.minimum(u / 0.15, 1) - (0.15 + drop) * np.maximum(u - 0.15, 0) / 0.85
        f = f0 * rng.uniform(0.92, 1.08) * contour
        voice = _harmonics(f, amps, fs, m)
        rough = 1 + 2.0 * _filt(nrng.standard_normal(m), sos_rough)
        noise = _filt(nrng.standard_normal(m), sos_body)
        body = voice * rough + noise_mix * noise * np.std(voice) / max(np.std(noise), 1e-12)
        _place(x, onset, body * _decay(m, fs, bark_s / 2.5, attack_s=0.008), fs)
    return _add_floor(x, nrng, -50)


def _door_knock(rng, nrng, fs, n):
    """Knocking on a door: quick groups of 2–5 knocks, damped wooden modes plus a click."""
    f1 = rng.uniform(110, 280)
    ratios = (1.0, rng.uniform(1.8, 2.6), rng.uniform(3.4, 4.8), rng.uniform(5.5, 7.5))
    gains = (1.0, rng.uniform(0.4, 0.8), rng.uniform(0.2, 0.5), rng.uniform(0.1, 0.3))
    tau = rng.uniform(0.012, 0.03)
    per_group = int(rng.integers(2, 6))
    spacing, group_gap = rng.uniform(0.1, 0.2), rng.uniform(0.6, 1.2)
    click = rng.uniform(0.1, 0.4)
    sos_click = _sos("bandpass", fs, lo=1000, hi=4000, order=2)
    count = 0

    def gap():
        nonlocal count
        count += 1
        return spacing if count % per_group else group_gap

    x = np.zeros(n)
    m = int(6 * tau * fs) + 1
    # mode i: g_i · exp(-t sqrt(i + 1) / tau) · sin(2π f1 r_i t)
    modes = _sines(2 * np.pi * f1 * np.array(ratios) / fs, m, gains, np.sqrt(np.arange(1, 5)) / (tau * fs))
    modes *= _decay(m, fs, 1e9, attack_s=0.001)
    mc = int(0.004 * fs)
    onsets = _event_times(rng, n / fs, 0.06, gap)
    levels = [rng.uniform(0.7, 1.0) for _ in onsets]
    # every knock's click noise in one draw (in knock order), filtered in one call
    clicks = _filt(nrng.standard_normal((len(onsets), mc)), sos_click) * _decay(mc, fs, 0.001, attack_s=0.0002) * 4
    cl = np.zeros(m)
    for onset, level, c in zip(onsets, levels, clicks, strict=True):
        cl[:mc] = c
        _place(x, onset, level * (modes + click * cl), fs)
    return _add_floor(x, nrng, -55)


def _rain(rng, nrng, fs, n):
    """Rain: steady broadband hiss plus many random droplet clicks."""
    tilt_hz = rng.uniform(1500, 5000)
    drops_per_s = rng.uniform(60, 300)
    drop_level = rng.uniform(0.5, 1.5)
    drop_lo, drop_hi = rng.uniform(1500, 3000), rng.uniform(4000, 7000)
    # the low-pass then the high-pass, as one cascade
    sos = np.concatenate([_sos("lowpass", fs, hi=tilt_hz, order=1), _sos("highpass", fs, lo=200, order=2)])
    x = _filt(nrng.standard_normal(n), sos)
    x /= max(float(np.std(x)), 1e-12)
    total_s, t = n / fs, 0.0
    while t < total_s:  # drops drawn in fixed blocks, so a longer clip extends a shorter one
        gaps = rng.exponential(1.0 / drops_per_s, 256)
        freqs = rng.uniform(drop_lo, drop_hi, 256)
        amps = rng.uniform(0.5, 3.0, 256) * drop_level
        taus = rng.uniform(0.002, 0.006, 256)
        onsets = np.add.accumulate(np.concatenate([[t], gaps]))[1:]  # t += gap, drop by drop
        t = float(onsets[-1])
        k = int(np.searchsorted(onsets, total_s))  # the drops before total_s
        if k == 0:
            continue
        # drop: a · exp(-t / tau) · sin(2π f t) for 5 tau, every drop of the block at once
        lengths = (5 * taus[:k] * fs).astype(np.int64) + 1
        w = 2 * np.pi * np.minimum(freqs[:k], _GUARD * fs) / fs
        drops = _sines_each(w, int(lengths.max()), amps[:k], 1.0 / (taus[:k] * fs))
        for s, m, drop in zip(np.rint(onsets[:k] * fs).astype(np.int64).tolist(), lengths.tolist(), drops):
            m = min(m, n - s)
            if m > 0:
                x[s : s + m] += drop[:m]
    return x


def _telephone_ring(rng, nrng, fs, n):
    """Telephone: bursts of a square-ish tone pair, trilled or warbled at 15–25 Hz."""
    warble = rng.random() < 0.5
    fa = rng.uniform(700, 1000)
    fb = fa * rng.uniform(1.1, 1.3)
    trill = rng.uniform(15, 25)
    double = rng.random() < 0.4
    on_s = rng.uniform(0.35, 0.45) if double else rng.uniform(0.6, 1.2)
    off_s = rng.uniform(0.15, 0.25) if double else rng.uniform(0.3, 0.6)
    long_off_s = rng.uniform(1.0, 2.0)
    x = np.zeros(n)
    m = max(2, int(on_s * fs))
    sq = 0.5 + 0.5 * np.tanh(6 * _sines(2 * np.pi * trill / fs, m))  # soft square, 0..1
    odd = [1.0, 0.0, 1 / 3, 0.0, 1 / 5]
    if warble:  # the pitch flips between fa and fb
        ring = _harmonics(fa + (fb - fa) * sq, odd, fs, m)
    else:  # both pitches at once, amplitude-trilled
        ring = (_harmonics(fa, odd, fs, m) + _harmonics(fb, odd, fs, m)) * (0.2 + 0.8 * sq)
    ring *= _gate(m, int(0.005 * fs))
    count = 0

    def gap():
        nonlocal count
        count += 1
        return on_s + (off_s if (double and count % 2) else long_off_s if double else off_s)

    for onset in _event_times(rng, n / fs, 0.04, gap):
        _place(x, onset, ring, fs)
    return _add_floor(x, nrng, -55)


def _clock_tick(rng, nrng, fs, n):
    """Clock: very short bright ticks (and slightly lower tocks) once or twice a second."""
    interval_s = (0.5 if rng.random() < 0.5 else 1.0) * rng.uniform(0.98, 1.02)
    f_tick = rng.uniform(2500, 5000)
    f_tock = f_tick * rng.uniform(0.75, 0.9)
    tau = rng.uniform(0.002, 0.006)
    click = rng.uniform(0.2, 0.6)
    x = np.zeros(n)
    m = int(6 * tau * fs) + 1
    t = np.arange(m) / fs
    sos_click = _sos("highpass", fs, lo=2000, order=2)
    onsets = _event_times(rng, n / fs, 0.1, lambda: interval_s)
    tones = [np.sin(2 * np.pi * min(f, _GUARD * fs) * t) for f in (f_tick, f_tock)]
    # every tick's click noise in one draw (in tick order), filtered in one call
    clicks = _filt(nrng.standard_normal((len(onsets), m)), sos_click) * _decay(m, fs, 0.0008, attack_s=0.0002)
    decay = _decay(m, fs, tau, attack_s=0.0003)
    for k, (onset, cl) in enumerate(zip(onsets, clicks, strict=True)):
        _place(x, onset, (tones[k % 2] + click * cl) * decay, fs)
    return _add_floor(x, nrng, -60)


#: The classes, in class-index order. Append only: an index feeds the random streams.
CLASSES: dict[str, Generator] = {
    "siren": _siren,
    "alarm_beeps": _alarm_beeps,
    "engine_hum": _engine_hum,
    "bird_chirps": _bird_chirps,
    "footsteps": _footsteps,
    "speech_babble": _speech_babble,
    "piano_notes": _piano_notes,
    "dog_bark": _dog_bark,
    "door_knock": _door_knock,
    "rain": _rain,
    "telephone_ring": _telephone_ring,
    "clock_tick": _clock_tick,
}
CLASS_NAMES: tuple[str, ...] = tuple(CLASSES)
