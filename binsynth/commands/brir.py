"""``binsynth brir``: one BRIR (or, with ``--receiver foa``, an AmbiX FOA impulse response) to a
float WAV, a JSON sidecar and a PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from binsynth.errors import ConfigError


def _triple(text: str, what: str) -> list[float]:
    parts = text.replace("x", ",").split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3:
        raise ConfigError(f"{what} {text!r}: expected three numbers in metres like 6x5x3 or 2,1.5,1.2")
    return values


def brir_command(
    out: Annotated[Path, typer.Option("--out", help="Output WAV (float32; binaural: channel 0 = left).")],
    azimuth: Annotated[float, typer.Option("--azimuth", help="Degrees, counter-clockwise from the nose; +90 = left.")],
    elevation: Annotated[float, typer.Option("--elevation", help="Degrees above the horizontal plane.")] = 0.0,
    distance: Annotated[float, typer.Option("--distance", help="Metres from the head centre.")] = 1.5,
    hrtf: Annotated[str, typer.Option("--hrtf", help="Registry name, SOFA path, or 'spherical'.")] = "spherical",
    fs: Annotated[int, typer.Option("--fs", help="Sample rate in Hz.")] = 48000,
    room: Annotated[str, typer.Option("--room", help="LxWxH in metres, or 'anechoic'.")] = "anechoic",
    rt60: Annotated[Optional[float], typer.Option("--rt60", help="Target RT60 at 1 kHz, seconds.")] = None,
    absorption: Annotated[Optional[float], typer.Option("--absorption", help="Wall energy absorption in [0, 1) instead of --rt60.")] = None,
    listener: Annotated[Optional[str], typer.Option("--listener", help="X,Y,Z of the head centre in metres (room frame).")] = None,
    yaw: Annotated[float, typer.Option("--yaw", help="Listener yaw, degrees counter-clockwise from +x.")] = 0.0,
    pitch: Annotated[float, typer.Option("--pitch", help="Listener pitch, degrees, nose up.")] = 0.0,
    max_order: Annotated[Optional[int], typer.Option("--max-order", help="Fixed image-source order, no tail.")] = None,
    no_tail: Annotated[bool, typer.Option("--no-tail", help="Early reflections only.")] = False,
    no_air: Annotated[bool, typer.Option("--no-air", help="No air absorption.")] = False,
    interpolation: Annotated[str, typer.Option("--interpolation", help="nearest | interp (direct sound blended) | interp-all")] = "interp",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the diffuse tail.")] = 0,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda")] = "cpu",
    png: Annotated[bool, typer.Option("--png/--no-png", help="Also write OUT.png with the BRIR.")] = True,
    receiver: Annotated[str, typer.Option("--receiver", help="binaural (2 channels, left first) | foa (4 channels, "
                                                             "AmbiX W, Y, Z, X, SN3D; --hrtf unused)")] = "binaural",
) -> None:
    """Write one room impulse response (time 0 = emission) and what was used to make it: binaural,
    or first-order ambisonic with --receiver foa."""
    from binsynth.render.brir_tool import BrirSpec, write_brir

    spec = BrirSpec(
        hrtf=hrtf, fs_hz=fs, room=room, rt60_s=rt60, absorption=absorption,
        listener_m=_triple(listener, "--listener") if listener else None,
        yaw_deg=yaw, pitch_deg=pitch, azimuth_deg=azimuth, elevation_deg=elevation, distance_m=distance,
        max_order=max_order, tail=not no_tail, air_absorption=not no_air, interpolation=interpolation,
        seed=seed, device=device, receiver=receiver,
        room_dims_m=None if room == "anechoic" else _triple(room, "--room"),
    )
    paths = write_brir(spec, out, png=png)
    for p in paths:
        typer.echo(str(p))
