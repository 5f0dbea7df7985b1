"""Nearest measured directions through cell lists (binsynth.acoustics.lookup) against a full
comparison with every direction: the same three nearest cosines and the same nearest index
everywhere on the sphere (random directions, the poles, cell corners, measured directions)."""

from __future__ import annotations

import numpy as np
import torch

from binsynth.acoustics.lookup import CELL_DEG, MIN_DIRECTIONS, DirectionIndex, direction_index


def _full(unit: torch.Tensor, units: torch.Tensor):
    sims = sum(unit[:, c, None] * units[None, :, c] for c in range(3))
    return sims.topk(3, dim=1).values, sims.argmax(dim=1)


def _indexed(index: DirectionIndex, unit: torch.Tensor, units: torch.Tensor):
    cand = index.candidates(unit)
    padded = torch.cat([units, units.new_zeros(1, 3)])[cand]
    sims = sum(unit[:, c, None] * padded[:, :, c] for c in range(3)).masked_fill(cand == units.shape[0], -3.0)
    return sims.topk(3, dim=1).values, cand.gather(1, sims.argmax(dim=1, keepdim=True))[:, 0]


def _queries(rng, units: np.ndarray) -> torch.Tensor:
    random = rng.normal(size=(100_000, 3))
    az, el = np.meshgrid(np.arange(-180.0, 180.0, CELL_DEG), np.arange(-90.0, 90.0 + 1e-9, CELL_DEG))
    corners = np.stack([np.cos(np.radians(el)) * np.cos(np.radians(az)), np.cos(np.radians(el)) * np.sin(np.radians(az)),
                        np.sin(np.radians(el))], -1).reshape(-1, 3)
    poles = np.array([[0, 0, 1.0], [0, 0, -1.0], [1e-9, 0, 1.0], [-1.0, 0, 0], [-1.0, -1e-12, 0]])
    u = np.concatenate([random, corners, poles, units, units + rng.normal(scale=1e-4, size=units.shape)])
    return torch.as_tensor(u / np.linalg.norm(u, axis=1, keepdims=True), dtype=torch.float32)


def test_cell_lists_find_what_a_full_comparison_finds(axd48):
    units_np = np.asarray(axd48.unit_vectors)
    units = torch.as_tensor(units_np, dtype=torch.float32)
    index = DirectionIndex(units_np, torch.device("cpu"))
    assert index.width < units.shape[0] / 5  # it does save work
    q = _queries(np.random.default_rng(7), units_np)
    top, nearest = _full(q, units)
    top_i, nearest_i = _indexed(index, q, units)
    assert torch.equal(top, top_i)
    assert torch.equal(nearest, nearest_i)


def test_a_short_list_that_misses_the_nearest_would_be_caught(axd48):
    """Dropping each cell's best candidate makes the comparison fail: the test can fail."""
    units_np = np.asarray(axd48.unit_vectors)
    units = torch.as_tensor(units_np, dtype=torch.float32)
    index = DirectionIndex(units_np, torch.device("cpu"))
    q = _queries(np.random.default_rng(8), units_np)[:20_000]
    broken = DirectionIndex.__new__(DirectionIndex)
    broken.__dict__.update(index.__dict__)
    broken._cand = index._cand[:, 1:]  # the lowest-index candidate of every cell gone
    assert not torch.equal(_full(q, units)[0], _indexed(broken, q, units)[0])


def test_small_sets_are_compared_in_full():
    units = np.eye(3)[: 3]
    assert direction_index(units, "tiny", torch.device("cpu")) is None
    assert MIN_DIRECTIONS >= 3
