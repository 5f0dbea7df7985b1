"""The curriculum's stages as the CLI runs them: data (rendered if absent), model (tiny if no
``model.path``), spatial-encoder pretraining (when ``pretrain.steps`` > 0) → SFT → GRPO →
eval, each resumable from its checkpoint under ``out``; SFT starts from the pretrained encoder.

Layout of ``out``: ``tiny_model/`` (when built), ``pretrain/checkpoint`` (the encoder and
its label head), ``sft/checkpoint``, ``grpo/checkpoint``,
``metrics.json`` (the evaluation of every stage that has a checkpoint), ``summary.json``
(the headline numbers; also printed as the last line).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from binsynth.errors import ConfigError
from binsynth.trainer import checkpoint
from binsynth.trainer.config import TrainConfig


@dataclass
class Prepared:
    bundle: object
    clips: list
    train: list
    test: list
    probes: list
    grpo: list          # the questions GRPO samples (data.grpo_split; the training questions by default)


def _quiet_libraries() -> None:
    """Our bars say what happens; the libraries' own (shard generation, weight loading) and a
    deprecation warning peft triggers inside transformers would bury them."""
    import warnings

    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.*", category=FutureWarning)


def _threads(cfg: TrainConfig) -> None:
    torch.set_num_threads(cfg.threads or os.cpu_count() or 1)


def dataset_dir(cfg: TrainConfig, say=print) -> Path:
    """The dataset folder. With ``data.recipe`` it is rendered through the pipeline, which
    keeps every committed shard (a finished dataset costs a hash check) and refuses a folder
    rendered from another recipe; without one it must be a finished dataset."""
    folder = cfg.path(cfg.data.dataset)
    recipe = cfg.path(cfg.data.recipe)
    if recipe is None:
        if not ((folder / "manifest.json").is_file() and (folder / "README.md").is_file()):
            raise ConfigError(f"data.dataset {folder}: not a finished binsynth dataset, and no data.recipe to render it")
        return folder
    from binsynth.dataset.pipeline import plan_shards, render_dataset
    from binsynth.progress import rate_bar
    from binsynth.recipe.model import load_recipe

    spec = load_recipe(recipe)
    say(f"dataset {folder} from {recipe}")
    with rate_bar(spec.dataset.name, sum(p.n_scenes for p in plan_shards(spec)), "scenes") as advance:
        render_dataset(spec, recipe.read_text(encoding="utf-8"), str(recipe.parent), folder,
                       workers=cfg.data.render_workers, progress=advance)
    return folder


def model_dir(cfg: TrainConfig, train_rows: list, clip_s: float) -> Path:
    """``model.path``, or the tiny checkpoint in ``out/tiny_model`` (built on first use)."""
    if cfg.model.path is not None:
        return cfg.path(cfg.model.path)
    from binsynth.trainer.data import texts_for_tokenizer
    from binsynth.trainer.tiny import build_tiny

    path = cfg.path(cfg.out) / "tiny_model"
    if not (path / "config.json").is_file():
        tmp = path.with_name("tiny_model.tmp")
        build_tiny(tmp, texts_for_tokenizer(train_rows), clip_s, seed=cfg.seed, **cfg.model.tiny.model_dump())
        tmp.rename(path)
    return path


def prepare(cfg: TrainConfig, say=print) -> Prepared:
    """Rows of both splits, the model, both streams' features and the examples."""
    from binsynth.trainer.data import load_rows, make_clips, qa_examples
    from binsynth.trainer.evaluate import probe_examples
    from binsynth.trainer.loading import ModelOptions, load_model

    _threads(cfg)
    _quiet_libraries()
    folder = dataset_dir(cfg, say)
    train_rows = load_rows(folder, cfg.data.train_split)
    test_rows = load_rows(folder, cfg.data.test_split)
    grpo_split = cfg.data.grpo_split or cfg.data.train_split
    grpo_rows = [] if grpo_split == cfg.data.train_split else load_rows(folder, grpo_split)
    clip_s = max(float(r["duration"]) for r in train_rows + test_rows + grpo_rows)
    m = cfg.model
    options = ModelOptions(**m.model_dump(exclude={"path", "tiny", "device"}))
    bundle = load_model(model_dir(cfg, train_rows, clip_s), options, device=m.device, seed=cfg.seed)
    clips = make_clips(train_rows + test_rows + grpo_rows, bundle.feature_extractor, m.n_bands)
    n, n_test = len(train_rows), len(test_rows)
    train = qa_examples(train_rows)
    return Prepared(bundle, clips, train, qa_examples(test_rows, first_clip=n), probe_examples(test_rows, first_clip=n),
                    qa_examples(grpo_rows, first_clip=n + n_test) if grpo_rows else train)


