"""Spatial-encoder pretraining, the curriculum's first stage: before the language model sees
it, the spatial encoder learns the scene labels the shards carry (as BAT pretrains its
spatial encoder on sound class, direction and distance before instruction tuning).

The gradient that reaches the spatial encoder through a small language model during SFT is
weak and noisy; trained directly on the labels, the same encoder localises far better, and
SFT then teaches the language model to read it.

Targets per clip, from its sources' labels (head frame; azimuth counter-clockwise from
straight ahead, +90° = left; elevation up; distance in metres):

* azimuth map: :data:`AZIMUTH_BINS` bins of 10° from −180°, a wrapped Gaussian bump
  (σ = 10°) per source;
* elevation map: bins −60° … 60° every 10°, σ = 10°;
* distance map: bins 0 … 5.75 m every 0.25 m, σ = 0.25 m;
* sound class: multi-hot over the training set's labels.

Several sources: each map is the maximum of the sources' bumps (a direction-of-arrival map,
as in sound event localisation). A linear head on the clip's mean encoder frame predicts all
maps; the loss is the binary cross-entropy averaged over all bins. Only the encoder
carries on into SFT; the head is discarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from binsynth.errors import PathError
from binsynth.trainer import checkpoint
from binsynth.trainer.sft import batch_indices, train_steps

AZIMUTH_BINS = np.arange(-180.0, 180.0, 10.0)
ELEVATION_BINS = np.arange(-60.0, 61.0, 10.0)
DISTANCE_BINS = np.arange(0.0, 6.0, 0.25)
SIGMA_DEG, SIGMA_M = 10.0, 0.25


@dataclass
class PretrainOptions:
    steps: int = 800
    batch_size: int = 32
    lr: float = 1e-3
    warmup_steps: int = 20
    grad_clip: float = 1.0
    save_every: int = 200
    seed: int = 0


def _bumps(values, centres: np.ndarray, sigma: float, wrap: float | None = None) -> np.ndarray:
    """Max over ``values`` of Gaussian bumps on ``centres`` (circular when ``wrap``)."""
    out = np.zeros(len(centres))
    for v in values:
        d = centres - v
        if wrap:
            d = (d + wrap / 2) % wrap - wrap / 2
        out = np.maximum(out, np.exp(-0.5 * (d / sigma) ** 2))
    return out


def label_targets(sources: list[list[dict]], classes: list[str]) -> torch.Tensor:
    """(clips, maps) float32 targets from each clip's source labels (layout in the module
    docstring: azimuth, elevation, distance, class)."""
    rows = []
    for srcs in sources:
        az = _bumps([s["azimuth"] for s in srcs], AZIMUTH_BINS, SIGMA_DEG, wrap=360.0)
        el = _bumps([s["elevation"] for s in srcs], ELEVATION_BINS, SIGMA_DEG)
        dist = _bumps([s["distance"] for s in srcs], DISTANCE_BINS, SIGMA_M)
        labels = {s["label"] for s in srcs}
        rows.append(np.concatenate([az, el, dist, [float(c in labels) for c in classes]]))
    return torch.tensor(np.array(rows), dtype=torch.float32)


def map_slices(n_classes: int) -> dict[str, slice]:
    sizes = {"azimuth": len(AZIMUTH_BINS), "elevation": len(ELEVATION_BINS), "distance": len(DISTANCE_BINS),
             "class": n_classes}
    out, start = {}, 0
    for name, n in sizes.items():
        out[name] = slice(start, start + n)
        start += n
    return out


class _Pretraining(nn.Module):
    """The spatial encoder and its label head, saved together so the stage resumes."""

    def __init__(self, spatial: nn.Module, n_out: int):
        super().__init__()
        self.spatial = spatial
        self.head = nn.Linear(spatial.d_model, n_out)

    def forward(self, feats: torch.Tensor, n_tokens: torch.Tensor) -> torch.Tensor:
        h = self.spatial(feats)                                              # (B, T', d)
        keep = (torch.arange(h.shape[1], device=h.device)[None] < n_tokens[:, None]).to(h.dtype)
        pooled = (h * keep[..., None]).sum(1) / keep.sum(1, keepdim=True).clamp_min(1)
        return self.head(pooled)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        return {n: p.detach() for n, p in self.named_parameters() if p.requires_grad}


def run_pretrain(bundle, clips: list, out: Path, opts: PretrainOptions, progress=None, test_clips=()) -> dict:
    """Train ``bundle.model.spatial`` on the labels of ``clips`` (training clips only);
    resumes from ``out/checkpoint``. Returns the JSON state (``classes``, ``losses`` and,
    with ``test_clips``, ``azimuth_mae_deg``: the encoder's held-out azimuth error)."""
    model = bundle.model
    classes = sorted({s["label"] for c in clips for s in c.sources})
    targets = label_targets([c.sources for c in clips], classes)
    device = next(model.spatial.parameters()).device
    dtype = next(model.spatial.parameters()).dtype
    net = _Pretraining(model.spatial, targets.shape[1]).to(device=device, dtype=dtype)
    optimizer = torch.optim.AdamW(net.parameters(), lr=opts.lr, weight_decay=0.0)
    folder = Path(out) / "checkpoint"
    state = {"step": 0, "losses": [], "classes": classes}
    found = checkpoint.find(folder)
    if found is not None:
        state = checkpoint.load(found, net, optimizer)
        if state["classes"] != classes:
            raise PathError(f"{found}: pretrained on other sound classes; remove {Path(out)} to start over")
    net.train()
    tokens = torch.tensor([c.n_tokens for c in clips])

    def batch_loss(step: int) -> torch.Tensor:
        idx = batch_indices(len(clips), opts.batch_size, step, opts.seed)
        feats = torch.stack([clips[i].spatial for i in idx]).to(device=device, dtype=dtype)
        logits = net(feats, tokens[idx].to(device))
        # one mean over every map bin: the azimuth map (the most bins) weighs most; a sum of
        # per-map means localised worse (held-out azimuth error 30° vs 24°, 750 steps)
        return nn.functional.binary_cross_entropy_with_logits(logits.float(), targets[idx].to(device))

    def held_out_error(state: dict) -> None:
        net.eval()
        state["azimuth_mae_deg"] = azimuth_error_deg(net, list(test_clips))

    train_steps(net, optimizer, list(net.parameters()), folder, state, opts, batch_loss, progress, held_out_error)
    net.eval()
    return state


def load_encoder(folder: Path, model) -> None:
    """Copy the pretrained spatial encoder from a pretraining checkpoint into ``model``."""
    from safetensors.torch import load_file

    weights = load_file(str(Path(folder) / checkpoint.WEIGHTS))
    own = model.spatial.state_dict()
    enc = {k[len("spatial."):]: v for k, v in weights.items() if k.startswith("spatial.")}
    if set(enc) != set(own) or any(enc[k].shape != own[k].shape for k in own):
        raise PathError(f"{folder}: its spatial encoder does not fit this model (other n_bands or spatial_dim?)")
    model.spatial.load_state_dict(enc)


def azimuth_error_deg(net: _Pretraining, clips: list, batch_size: int = 64) -> float | None:
    """Mean absolute azimuth error (degrees, circular) of the azimuth map's peak on the
    single-source ``clips``: how well the encoder alone localises. ``None`` without any."""
    single = [c for c in clips if len(c.sources) == 1]
    if not single:
        return None
    p = next(net.parameters())
    errs = []
    with torch.no_grad():
        for k in range(0, len(single), batch_size):
            part = single[k:k + batch_size]
            feats = torch.stack([c.spatial for c in part]).to(device=p.device, dtype=p.dtype)
            logits = net(feats, torch.tensor([c.n_tokens for c in part], device=p.device))
            peak = AZIMUTH_BINS[logits[:, map_slices(0)["azimuth"]].float().argmax(1).cpu().numpy()]
            truth = np.array([c.sources[0]["azimuth"] for c in part])
            errs += list(np.abs((peak - truth + 180.0) % 360.0 - 180.0))
    return float(np.mean(errs))
