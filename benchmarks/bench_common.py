"""What the end-to-end benchmarks share: the binsynth command and the demo recipe."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def binsynth_command() -> list[str]:
    """This interpreter's ``binsynth`` script, or ``python -m binsynth`` where none is
    installed (the GPU machine runs the checkout without installing it)."""
    script = Path(sys.executable).with_name("binsynth")
    return [str(script)] if script.exists() else [sys.executable, "-m", "binsynth"]


def demo_recipe() -> dict:
    """``recipes/demo.yaml`` as a mapping, for a benchmark to scale."""
    return yaml.safe_load((ROOT / "recipes" / "demo.yaml").read_text())