def _stage_with_bar(name: str, out: Path, steps: int, metric: str, train) -> dict:
    """Run ``train(progress)`` under a bar that starts at the checkpoint's step and shows the
    latest ``metric``; ``progress(step, value)`` is what the training loop calls."""
    from binsynth.progress import rate_bar

    done = checkpoint.find(out / "checkpoint")
    start = json.loads((done / checkpoint.STATE).read_text())["step"] if done else 0
    last = {metric: float("nan")}
    with rate_bar(name, steps, "steps", extra=lambda: f"{metric} {last[metric]:.3f}") as advance:
        advance(start)

        def progress(step, value):
            last[metric] = value[metric] if isinstance(value, dict) else value
            advance()
        return train(progress)


def run_pretrain_stage(cfg: TrainConfig, prep: Prepared | None = None, say=print) -> dict:
    """Spatial-encoder pretraining on the training clips' labels (``pretrain.steps`` > 0)."""
    from binsynth.trainer.pretrain import PretrainOptions, run_pretrain

    p = cfg.pretrain
    if not p.steps:
        raise ConfigError("pretrain.steps is 0 in this config: nothing to pretrain")
    prep = prep or prepare(cfg, say)
    opts = PretrainOptions(**p.model_dump(), seed=cfg.seed)
    out = cfg.path(cfg.out) / "pretrain"
    train_ids = sorted({ex.clip for ex in prep.train})
    test_ids = sorted({ex.clip for ex in prep.test})
    state = _stage_with_bar("pretrain", out, p.steps, "loss", lambda progress: run_pretrain(
        prep.bundle, [prep.clips[i] for i in train_ids], out, opts, progress,
        test_clips=[prep.clips[i] for i in test_ids]))
    mae = state.get("azimuth_mae_deg")
    say(f"pretrain: {state['step']} steps, last loss {state['losses'][-1]:.4f}"
        + (f", encoder's held-out azimuth error {mae:.1f} deg" if mae is not None else ""))
    return state


def run_sft_stage(cfg: TrainConfig, prep: Prepared | None = None, say=print) -> dict:
    from binsynth.trainer.pretrain import load_encoder
    from binsynth.trainer.sft import SFTOptions, run_sft

    prep = prep or prepare(cfg, say)
    s = cfg.sft
    opts = SFTOptions(**s.model_dump(), seed=cfg.seed)
    out = cfg.path(cfg.out) / "sft"
    if checkpoint.find(out / "checkpoint") is None and cfg.pretrain.steps:
        found = checkpoint.find(cfg.path(cfg.out) / "pretrain" / "checkpoint")
        if found is None:
            raise ConfigError(f"{cfg.path(cfg.out) / 'pretrain'}: no pretraining checkpoint; "
                              "run `binsynth train pretrain` first (or set pretrain.steps: 0)")
        load_encoder(found, prep.bundle.model)
    state = _stage_with_bar("SFT", out, s.steps, "loss",
                            lambda progress: run_sft(prep.bundle, prep.train, prep.clips, out, opts, progress))
    say(f"SFT: {state['step']} steps, last loss {state['losses'][-1]:.4f}")
    return state


def _load_stage(prep: Prepared, cfg: TrainConfig, stage: str) -> bool:
    found = checkpoint.find(cfg.path(cfg.out) / stage / "checkpoint")
    if found is None:
        return False
    checkpoint.load(found, prep.bundle.model)
    return True


def run_grpo_stage(cfg: TrainConfig, prep: Prepared | None = None, say=print) -> dict:
    from binsynth.trainer.grpo import GRPOOptions, run_grpo
    from binsynth.trainer.rewards import RewardOptions

    prep = prep or prepare(cfg, say)
    if not _load_stage(prep, cfg, "sft"):
        raise ConfigError(f"{cfg.path(cfg.out) / 'sft'}: no SFT checkpoint; run `binsynth train sft` first")
    g = cfg.grpo
    opts = GRPOOptions(**g.model_dump(), seed=cfg.seed, rewards=RewardOptions(**cfg.rewards.model_dump()))
    out = cfg.path(cfg.out) / "grpo"
    state = _stage_with_bar("GRPO", out, g.steps, "reward",
                            lambda progress: run_grpo(prep.bundle, prep.grpo, prep.clips, out, opts, progress))
    if state["reward"]:
        say(f"GRPO: {state['step']} steps, mean sampled reward {sum(state['reward'][-10:]) / len(state['reward'][-10:]):.3f} (last 10)")
    return state


