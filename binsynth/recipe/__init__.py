"""Recipes: the pydantic model and its sections (dataset, audio, sources, placement, room, HRTF,
background, QA, output), parameter distributions, cross-section checks, YAML loading and the
recipe hash. Imports acoustics (rooms, the HRTF registry), corpora (class names), qa (task
names) to check a recipe, and the layers below them; never scenes or anything that renders.
"""

from binsynth import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "model": "Recipe load_recipe parse_recipe recipe_from_mapping recipe_hash resolved_yaml canonical_json format_errors SCHEMA_VERSION",
})
