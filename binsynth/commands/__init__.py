"""CLI sub-commands; each module declares options and forwards to the library.

The top of the layout: may import every package, inside the command (heavy imports such as
torch happen only when a command runs). Nothing in the library imports a command.
"""

from __future__ import annotations

import typer


def command_group(name: str, help: str) -> typer.Typer:
    """A typer app for ``binsynth`` or one of its sub-command groups: usage without arguments
    shows help, no shell-completion commands, plain tracebacks off (``cli.main`` turns a
    binsynth error into one line)."""
    return typer.Typer(name=name, help=help, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
