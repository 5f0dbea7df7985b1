"""Shoebox image sources, enumerated for a batch of rooms at once (torch, any device).

Along one axis of length L, a source at s has images at x = 2 n L + (1 - 2 q) s for
integer n and q ∈ {0, 1}; the path to that image reflects |n - q| times off the wall at 0
and |n| times off the wall at L (Allen & Berkley, JASA 65(4), 1979). The 3-D images are
all combinations over x, y and z; an image's order is its total number of reflections.
pyroomacoustics enumerates the same set (by order); here the set is cut by path length,
so a whole batch is one dense tensor computation followed by a gather.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class ImageSet:
    """Flattened image sources of a batch of requests.

    request: (K,) index of the request each image belongs to.
    position_m: (K, 3) image position in the room frame, metres.
    counts: (K, 6) reflections off walls [x0, xL, y0, yL, z0, zL].
    """

    request: torch.Tensor
    position_m: torch.Tensor
    counts: torch.Tensor

    @property
    def order(self) -> torch.Tensor:
        return self.counts.sum(dim=1)


def _axis_candidates(length: torch.Tensor, src: torch.Tensor, n_max: int):
    """Image coordinates (R, P) and reflection counts (P, 2) along one axis."""
    n = torch.arange(-n_max, n_max + 1, device=length.device)
    n = n.repeat_interleave(2)
    q = torch.tensor([0, 1], device=length.device).repeat(2 * n_max + 1)
    coord = 2 * n[None, :] * length[:, None] + (1 - 2 * q[None, :]) * src[:, None]
    counts = torch.stack([(n - q).abs(), n.abs()], dim=1)
    return coord, counts


def enumerate_images(
    dims_m: torch.Tensor,
    source_m: torch.Tensor,
    listener_m: torch.Tensor,
    max_path_m: torch.Tensor,
    max_order: torch.Tensor,
) -> ImageSet:
    """All images with path length ≤ ``max_path_m`` and order ≤ ``max_order``, per request.

    dims_m, source_m, listener_m: (R, 3) float64; max_path_m: (R,) metres; max_order: (R,) int.
    """
    r = dims_m.shape[0]
    coords, counts = [], []
    for axis in range(3):
        length = dims_m[:, axis]
        span = min(float(torch.max((max_path_m + length) / (2 * length)).item()), 1e6) if r else 0.0
        n_max = int(min(math.ceil(span) + 1, int(max_order.max().item()) // 2 + 1 if r else 0))
        c, k = _axis_candidates(length, source_m[:, axis], max(n_max, 0))
        coords.append(c - listener_m[:, axis : axis + 1])
        counts.append(k)
    dx, dy, dz = coords
    dist2 = dx[:, :, None, None] ** 2 + dy[:, None, :, None] ** 2 + dz[:, None, None, :] ** 2
    order = (
        counts[0].sum(1)[:, None, None] + counts[1].sum(1)[None, :, None] + counts[2].sum(1)[None, None, :]
    )
    keep = (dist2 <= (max_path_m**2)[:, None, None, None]) & (order[None] <= max_order[:, None, None, None])
    req, ix, iy, iz = torch.nonzero(keep, as_tuple=True)
    rel = torch.stack([dx[req, ix], dy[req, iy], dz[req, iz]], dim=1)
    return ImageSet(
        request=req,
        position_m=rel + listener_m[req],
        counts=torch.cat([counts[0][ix], counts[1][iy], counts[2][iz]], dim=1),
    )
