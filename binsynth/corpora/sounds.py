"""The generators of the built-in synthetic sound classes (see :mod:`binsynth.corpora.synthetic`).

Each generator is ``(rng, nrng, fs_hz, n_samples) -> float64 (n,)``: ``rng`` draws the
variant's parameters first (a fixed number of draws), then its events; ``nrng`` gives
noise samples. Frequencies in Hz, times in seconds; components stay below 0.45 · fs_hz.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import signal

from binsynth.corpora.base import fade_window

#: Components stay below this fraction of the sample rate (0.5 = Nyquist).
_GUARD = 0.45

Generator = Callable[[np.random.Generator, np.random.Generator, int, int], np.ndarray]


# ------------------------------------------------------------------ building blocks


def _osc(freq: np.ndarray | float, fs: int, n: int, phase0: float = 0.0) -> np.ndarray:
    """Phase in radians of an oscillator following ``freq`` (Hz, scalar or (n,)).

    Trapezoidal integral from t = 0, so the phase at time t (and the waveform) is nearly
    the same at every sample rate.
    """
    f = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    if n == 0:
        return np.zeros(0)
    return phase0 + 2.0 * np.pi * (np.cumsum(f) - 0.5 * (f + f[0])) / fs


def _harmonics(f0: np.ndarray | float, amps: Sequence[float], fs: int, n: int, phase0: float = 0.0) -> np.ndarray:
    """Sum of harmonics k·f0 (k = 1, 2, …) with ``amps``; those above the guard are left out."""
    f0 = np.broadcast_to(np.asarray(f0, dtype=np.float64), (n,))
    phase = _osc(f0, fs, n, phase0)
    out = np.zeros(n)
    for k, a in enumerate(amps, start=1):
        if a == 0:
            continue
        audible = k * f0 < _GUARD * fs
        if not audible.any():
            break
        out += a * np.sin(k * phase) * audible
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
    return signal.sosfilt(sos, x)


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


def _decay(n: int, fs: int, tau_s: float, attack_s: float = 0.002) -> np.ndarray:
    """Envelope: raised-cosine attack, then exp(-t / tau_s)."""
    t = np.arange(n) / fs
    env = np.exp(-t / tau_s)
    a = max(1, int(attack_s * fs))
    env[:a] *= 0.5 - 0.5 * np.cos(np.pi * (np.arange(min(a, n)) + 0.5) / a)
    return env


def _add_floor(x: np.ndarray, nrng: np.random.Generator, rel_db: float) -> np.ndarray:
    """Add white room tone ``rel_db`` below the signal's peak."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return x + (peak or 1.0) * 10.0 ** (rel_db / 20.0) * nrng.standard_normal(x.shape[0])


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
    t = np.arange(n) / fs
    lfo = 0.5 - 0.5 * np.cos(2 * np.pi * rate * t + phase)  # 0..1
    f = lo + (hi - lo) * lfo
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
    k = 0
    while start + k * period_s < n / fs:
        f = f2 if alternate and k % 2 else f1
        _place(x, start + k * period_s, env * _harmonics(f, amps, fs, n_on), fs)
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
    t = np.arange(n) / fs
    f = f0 * (1 + wobble * np.sin(2 * np.pi * wobble_rate * t))
    amps = jitter * np.arange(1, 41, dtype=float) ** -tilt
    x = _harmonics(f, amps, fs, n)
    x *= 1 + firing * np.sin(_osc(f * 2, fs, n))  # two firings per revolution
    noise = _filt(nrng.standard_normal(n), _sos("lowpass", fs, hi=rumble_hz, order=4))
    x += rumble * noise * np.std(x) / max(np.std(noise), 1e-12)
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
        env = np.sin(np.pi * (np.arange(m) + 0.5) / m) ** 2
        _place(x, onset, env * _harmonics(f, [1.0, h2], fs, m), fs)
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
    for onset in _event_times(rng, n / fs, 0.08, lambda: step_s * rng.uniform(0.95, 1.05)):
        level = rng.uniform(0.7, 1.0)
        for delay, gain in ((0.0, 1.0), (toe_delay, toe_gain)):
            thud = _filt(nrng.standard_normal(m), sos_thud)
            burst = 8 * thud + scuff * _filt(nrng.standard_normal(m), sos_scuff)
            _place(x, onset + delay, level * gain * burst * _decay(m, fs, tau), fs)
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
    x = np.zeros(n)
    for f0, rate, gain in voices:
        syl_s = 1.0 / rate
        for onset in _event_times(rng, n / fs, 0.08, lambda: syl_s * rng.uniform(0.8, 1.25)):
            vowel = _VOWELS[int(rng.integers(len(_VOWELS)))]
            dur = syl_s * rng.uniform(0.6, 0.95)
            pitch = f0 * rng.uniform(0.9, 1.1)
            glide = rng.uniform(-0.12, 0.12)
            fricative = rng.random() < 0.3
            m = max(2, int(dur * fs))
            f = pitch * (1 + glide * np.linspace(0, 1, m))
            # harmonics up to 5 kHz: voiced energy above is negligible (fricatives cover it)
            k = np.arange(1, int(min(_GUARD * fs, 5000.0) / (pitch * 1.15)) + 1)
            kf = k * pitch
            shape = sum(1.0 / (1.0 + ((kf - F) / B) ** 2) for F, B in zip(vowel, _FORMANT_BW, strict=True))
            amps = shape * k ** -0.5
            env = np.sin(np.pi * (np.arange(m) + 0.5) / m) ** 0.6
            _place(x, onset, gain * env * _harmonics(f, amps, fs, m), fs)
            if fricative:
                mf = int(0.06 * fs)
                hiss = _filt(nrng.standard_normal(mf), _sos("highpass", fs, lo=3000, order=4))
                _place(x, max(0.0, onset - 0.04), 0.15 * gain * hiss * _gate(mf, mf // 3), fs)
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
    for onset in _event_times(rng, n / fs, 0.05, lambda: interval_s * rng.choice([1.0, 1.0, 2.0])):
        degrees = [int(rng.integers(0, 14))]
        if rng.random() < chord_p:
            degrees += [degrees[0] + 2, degrees[0] + 4]
        velocity = rng.uniform(0.6, 1.0)
        for d in degrees:
            midi = root + 12 * (d // 7) + scale[d % 7]
            f0 = 440.0 * 2 ** ((midi - 69) / 12)
            m = max(2, min(int(0.5 * t60 * fs), n))  # to -30 dB; the last fifth fades out
            t = np.arange(m) / fs
            note = np.zeros(m)
            for k in range(1, 17):
                fk = k * f0 * math.sqrt(1 + inharm * k * k)
                if fk >= _GUARD * fs:
                    break
                note += k**-tilt * np.exp(-t * (1 + 0.25 * (k - 1)) / tau) * np.sin(2 * np.pi * fk * t)
            note *= fade_window(m, m // 5, fade_in=False) * _decay(m, fs, 1e9, attack_s=0.002)
            _place(x, onset, velocity * note, fs)
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
    t = np.arange(m) / fs
    modes = sum(
        g * np.exp(-t * math.sqrt(i + 1) / tau) * np.sin(2 * np.pi * f1 * r * t)
        for i, (r, g) in enumerate(zip(ratios, gains, strict=True))
    )
    for onset in _event_times(rng, n / fs, 0.06, gap):
        level = rng.uniform(0.7, 1.0)
        mc = int(0.004 * fs)
        cl = np.zeros(m)
        cl[:mc] = _filt(nrng.standard_normal(mc), sos_click) * _decay(mc, fs, 0.001, attack_s=0.0002) * 4
        _place(x, onset, level * (modes * _decay(m, fs, 1e9, attack_s=0.001) + click * cl), fs)
    return _add_floor(x, nrng, -55)


def _rain(rng, nrng, fs, n):
    """Rain: steady broadband hiss plus many random droplet clicks."""
    tilt_hz = rng.uniform(1500, 5000)
    drops_per_s = rng.uniform(60, 300)
    drop_level = rng.uniform(0.5, 1.5)
    drop_lo, drop_hi = rng.uniform(1500, 3000), rng.uniform(4000, 7000)
    hiss = _filt(nrng.standard_normal(n), _sos("lowpass", fs, hi=tilt_hz, order=1))
    hiss = _filt(hiss, _sos("highpass", fs, lo=200, order=2))
    x = hiss / max(float(np.std(hiss)), 1e-12)
    total_s, t = n / fs, 0.0
    while t < total_s:  # drops drawn in fixed blocks, so a longer clip extends a shorter one
        gaps = rng.exponential(1.0 / drops_per_s, 256)
        freqs = rng.uniform(drop_lo, drop_hi, 256)
        amps = rng.uniform(0.5, 3.0, 256) * drop_level
        taus = rng.uniform(0.002, 0.006, 256)
        for g, f, a, tau in zip(gaps, freqs, amps, taus, strict=True):
            t += g
            if t >= total_s:
                break
            m = int(5 * tau * fs) + 1
            tt = np.arange(m) / fs
            _place(x, t, a * np.exp(-tt / tau) * np.sin(2 * np.pi * min(f, _GUARD * fs) * tt), fs)
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
    t = np.arange(m) / fs
    sq = 0.5 + 0.5 * np.tanh(6 * np.sin(2 * np.pi * trill * t))  # soft square, 0..1
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
    for k, onset in enumerate(_event_times(rng, n / fs, 0.1, lambda: interval_s)):
        f = min(f_tick if k % 2 == 0 else f_tock, _GUARD * fs)
        cl = _filt(nrng.standard_normal(m), sos_click) * _decay(m, fs, 0.0008, attack_s=0.0002)
        _place(x, onset, (np.sin(2 * np.pi * f * t) + click * cl) * _decay(m, fs, tau, attack_s=0.0003), fs)
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
