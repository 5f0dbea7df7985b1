"""``binsynth export``: a rendered dataset in another community's layout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from binsynth.commands import command_group

app = command_group("export", "Write a rendered dataset in another layout (DCASE / STARSS23 SELD).")


@app.command("dcase")
def dcase_command(
    folder: Annotated[Path, typer.Argument(help="Dataset folder rendered with output.receivers: [binaural, foa].")],
    out: Annotated[Path, typer.Option("--out", help="New (or empty) folder for foa_dev/, metadata_dev/, classes.csv.")],
) -> None:
    """FOA WAVs and STARSS23 / DCASE SELD metadata CSVs (100 ms frames: frame, class, source,
    azimuth, elevation, distance in cm), so SELD tool chains read the data as they read STARSS23."""
    from binsynth.dataset.dcase import export_dcase
    from binsynth.dataset.reader import open_dataset
    from binsynth.progress import rate_bar

    ds = open_dataset(folder)
    with rate_bar("export dcase", len(ds.manifest.shards), "shards") as advance:
        n = export_dcase(ds, out, progress=advance)
    typer.echo(f"{out}: {n} scenes (foa_dev/, metadata_dev/, classes.csv)")
