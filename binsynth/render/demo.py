"""The embedded default job: what ``make demo`` renders on a fresh clone.

A 7 × 5 × 3 m room with RT60 0.5 s; the listener at (3, 2.5, 1.6) m facing +x. Three dry
synthetic sources — a siren-like sweep on the left (az +70°), a train of beeps front
right (az -30°, el 10°) and pink-ish noise bursts behind (az 180°). Writes the BRIR of the
first source (WAV/JSON/PNG), the binaural mixture (WAV) and a JSON of the scene.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from binsynth.errors import PathError

SOURCES = (  # azimuth, elevation, distance, kind
    (70.0, 0.0, 1.8, "sweep"),
    (-30.0, 10.0, 2.2, "beeps"),
    (180.0, 0.0, 1.5, "bursts"),
)


def dry_signal(kind: str, fs_hz: int, duration_s: float, seed: int = 0) -> np.ndarray:
    """Deterministic dry test signals, float32, peak 0.5."""
    t = np.arange(int(duration_s * fs_hz)) / fs_hz
    rng = np.random.default_rng(seed)
    if kind == "sweep":
        f = 700 + 400 * np.sin(2 * np.pi * 0.5 * t)
        x = np.sin(2 * np.pi * np.cumsum(f) / fs_hz)
    elif kind == "beeps":
        x = np.sin(2 * np.pi * 1500 * t) * ((t % 0.5) < 0.12)
    else:
        noise = np.cumsum(rng.standard_normal(t.size)) * 0.02
        noise -= np.convolve(noise, np.ones(64) / 64, mode="same")
        x = noise * ((t % 1.0) < 0.3)
    x = x / (np.abs(x).max() + 1e-12) * 0.5
    return x.astype(np.float32)


def run_demo(out: str | Path, hrtf: str = "axd-example", fs_hz: int = 48000, device: str = "auto") -> list[Path]:
    import soundfile as sf

    from binsynth.acoustics.brir import BRIRSynthesizer
    from binsynth.acoustics.room import ShoeboxRoom
    from binsynth.acoustics.sets import load_hrtf
    from binsynth.render.brir_tool import BrirSpec, write_brir
    from binsynth.dsp.device import resolve_device
    from binsynth.geometry import head_to_room
    from binsynth.io.atomic import atomic_path, write_text_atomic
    from binsynth.render.renderer import Renderer, Scene, Source

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PathError(f"--out {out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    dims, rt60, listener, duration = [7.0, 5.0, 3.0], 0.5, np.array([3.0, 2.5, 1.6]), 6.0
    az, el, dist, _ = SOURCES[0]
    paths = write_brir(
        BrirSpec(hrtf=hrtf, fs_hz=fs_hz, room="x".join(map(str, dims)), room_dims_m=dims, rt60_s=rt60,
                 listener_m=listener.tolist(), azimuth_deg=az, elevation_deg=el, distance_m=dist, device=device),
        out / "brir.wav",
    )
    room = ShoeboxRoom.from_rt60(dims, rt60)
    sources = [
        Source(dry_signal(kind, fs_hz, duration, seed=k), head_to_room(a, e, d, listener, 0.0), onset_s=0.25 * k)
        for k, (a, e, d, kind) in enumerate(SOURCES)
    ]
    scene = Scene(room, listener, sources, duration, seed=1)
    renderer = Renderer(BRIRSynthesizer(load_hrtf(hrtf, fs_hz), fs_hz, resolve_device(device)))
    (mix,), (infos,) = renderer.render([scene])
    peak = float(np.abs(mix).max())
    gain = 0.9 / peak if peak > 0.9 else 1.0  # keep the WAV in range; the gain is recorded
    with atomic_path(out / "scene.wav") as tmp:
        sf.write(tmp, (mix * gain).T, fs_hz, subtype="PCM_16", format="WAV")
    meta = {
        "room": {"dimensions_m": dims, "rt60_s": rt60},
        "listener_m": listener.tolist(),
        "output_gain": gain,
        "sources": [
            {"kind": kind, "azimuth_deg": info.azimuth_deg, "elevation_deg": info.elevation_deg,
             "distance_m": info.distance_m, "onset_s": s.onset_s, "image_order": info.image_order,
             "transition_s": info.transition_s}
            for (_, _, _, kind), s, info in zip(SOURCES, sources, infos)
        ],
        "hrtf": {"name": infos[0].hrtf_name, "sha256": infos[0].hrtf_sha256},
        "fs_hz": fs_hz,
    }
    write_text_atomic(out / "scene.json", json.dumps(meta, indent=2) + "\n")
    return [*paths, out / "scene.wav", out / "scene.json"]
