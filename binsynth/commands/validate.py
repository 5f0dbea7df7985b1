"""``binsynth validate RECIPE``: check a recipe without rendering anything.

Valid: ``ok: <name> (<split> <scenes>, …)`` and the recipe's SHA-256 on stdout, exit 0.
Invalid: one ``error: field.path: message`` line per problem on stderr, exit 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def validate_command(
    recipe: Annotated[Path, typer.Argument(metavar="RECIPE", help="Recipe YAML file.")],
    resolved: Annotated[bool, typer.Option(
        "--resolved", help="Also print the resolved recipe (every default spelled out).")] = False,
) -> None:
    """Validate a recipe: every problem is listed with its field path; nothing is written."""
    from binsynth.errors import RecipeError
    from binsynth.recipe.model import load_recipe, recipe_hash, resolved_yaml

    try:
        r = load_recipe(recipe)
    except RecipeError as e:
        for problem in e.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from None
    splits = ", ".join(f"{name} {n}" for name, n in r.dataset.splits.items())
    typer.echo(f"ok: {r.dataset.name} ({splits})")
    typer.echo(f"sha256: {recipe_hash(r)}")
    if resolved:
        typer.echo(resolved_yaml(r), nl=False)