def run_eval_stage(cfg: TrainConfig, prep: Prepared | None = None, say=print) -> dict:
    """Evaluate every stage that has a checkpoint; writes metrics.json and summary.json."""
    from binsynth.trainer.evaluate import paired_gain, probe_metrics, score_replies, summarize
    from binsynth.trainer.rewards import RewardOptions

    prep = prep or prepare(cfg, say)
    rewards = RewardOptions(**cfg.rewards.model_dump())
    kw = dict(batch_size=cfg.eval.batch_size, rewards=rewards, max_new_tokens=cfg.eval.max_new_tokens)
    metrics, scored = {}, {}
    for stage in ("sft", "grpo"):
        if not _load_stage(prep, cfg, stage):
            continue
        qa = score_replies(prep.bundle, prep.test, prep.clips, **kw)
        full = score_replies(prep.bundle, prep.probes, prep.clips, **kw)
        zeroed = score_replies(prep.bundle, prep.probes, prep.clips, zero_spatial=True, **kw)
        metrics[stage] = {**summarize(prep.test, qa), **probe_metrics(prep.probes, full, zeroed)}
        scored[stage] = qa
    if not metrics:
        raise ConfigError(f"{cfg.path(cfg.out)}: no checkpoint to evaluate; run `binsynth train sft` first")
    last = "grpo" if "grpo" in metrics else "sft"
    m = metrics[last]
    summary = {k: m[k] for k in ("left_right_acc", "sector8_acc", "class_acc", "left_right_acc_spatial_zeroed",
                                 "sector8_acc_spatial_zeroed")}
    summary.update(stage=last, sft_reward=metrics["sft"]["reward"] if "sft" in metrics else None,
                   grpo_reward=metrics["grpo"]["reward"] if "grpo" in metrics else None,
                   reward_se=m["reward_se"], n_questions=m["n_questions"], n_probes=len(prep.probes))
    if "sft" in scored and "grpo" in scored:
        gain, se = paired_gain(scored["sft"], scored["grpo"])
        summary.update(grpo_gain=round(gain, 4), grpo_gain_se=round(se, 4),
                       sft_reward_se=metrics["sft"]["reward_se"])
    out = cfg.path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    (out / "summary.json").write_text(json.dumps(summary))
    print_table(metrics, say)
    return summary


def print_table(metrics: dict, say=print) -> None:
    from rich.console import Console
    from rich.table import Table

    stages = list(metrics)
    table = Table(title="held-out evaluation")
    table.add_column("metric")
    for s in stages:
        table.add_column(s, justify="right")

    def row(name, get):
        table.add_row(name, *[("-" if (v := get(metrics[s])) is None else f"{v:.3f}" if isinstance(v, float) else str(v))
                              for s in stages])
    row("reward (± se)", lambda m: f"{m['reward']:.3f} ± {m['reward_se']:.3f}")
    row("questions", lambda m: m["n_questions"])
    for level in sorted({lv for m in metrics.values() for lv in m["per_level"]}):
        row(f"{level} accuracy", lambda m, lv=level: m["per_level"].get(lv, {}).get("acc"))
    for task in sorted({t for m in metrics.values() for t in m["per_task"]}):
        row(f"  {task} (n)", lambda m, t=task: (f"{m['per_task'][t]['acc']:.3f} ({m['per_task'][t]['n']})"
                                                if t in m["per_task"] else None))
    row("multiple-choice accuracy", lambda m: m["mc_acc"])
    row("azimuth MAE (deg)", lambda m: m["azimuth_mae_deg"])
    row("distance error rate (>0.5 m)", lambda m: m["distance_error_rate"])
    row("probe: left/right", lambda m: m["left_right_acc"])
    row("probe: left/right, spatial zeroed", lambda m: m["left_right_acc_spatial_zeroed"])
    row("probe: 8 sectors", lambda m: m["sector8_acc"])
    row("probe: 8 sectors, spatial zeroed", lambda m: m["sector8_acc_spatial_zeroed"])
    row("probe: sound class", lambda m: m["class_acc"])
    Console().print(table)
