"""Training checkpoints: the trainable weights (safetensors), the optimizer state and a JSON
state, written to a temporary folder and renamed over the last one, so a run killed at any
moment leaves a complete checkpoint to resume from. Loading uses safetensors and
``torch.load(weights_only=True)``: no pickle of arbitrary objects.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

from binsynth.errors import PathError

WEIGHTS, OPTIMIZER, STATE = "trainable.safetensors", "optimizer.pt", "state.json"


def save(folder: Path, model, optimizer, state: dict) -> None:
    from safetensors.torch import save_file

    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.contiguous().cpu() for k, v in model.trainable_state().items()}, str(tmp / WEIGHTS))
    if optimizer is not None:
        torch.save(optimizer.state_dict(), tmp / OPTIMIZER)
    (tmp / STATE).write_text(json.dumps(state, indent=1))
    for f in tmp.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def find(folder: Path) -> Path | None:
    """The complete checkpoint at ``folder`` (or the previous one a crash left at ``.old``)."""
    for cand in (Path(folder), Path(folder).with_name(Path(folder).name + ".old")):
        if (cand / STATE).is_file() and (cand / WEIGHTS).is_file():
            return cand
    return None


def load(folder: Path, model, optimizer=None) -> dict:
    """Load weights (and optimizer state) into ``model``; returns the JSON state."""
    from safetensors.torch import load_file

    weights = load_file(str(Path(folder) / WEIGHTS))
    params = dict(model.named_parameters())
    expected = set(model.trainable_state())
    if set(weights) != expected:
        extra, missing = sorted(set(weights) - expected)[:3], sorted(expected - set(weights))[:3]
        raise PathError(f"checkpoint {folder}: does not fit this model (unexpected {extra}, missing {missing})")
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value)
    if optimizer is not None and (Path(folder) / OPTIMIZER).is_file():
        optimizer.load_state_dict(torch.load(Path(folder) / OPTIMIZER, weights_only=True))
    return json.loads((Path(folder) / STATE).read_text())
