"""Group Relative Policy Optimisation, our own loop (trl's GRPOTrainer drops the audio inputs
when it computes the loss, so it would train on placeholder embeddings).

Per step: ``prompts_per_step`` questions; ``group_size`` replies sampled for each from the
current policy (temperature ``temperature``); rule-based rewards
(:mod:`binsynth.trainer.rewards`); advantages normalised within each group,
``A = (r - mean) / (std + 1e-4)`` (groups whose replies all score the same have A = 0: without
a KL term they are dropped, with one they stay as its anchor); then ``updates_per_batch`` gradient steps on the clipped objective

    L = -mean_seq mean_tok min(ρ A, clip(ρ, 1-ε, 1+ε) A) + β · KL_k3(π ‖ π_ref)

with ρ = π(token) / π_old(token) (π_old: the policy that sampled), and the KL (the "k3"
estimator, exp(q) - q - 1 with q = log π_ref - log π) to a reference policy when β > 0:
``reference="base"`` is the same model with its LoRA adapters disabled (for a pretrained
LM); ``reference="sft"`` is the policy GRPO started from (its trainable weights are kept in
``out/reference.safetensors``) — the choice when the LM's embeddings were trained too, as in
the tiny model, where "adapters off" is an untrained LM. The loop resumes from
``out/checkpoint`` like SFT; the sampling generator is reseeded from (seed, step).

π is the sampling policy, softmax(logits / ``temperature``), in the ratio and the KL alike.
With ``graded_credit`` > 0 the training reward gives near misses of angles and distances
part of a hit (:mod:`binsynth.trainer.rewards`; evaluation keeps the exact reward).
Prompts are drawn uniformly from the training questions, or by ``task_weights`` (weight per
QA task, 1 for unlisted ones). The audio side (spatial encoder, projector) learns at
``audio_lr_scale`` × ``lr``, or not at all with ``update_audio_side=False``.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from binsynth.errors import ConfigError
from binsynth.trainer import checkpoint
from binsynth.trainer.data import IGNORE, collate
from binsynth.trainer.generation import decode, generate_replies
from binsynth.trainer.rewards import RewardOptions, score
from binsynth.trainer.sft import AUDIO_SIDE, param_groups


@dataclass
class GRPOOptions:
    steps: int = 60
    prompts_per_step: int = 8
    group_size: int = 8
    temperature: float = 1.0
    max_new_tokens: int = 24
    lr: float = 2e-4
    clip_eps: float = 0.2
    kl_coef: float = 0.02
    reference: str = "sft"
    updates_per_batch: int = 1
    update_full_modules: bool = False
    update_audio_side: bool = True
    audio_lr_scale: float = 1.0
    grad_clip: float = 1.0
    save_every: int = 20
    seed: int = 0
    task_weights: dict = field(default_factory=dict)
    graded_credit: float = 0.0
    rewards: RewardOptions = field(default_factory=RewardOptions)


def token_logprobs(model, batch: dict, use_adapters: bool = True,
                   temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(log π of each label token, mask of label tokens), both (B, T-1), for a right-padded
    batch; π is the sampling policy, softmax(logits / temperature)."""
    labels = batch["labels"]
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    if use_adapters:
        logits = model(**inputs).logits
    else:
        with model.lm.disable_adapter():
            logits = model(**inputs).logits
    logits = logits[:, :-1].float() / temperature
    target = labels[:, 1:]
    mask = target != IGNORE
    logp = torch.log_softmax(logits, dim=-1).gather(-1, target.clamp_min(0)[..., None])[..., 0]
    return logp * mask, mask


@contextlib.contextmanager
def swapped_weights(model, weights: dict):
    """The model with ``weights`` (a trainable-state dict) in place of its own, restored after."""
    params = dict(model.named_parameters())
    saved = {n: params[n].detach().clone() for n in weights}
    with torch.no_grad():
        for n, w in weights.items():
            params[n].copy_(w)
    try:
        yield model
    finally:
        with torch.no_grad():
            for n, w in saved.items():
                params[n].copy_(w)


