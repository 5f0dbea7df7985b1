"""The ``binsynth`` command line: thin wrappers that parse, call the library and report.

Heavy imports (torch, sofar, matplotlib) happen inside commands, not at import time.
Any :class:`~binsynth.errors.BinsynthError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import sys

from binsynth.commands import command_group
from binsynth.commands.brir import brir_command
from binsynth.commands.demo import demo_command
from binsynth.commands.export import app as export_app
from binsynth.commands.hrtf import app as hrtf_app
from binsynth.commands.inspect import inspect_command, replay_command, stats_command, verify_command
from binsynth.commands.preview import preview_command
from binsynth.commands.render import render_command
from binsynth.commands.train import app as train_app
from binsynth.commands.validate import validate_command

app = command_group("binsynth", "binsynth: a binaural dataset factory.")
app.command("brir")(brir_command)
app.command("demo")(demo_command)
app.command("render")(render_command)
app.command("validate")(validate_command)
app.command("preview")(preview_command)
app.command("inspect")(inspect_command)
app.command("stats")(stats_command)
app.command("replay")(replay_command)
app.command("verify")(verify_command)
app.add_typer(hrtf_app, name="hrtf")
app.add_typer(export_app, name="export")
app.add_typer(train_app, name="train")


def main() -> None:
    """Console entry point. click handles usage errors itself (exit 2); a binsynth error
    becomes one line on stderr and exit code 2, with no traceback."""
    from binsynth.errors import BinsynthError

    try:
        app()
    except BinsynthError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
