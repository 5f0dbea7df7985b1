"""``binsynth demo``: an example BRIR (WAV + JSON + PNG) and a short binaural scene."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo files (created).")] = Path("demo_out"),
    hrtf: Annotated[str, typer.Option("--hrtf", help="Registry name, SOFA path or 'spherical'.")] = "axd-example",
    fs: Annotated[int, typer.Option("--fs", help="Sample rate in Hz.")] = 48000,
    device: Annotated[str, typer.Option("--device", help="auto | cpu | cuda")] = "auto",
) -> None:
    """Render the embedded default: one BRIR and a 6-second three-source binaural scene."""
    from binsynth.render.demo import run_demo

    for path in run_demo(out, hrtf=hrtf, fs_hz=fs, device=device):
        typer.echo(str(path))
