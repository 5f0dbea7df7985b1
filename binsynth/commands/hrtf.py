"""``binsynth hrtf``: list the registered HRTF sets, pull one into the cache, inspect one.

Thin wrappers over :mod:`binsynth.acoustics.registry`; ``pull`` prints only the cached path
on stdout (messages and progress go to stderr), so ``$(binsynth hrtf pull NAME)`` works.
"""

from __future__ import annotations

from typing import Annotated

import typer

from binsynth.commands import command_group

app = command_group("hrtf", "Registered HRTF sets: list them, pull one (download + SHA-256 check), show info.")


@app.command("list")
def list_command() -> None:
    """Show every registered set: name, kind, licence and whether it is in the cache."""
    from rich.console import Console
    from rich.table import Table

    from binsynth.acoustics import registry

    table = Table(title=f"HRTF sets (cache: {registry.cache_dir()})", title_justify="left")
    for column in ("name", "kind", "licence", "cached"):
        table.add_column(column, overflow="fold")
    for entry in registry.list_entries():
        cached = "yes" if registry.cached_path(entry.name) else "no"
        table.add_row(entry.name, entry.kind, entry.licence, cached)
    Console().print(table)


@app.command("pull")
def pull_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Registry name (see `binsynth hrtf list`).")],
    sha256: Annotated[str | None, typer.Option(
        "--sha256", help="Expected SHA-256 of the .sofa, for sets the registry has none for.")] = None,
    trust_on_first_use: Annotated[bool, typer.Option(
        "--trust-on-first-use", help="Accept and record the observed SHA-256 of an unpinned set.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Delete the cached copy and fetch again.")] = False,
    mirror: Annotated[str | None, typer.Option(
        "--mirror", help="Base URL serving the files under their upstream names "
        "(default: $BINSYNTH_HRTF_MIRROR).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Fetch a registered set into the cache, verify its SHA-256 and print its path."""
    from rich.console import Console

    from binsynth.acoustics import registry

    path = registry.pull(
        name, mirror=mirror, progress=not quiet, sha256=sha256,
        trust_on_first_use=trust_on_first_use, force=force,
    )
    entry = registry.get_entry(name)
    if entry.sha256 is None and entry.kind != "builtin":
        recorded = registry.recorded_sha256(name)
        how = ("as given with --sha256" if sha256
               else "trusted on first use" if trust_on_first_use else "recorded earlier")
        Console(stderr=True).print(
            f"{name}: verified against sha256 {recorded} ({how}); no published checksum exists",
            soft_wrap=True,
        )
    typer.echo(str(path))


@app.command("info")
def info_command(
    name_or_path: Annotated[str, typer.Argument(
        metavar="NAME_OR_PATH", help="Registry name or path of a .sofa file.")],
) -> None:
    """Describe a set: convention, sampling rate, directions, taps, ranges, SHA-256, licence."""
    from rich.console import Console
    from rich.markup import escape

    from binsynth.acoustics import registry

    entry, summary = registry.describe(name_or_path)
    rows: list[tuple[str, str]] = []
    if entry is not None:
        rows += [("name", entry.name), ("description", entry.description), ("kind", entry.kind),
                 ("source", entry.source), ("licence", entry.licence), ("citation", entry.citation)]
    if summary is not None:
        rows += [
            ("path", str(summary.path)),
            ("convention", summary.convention),
            ("fs", f"{summary.fs_hz:g} Hz"),
            ("directions", str(summary.n_directions)),
            ("taps", str(summary.n_taps)),
            ("azimuth", "{:g} .. {:g} deg".format(*summary.azimuth_range_deg)),
            ("elevation", "{:g} .. {:g} deg".format(*summary.elevation_range_deg)),
            ("distance", "{:g} .. {:g} m".format(*summary.distance_range_m)),
            ("sha256 (model)" if entry is not None and entry.kind == "builtin" else "sha256",
             summary.sha256),
        ]
        if summary.title:
            rows.append(("title (file)", summary.title))
        if summary.file_licence:
            rows.append(("licence (file)", summary.file_licence))
    elif entry is not None:
        rows += [("sha256", entry.sha256 or "(none published)"),
                 ("cached", f"no: run `binsynth hrtf pull {entry.name}` for file details")]
    console = Console()
    width = max(len(key) for key, _ in rows)
    for key, value in rows:  # one line per field, never wrapped: easy to grep
        console.print(f"[bold]{key:<{width}}[/bold]  {escape(value)}", soft_wrap=True)