def reference_weights(model, folder: Path) -> dict:
    """The trainable weights GRPO started from: saved on the first call, read on resume."""
    from safetensors.torch import load_file, save_file

    path = Path(folder) / "reference.safetensors"
    if path.is_file():
        return load_file(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = {k: v.clone().contiguous() for k, v in model.trainable_state().items()}
    tmp = path.with_suffix(".tmp")
    save_file(weights, str(tmp))
    tmp.rename(path)
    return weights


def group_advantages(rewards: np.ndarray) -> np.ndarray:
    """(prompts, group) rewards → advantages normalised within each group (0 where flat)."""
    mean = rewards.mean(axis=1, keepdims=True)
    std = rewards.std(axis=1, keepdims=True)
    return np.where(std > 0, (rewards - mean) / (std + 1e-4), 0.0)


def clipped_objective(logp, old_logp, adv, mask, clip_eps: float, ref_logp=None, kl_coef: float = 0.0):
    """The GRPO loss (to minimise) and its KL term, sequence-averaged then batch-averaged."""
    ratio = torch.exp(logp - old_logp)
    a = adv[:, None]
    per_tok = -torch.minimum(ratio * a, ratio.clamp(1 - clip_eps, 1 + clip_eps) * a)
    kl = torch.zeros_like(per_tok)
    if ref_logp is not None and kl_coef > 0:
        q = ref_logp - logp
        kl = torch.exp(q) - q - 1
        per_tok = per_tok + kl_coef * kl
    n = mask.sum(1).clamp_min(1)
    loss = ((per_tok * mask).sum(1) / n).mean()
    return loss, float(((kl.detach() * mask).sum(1) / n).mean())


def prompt_probabilities(examples: list, task_weights: dict, n: int) -> np.ndarray | None:
    """Sampling probability of each example: its task's weight (1 if unlisted), normalised;
    ``None`` (uniform) without weights."""
    if not task_weights:
        return None
    tasks = {ex.task for ex in examples}
    unknown = sorted(set(task_weights) - tasks)
    if unknown:
        raise ConfigError(f"grpo.task_weights: no training questions of task {unknown[0]!r} (tasks: {', '.join(sorted(tasks))})")
    w = np.array([float(task_weights.get(ex.task, 1.0)) for ex in examples])
    if (w < 0).any() or np.count_nonzero(w) < n:
        raise ConfigError(f"grpo.task_weights: fewer than prompts_per_step={n} questions with a positive weight")
    return w / w.sum()


def run_grpo(bundle, examples: list, clips: list, out: Path, opts: GRPOOptions, progress=None) -> dict:
    """Optimise ``bundle.model`` with GRPO on ``examples``; ``progress(step, stats)`` after each step."""
    model, tok = bundle.model, bundle.tokenizer
    # LM modules trained in full during SFT (peft's modules_to_save, e.g. a tiny LM's
    # embeddings) stay fixed unless asked: Adam gives every row of an embedding matrix a
    # full-size step from a few noisy policy gradients, and labels that no sampled reply
    # touched drift away
    # update_audio_side=False: only the LM's adapters move; the audio embeddings (spatial
    # encoder, projector) stay as SFT left them
    groups = param_groups(model.named_parameters(), opts.audio_lr_scale,
                          keep=lambda n: (opts.update_full_modules or "modules_to_save" not in n)
                          and (opts.update_audio_side or not n.startswith(AUDIO_SIDE)))
    params = [p for g in groups for p in g["params"]]
    for g in groups:
        g["lr"] = opts.lr * g["scale"]
    optimizer = torch.optim.AdamW(groups, lr=opts.lr, weight_decay=0.0)
    folder = Path(out) / "checkpoint"
    state = {"step": 0, "reward": [], "kl": []}
    if opts.reference not in ("sft", "base"):
        raise ValueError(f"GRPO reference {opts.reference!r}: expected sft or base")
    ref_weights = reference_weights(model, out) if opts.kl_coef > 0 and opts.reference == "sft" else None
    p = prompt_probabilities(examples, opts.task_weights, opts.prompts_per_step)
    reward_opts = replace(opts.rewards, graded=opts.graded_credit)
    found = checkpoint.find(folder)
    if found is not None:
        state = checkpoint.load(found, model, optimizer)
    while state["step"] < opts.steps:
        step = state["step"]
        t0 = time.perf_counter()
        rng = np.random.default_rng([opts.seed, step])
        chosen = [examples[int(i)] for i in rng.choice(len(examples), opts.prompts_per_step, replace=False, p=p)]
        replies = generate_replies(bundle, chosen, clips, batch_size=len(chosen), sample=True,
                                   temperature=opts.temperature, num_return=opts.group_size,
                                   max_new_tokens=opts.max_new_tokens, seed=int(rng.integers(2**31)))
        grouped = [ex for ex in chosen for _ in range(opts.group_size)]
        rewards = np.array([score(ex, decode(bundle, r), reward_opts).reward for ex, r in zip(grouped, replies)])
        adv = group_advantages(rewards.reshape(opts.prompts_per_step, opts.group_size)).reshape(-1)
        # a flat group has no advantage, but with a KL term it still anchors the policy on
        # its prompts (else questions the model already answers drift while others improve)
        keep = np.arange(len(adv)) if opts.kl_coef > 0 and np.any(adv != 0) else np.flatnonzero(adv != 0)
        kl = 0.0
        if len(keep):
            batch = collate([grouped[i] for i in keep], clips, tok, targets=[replies[i] for i in keep])
            a = torch.tensor(adv[keep], dtype=torch.float32)
            model.eval()  # no dropout: π_old and π must be the same function before the update
            with torch.no_grad():
                # one update per batch: π_old is π at that update, so its pass is the update's own
                old = (token_logprobs(model, batch, temperature=opts.temperature)[0]
                       if opts.updates_per_batch > 1 else None)
                ref = None
                if ref_weights is not None:
                    with swapped_weights(model, ref_weights):
                        ref = token_logprobs(model, batch, temperature=opts.temperature)[0]
                elif opts.kl_coef > 0 and hasattr(model.lm, "disable_adapter"):
                    ref = token_logprobs(model, batch, use_adapters=False, temperature=opts.temperature)[0]
            for _ in range(opts.updates_per_batch):
                logp, mask = token_logprobs(model, batch, temperature=opts.temperature)
                loss, kl = clipped_objective(logp, logp.detach() if old is None else old, a, mask, opts.clip_eps,
                                             ref, opts.kl_coef)
                model.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, opts.grad_clip)
                optimizer.step()
        state["step"] = step + 1
        state["reward"].append(round(float(rewards.mean()), 5))
        state["kl"].append(round(kl, 6))
        state["seconds"] = state.get("seconds", 0.0) + time.perf_counter() - t0
        if progress is not None:
            groups = int((adv.reshape(opts.prompts_per_step, opts.group_size) != 0).any(axis=1).sum())
            progress(state["step"], {"reward": float(rewards.mean()), "kl": kl, "groups": groups})
        if state["step"] % opts.save_every == 0 or state["step"] == opts.steps:
            checkpoint.save(folder, model, optimizer, state)
    return state
