"""Build one BRIR from user-level parameters and write WAV + JSON sidecar (+ PNG)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import binsynth
from binsynth.errors import ConfigError, PathError
from binsynth.io.jsonutil import plain


#: What can listen: a binaural head (HRTF set) or a first-order ambisonic microphone (AmbiX).
RECEIVERS = ("binaural", "foa")


@dataclass
class BrirSpec:
    """A BRIR as the user asks for it. Angles in degrees (head frame), lengths in metres."""

    hrtf: str
    fs_hz: int
    room: str
    azimuth_deg: float
    elevation_deg: float
    distance_m: float
    room_dims_m: list[float] | None = None
    rt60_s: float | None = None
    absorption: float | None = None
    listener_m: list[float] | None = None
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    max_order: int | None = None
    tail: bool = True
    air_absorption: bool = True
    interpolation: str = "interp"
    seed: int = 0
    device: str = "cpu"
    receiver: str = "binaural"

    def check(self) -> None:
        if self.receiver not in RECEIVERS:
            raise ConfigError(f"--receiver {self.receiver!r}: expected one of {', '.join(RECEIVERS)}")
        if self.receiver == "foa" and self.interpolation not in ("nearest", "interp", "interp-all"):
            raise ConfigError(f"--interpolation {self.interpolation!r}: expected nearest, interp or interp-all")
        if not 8000 <= self.fs_hz <= 192000:
            raise ConfigError(f"--fs {self.fs_hz}: expected a sample rate in Hz between 8000 and 192000")
        if not -90.0 <= self.elevation_deg <= 90.0:
            raise ConfigError(f"--elevation {self.elevation_deg}: expected degrees in [-90, 90]")
        if not np.isfinite(self.azimuth_deg):
            raise ConfigError(f"--azimuth {self.azimuth_deg}: expected a finite angle in degrees")
        if not (np.isfinite(self.distance_m) and self.distance_m > 0):
            raise ConfigError(f"--distance {self.distance_m}: expected a positive distance in metres")
        if self.room_dims_m is not None:
            if (self.rt60_s is None) == (self.absorption is None):
                raise ConfigError("--room LxWxH needs exactly one of --rt60 S or --absorption ALPHA")
            if self.rt60_s is not None and not self.rt60_s > 0:
                raise ConfigError(f"--rt60 {self.rt60_s}: expected a positive time in seconds")
            if self.listener_m is None:
                raise ConfigError("--room LxWxH needs --listener X,Y,Z (metres, room frame)")
        elif self.rt60_s is not None or self.absorption is not None:
            raise ConfigError("--rt60/--absorption need a room: give --room LxWxH (not anechoic)")
        if self.max_order is not None and self.max_order < 0:
            raise ConfigError(f"--max-order {self.max_order}: expected an integer >= 0")


def build_brir(spec: BrirSpec):
    """(impulse response (channels, n) float32 numpy, sidecar dict): (2, n) binaural, or
    (4, n) AmbiX W, Y, Z, X for ``receiver="foa"`` (the HRTF options are then unused)."""
    from binsynth.acoustics.brir import BRIRRequest, BRIRSynthesizer
    from binsynth.acoustics.room import ShoeboxRoom
    from binsynth.acoustics.sets import load_hrtf
    from binsynth.dsp.device import resolve_device
    from binsynth.geometry import head_to_room

    spec.check()
    room = None
    if spec.room_dims_m is not None:
        if spec.rt60_s is not None:
            room = ShoeboxRoom.from_rt60(spec.room_dims_m, spec.rt60_s, air_absorption=spec.air_absorption)
        else:
            room = ShoeboxRoom(spec.room_dims_m, np.full((6, 7), spec.absorption), air_absorption=spec.air_absorption)
    listener = np.asarray(spec.listener_m if spec.listener_m is not None else [0.0, 0.0, 0.0], dtype=np.float64)
    source = head_to_room(spec.azimuth_deg, spec.elevation_deg, spec.distance_m, listener, spec.yaw_deg, spec.pitch_deg)
    request = BRIRRequest(
        room, listener, source, spec.yaw_deg, spec.pitch_deg, seed=spec.seed, max_order=spec.max_order,
        tail=spec.tail, air_absorption=spec.air_absorption,
    )
    if spec.receiver == "foa":
        from binsynth.acoustics.foa import FOASynthesizer

        hrtf, synth = None, FOASynthesizer(spec.fs_hz, resolve_device(spec.device))
    else:
        hrtf = load_hrtf(spec.hrtf, spec.fs_hz)
        synth = BRIRSynthesizer(hrtf, spec.fs_hz, resolve_device(spec.device), spec.interpolation)
    (brir,), (info,) = synth.synthesize([request])
    frames = {
        "time_zero": "source emission",
        "head_frame": "AES69: x nose, y left, z up; azimuth deg CCW from front (+90 = left); elevation deg up",
        "room_frame": "metres, origin at a floor corner, z up; yaw deg CCW from +x",
    }
    sidecar = {
        "binsynth_version": binsynth.__version__,
        "conventions": {
            "channels": list(synth.channels), **frames,
            "level": "direct path amplitude 1/r (r in metres) times the HRIR, HRTF set normalised to unit diffuse-field energy",
        } if hrtf is not None else {
            "channels": list(synth.channels),
            "format": "AmbiX: ACN order W, Y, Z, X; SN3D; head frame (the DCASE / STARSS23 FOA definition): "
                      "W = 1, Y = sin(az) cos(el), Z = sin(el), X = cos(az) cos(el)",
            **frames,
            "level": "direct path: W amplitude 1/r (r in metres), band-limited above 0.8 of Nyquist",
        },
        "request": asdict(spec),
        "source_position_m": [float(x) for x in source],
        "room": None if room is None else {
            "dimensions_m": room.dimensions_m.tolist(),
            "absorption": room.absorption.tolist(),
            "rt60_target_s": room.rt60_target_s,
            "rt60_eyring_s": room.rt60_s.tolist(),
            "air_absorption": room.air_absorption,
        },
        "hrtf": None if hrtf is None else {
            "name": hrtf.name, "sha256": hrtf.sha256, "source": hrtf.source, "fs_hz": hrtf.fs_hz, "normalisation_gain": hrtf.gain,
        },
        "brir": asdict(info),
    }
    return brir.cpu().numpy(), sidecar


def write_brir(spec: BrirSpec, out: str | Path, png: bool = True) -> list[Path]:
    """Write OUT (float WAV), OUT.json and optionally OUT.png; each atomically."""
    import soundfile as sf

    from binsynth.io.atomic import atomic_path, write_text_atomic

    out = Path(out)
    if out.suffix.lower() != ".wav":
        raise ConfigError(f"--out {out}: expected a .wav file name")
    if not out.parent.is_dir():
        raise PathError(f"--out {out}: folder {out.parent} does not exist")
    brir, sidecar = build_brir(spec)
    written = []
    with atomic_path(out) as tmp:
        sf.write(tmp, brir.T, spec.fs_hz, subtype="FLOAT", format="WAV")
    written.append(out)
    side = out.with_suffix(".json")
    write_text_atomic(side, json.dumps(sidecar, indent=2, default=plain) + "\n")
    written.append(side)
    if png:
        from binsynth.plots.brir import plot_brir

        image = out.with_suffix(".png")
        with atomic_path(image) as tmp:
            plot_brir(brir, spec.fs_hz, sidecar, tmp)
        written.append(image)
    return written

