"""Nearest measured directions without comparing against every one of them.

An HRTF set measures M directions; an image source needs the one (or three) nearest its
arrival direction. Comparing against all M costs K × M cosines for K images. Here the
sphere is cut into cells of ``CELL_DEG`` in azimuth and elevation; each cell lists the
measured directions that can be among the three nearest of *any* point in it: with c the
cell's centre, ρ the largest angle from c to a point of the cell and θ₃(c) the angle from c
to its third-nearest direction, a point q of the cell has its three nearest within
θ₃(c) + ρ of itself, so none of them lies beyond θ₃(c) + 2ρ of c (triangle inequality on
the sphere). Each lookup then compares against that short list only. The cosines are
computed exactly as the full comparison computes them (the same float32 products and sums
in the same order), so the answer is the same (barring exact ties).

Angles in degrees; unit vectors in the head frame (+x nose, +y left, +z up).
"""

from __future__ import annotations

import numpy as np
import torch

#: Cell size in azimuth and elevation, degrees.
CELL_DEG = 2.0
#: Extra angle every candidate list covers, degrees (float32 rounding of the query's angles).
SLACK_DEG = 0.2
#: Below this many directions a full comparison is as cheap.
MIN_DIRECTIONS = 64


def _units(az_deg: np.ndarray, el_deg: np.ndarray) -> np.ndarray:
    az, el = np.radians(az_deg), np.radians(el_deg)
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], -1)


_CACHE: dict = {}


def direction_index(units: np.ndarray, key: str, device: torch.device) -> "DirectionIndex | None":
    """The index of a set's directions (built once per set, rate-independent), or None when a
    full comparison is as cheap (at most :data:`MIN_DIRECTIONS` directions)."""
    units = np.asarray(units)
    if units.shape[0] <= MIN_DIRECTIONS:
        return None
    cache_key = (key, units.shape[0], str(torch.device(device)))
    if cache_key not in _CACHE:
        if len(_CACHE) >= 8:
            _CACHE.clear()
        _CACHE[cache_key] = DirectionIndex(units, device)
    return _CACHE[cache_key]


class DirectionIndex:
    """Candidate lists of measured directions (M, 3) per cell of the sphere; ``k`` nearest kept."""

    def __init__(self, units: np.ndarray, device: torch.device, k: int = 3):
        units = np.asarray(units, dtype=np.float64)
        self.n_az, self.n_el = int(round(360 / CELL_DEG)), int(round(180 / CELL_DEG))
        az0 = -180.0 + CELL_DEG * np.arange(self.n_az)
        el0 = -90.0 + CELL_DEG * np.arange(self.n_el)
        # cell centres, and points over each cell's area (edges included) for its radius
        grid_el, grid_az = np.meshgrid(el0, az0, indexing="ij")  # (n_el, n_az)
        centre = _units(grid_az + CELL_DEG / 2, grid_el + CELL_DEG / 2).reshape(-1, 3)
        steps = np.linspace(0.0, CELL_DEG, 5)
        radius = np.zeros(centre.shape[0])
        for da in steps:
            for de in steps:
                p = _units(grid_az + da, grid_el + de).reshape(-1, 3)
                radius = np.maximum(radius, np.degrees(np.arccos(np.clip((p * centre).sum(1), -1, 1))))
        # compared as cosines (float32: the slack covers its rounding), one arccos per cell
        cosines = torch.as_tensor(centre, dtype=torch.float32) @ torch.as_tensor(units.T, dtype=torch.float32)
        kth_cos = cosines.topk(k, dim=1).values[:, -1].double().clamp(-1.0, 1.0).numpy()
        reach = np.minimum(np.degrees(np.arccos(kth_cos)) + 2 * radius + SLACK_DEG, 180.0)
        hits = (cosines >= torch.as_tensor(np.cos(np.radians(reach)), dtype=torch.float32)[:, None]).numpy()
        rows, cols = np.nonzero(hits)  # row by row, ascending
        counts = np.bincount(rows, minlength=centre.shape[0])
        width = int(counts.max())
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        cand = np.full((centre.shape[0], width), units.shape[0], dtype=np.int64)  # pad: the dummy row M
        cand[rows, np.arange(rows.size) - starts[rows]] = cols
        self.width = width
        self.device = torch.device(device)
        self._cand = torch.as_tensor(cand, device=self.device)

    def candidates(self, unit: torch.Tensor) -> torch.Tensor:
        """(K, width) indices into the measured directions (the value M pads a short list)."""
        u = unit.to(torch.float64)
        el = torch.rad2deg(torch.asin(u[:, 2].clamp(-1.0, 1.0)))
        az = torch.rad2deg(torch.atan2(u[:, 1], u[:, 0]))
        i_el = ((el + 90.0) / CELL_DEG).floor().long().clamp(0, self.n_el - 1)
        i_az = ((az + 180.0) / CELL_DEG).floor().long().remainder(self.n_az)
        return self._cand[i_el * self.n_az + i_az]
