"""Choosing the torch device."""

from __future__ import annotations

import torch

from binsynth.errors import ConfigError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' → CUDA when available, else CPU; 'cuda' without a GPU is an error."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r}: no CUDA GPU is visible to torch; use --device cpu or auto")
    if name != "cpu" and not name.startswith("cuda"):
        raise ConfigError(f"device {name!r}: expected auto, cpu or cuda[:N]")
    return torch.device(name)
