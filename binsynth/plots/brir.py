"""PNG figures of BRIRs for people: both ears' first 50 ms, Schroeder decay and magnitude
spectra (scenes and label distributions: :mod:`binsynth.plots.scene`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_brir(brir: np.ndarray, fs_hz: int, sidecar: dict, path: str | Path) -> None:
    """Every channel of an impulse response (both ears of a BRIR, or W, Y, Z, X of an FOA
    one, named by ``sidecar["conventions"]["channels"]``): waveform (first 50 ms), energy decay
    in dB, magnitude spectra."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from binsynth.dsp.measures import schroeder_decay_db

    t = np.arange(brir.shape[-1]) / fs_hz
    fig, axes = plt.subplots(3, 1, figsize=(9, 9))
    n50 = min(brir.shape[-1], int(0.05 * fs_hz))
    names = sidecar.get("conventions", {}).get("channels", ["left", "right"])
    colours = ["tab:blue", "tab:red"] if len(names) == 2 else ["black", "tab:green", "tab:purple", "tab:orange"]
    for ear, name, colour in zip(range(brir.shape[0]), names, colours):
        axes[0].plot(t[:n50] * 1e3, brir[ear, :n50], color=colour, lw=0.8, label=name)
        axes[1].plot(t, schroeder_decay_db(brir[ear]), color=colour, lw=1.0, label=name)
        spec = np.fft.rfft(brir[ear], max(1 << 14, brir.shape[-1]))
        f = np.fft.rfftfreq(max(1 << 14, brir.shape[-1]), 1.0 / fs_hz)
        axes[2].semilogx(f[1:], 20 * np.log10(np.abs(spec[1:]) + 1e-12), color=colour, lw=0.6, label=name)
    info = sidecar.get("brir", {})
    if info.get("transition_s"):
        axes[0].axvline(info["transition_s"] * 1e3, color="grey", ls="--", lw=0.8)
        axes[1].axvline(info["transition_s"], color="grey", ls="--", lw=0.8, label="transition")
    axes[0].set(xlabel="time since emission (ms)", ylabel="amplitude", title=("BRIR" if len(names) == 2 else "FOA impulse response") + ", first 50 ms")
    axes[1].set(xlabel="time (s)", ylabel="Schroeder decay (dB)", ylim=(-80, 3))
    axes[2].set(xlabel="frequency (Hz)", ylabel="magnitude (dB)", xlim=(20, fs_hz / 2))
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
    req = sidecar.get("request", {})
    fig.suptitle(
        f"{req.get('hrtf') if req.get('receiver', 'binaural') == 'binaural' else 'FOA (AmbiX)'} · az {req.get('azimuth_deg')}° el {req.get('elevation_deg')}° "
        f"r {req.get('distance_m')} m · room {req.get('room')} · RT60 {req.get('rt60_s')}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110, format="png")
    plt.close(fig)
