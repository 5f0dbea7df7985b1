"""Supervised fine-tuning on the shards' QA: cross-entropy on the answer tokens only.

With ``turns`` > 1 the questions about one clip are asked as one dialogue (each later
question a new user turn after the reference reply), so the audio and the system prompt
are encoded once for up to ``turns`` answers; a batch holds ``batch_size`` dialogues.

The audio side (spatial encoder, projector) learns at ``audio_lr_scale`` × the LM side's
rate: after pretraining, a full-rate start (the projector random, the LM untrained) drags the
pretrained encoder away from what it learned (8-sector probe 61 % at 1 × vs 83 % at 0.3 ×,
1,500 steps, 2-core CPU).

Batches are drawn without replacement, epoch by epoch, in an order that depends only on
(seed, epoch), so a resumed run (from the checkpoint in ``out/checkpoint``) sees exactly the
batches the uninterrupted run would have.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from binsynth.trainer import checkpoint
from binsynth.trainer.data import collate, dialogues


@dataclass
class SFTOptions:
    steps: int = 300
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_steps: int = 20
    grad_clip: float = 1.0
    save_every: int = 50
    seed: int = 0
    turns: int = 1
    audio_lr_scale: float = 1.0


def batch_indices(n: int, batch_size: int, step: int, seed: int) -> list[int]:
    """Example indices of batch ``step`` (0-based): epochs of a (seed, epoch) permutation."""
    out = []
    pos = step * batch_size
    while len(out) < batch_size:
        epoch, offset = divmod(pos, n)
        order = np.random.default_rng([seed, epoch]).permutation(n)
        take = min(batch_size - len(out), n - offset)
        out += [int(i) for i in order[offset:offset + take]]
        pos += take
    return out


AUDIO_SIDE = ("spatial.", "projector.")


def param_groups(named, audio_lr_scale: float, keep=lambda name: True) -> list[dict]:
    """Trainable parameters (those ``keep`` accepts) as two AdamW groups, the LM side and the
    audio side (spatial encoder, projector), each with its ``scale`` of the learning rate."""
    lm, audio = [], []
    for n, p in named:
        if p.requires_grad and keep(n):
            (audio if n.startswith(AUDIO_SIDE) else lm).append(p)
    return [{"params": lm, "scale": 1.0}, {"params": audio, "scale": audio_lr_scale}]


def lr_at(step: int, opts: SFTOptions) -> float:
    """Linear warm-up, then cosine decay to 10 % of ``lr``."""
    if step < opts.warmup_steps:
        return opts.lr * (step + 1) / opts.warmup_steps
    t = (step - opts.warmup_steps) / max(1, opts.steps - opts.warmup_steps)
    return opts.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def run_sft(bundle, examples: list, clips: list, out: Path, opts: SFTOptions, progress=None) -> dict:
    """Train ``bundle.model`` on ``examples``; resumes from ``out/checkpoint`` when present.
    ``progress(step, loss)`` is called after each step. Returns the final JSON state."""
    model = bundle.model
    items = dialogues(examples, opts.turns) if opts.turns > 1 else list(examples)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(param_groups(model.named_parameters(), opts.audio_lr_scale),
                                  lr=opts.lr, weight_decay=opts.weight_decay)
    folder = Path(out) / "checkpoint"
    state = {"step": 0, "losses": []}
    found = checkpoint.find(folder)
    if found is not None:
        state = checkpoint.load(found, model, optimizer)
    model.train()
    torch.manual_seed(opts.seed + state["step"])

    def batch_loss(step: int) -> torch.Tensor:
        batch = collate([items[i] for i in batch_indices(len(items), opts.batch_size, step, opts.seed)],
                        clips, bundle.tokenizer)
        return model(**batch).loss

    train_steps(model, optimizer, params, folder, state, opts, batch_loss, progress)
    model.eval()
    return state


def train_steps(net, optimizer, params: list, folder: Path, state: dict, opts, batch_loss, progress=None,
                before_last_save=None) -> dict:
    """The supervised loop SFT and pretraining share: from ``state["step"]`` to ``opts.steps``,
    each step's learning rate from :func:`lr_at` (× its group's ``scale``), ``batch_loss(step)``,
    clipped gradients, an AdamW step, ``progress(step, loss)``, and a checkpoint of ``net``
    every ``opts.save_every`` steps and at the end (``before_last_save(state)`` first)."""
    while state["step"] < opts.steps:
        step = state["step"]
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, opts) * group.get("scale", 1.0)
        t0 = time.perf_counter()
        loss = batch_loss(step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, opts.grad_clip)
        optimizer.step()
        state["step"] = step + 1
        state["losses"].append(round(loss.item(), 5))
        state["seconds"] = state.get("seconds", 0.0) + time.perf_counter() - t0
        if progress is not None:
            progress(state["step"], state["losses"][-1])
        if state["step"] == opts.steps and before_last_save is not None:
            before_last_save(state)
        if state["step"] % opts.save_every == 0 or state["step"] == opts.steps:
            checkpoint.save(folder, net, optimizer, state)
    return state
