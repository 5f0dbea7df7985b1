"""``binsynth train pretrain|sft|grpo|eval|all CONFIG.yaml``: the trainer's curriculum.

Each stage resumes from its checkpoint under the config's ``out`` folder. ``eval`` and
``all`` print a table, then, as the last line, one JSON object with the headline numbers
(``left_right_acc``, ``sector8_acc``, ``class_acc``, ``left_right_acc_spatial_zeroed``,
``sft_reward``, ``grpo_reward``, ``reward_se``, ``n_questions``, …).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from binsynth.commands import command_group

app = command_group("train", "Fine-tune Qwen2-Audio with a spatial stream on binsynth shards (encoder pretraining, SFT, then GRPO).")

Config = Annotated[Path, typer.Argument(metavar="CONFIG", help="Train config YAML (e.g. configs/train.yaml).")]


def _config(path: Path):
    try:
        import peft  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:
        from binsynth.errors import ConfigError

        raise ConfigError(f"binsynth train needs the trainer's packages: pip install 'binsynth[train]' ({e.name} missing)") from None
    from binsynth.trainer.config import load_config

    return load_config(path)


@app.command("pretrain")
def pretrain_command(config: Config) -> None:
    """Spatial-encoder pretraining on the scenes' labels (direction, distance, class)."""
    from binsynth.trainer.run import run_pretrain_stage

    run_pretrain_stage(_config(config), say=typer.echo)


@app.command("sft")
def sft_command(config: Config) -> None:
    """Supervised fine-tuning on the shards' QA (answer tokens only)."""
    from binsynth.trainer.run import run_sft_stage

    run_sft_stage(_config(config), say=typer.echo)


@app.command("grpo")
def grpo_command(config: Config) -> None:
    """GRPO from the SFT checkpoint, with rule-based rewards."""
    from binsynth.trainer.run import run_grpo_stage

    run_grpo_stage(_config(config), say=typer.echo)


@app.command("eval")
def eval_command(config: Config) -> None:
    """Evaluate the SFT and GRPO checkpoints on the held-out split."""
    from binsynth.trainer.run import run_eval_stage

    typer.echo(json.dumps(run_eval_stage(_config(config), say=typer.echo)))


@app.command("all")
def all_command(config: Config) -> None:
    """Pretraining (if configured), SFT, GRPO, then eval, in one process (features computed once)."""
    from binsynth.trainer.run import prepare, run_eval_stage, run_grpo_stage, run_pretrain_stage, run_sft_stage

    cfg = _config(config)
    prep = prepare(cfg, say=typer.echo)
    if cfg.pretrain.steps:
        run_pretrain_stage(cfg, prep, say=typer.echo)
    run_sft_stage(cfg, prep, say=typer.echo)
    if cfg.grpo.steps:
        run_grpo_stage(cfg, prep, say=typer.echo)
    typer.echo(json.dumps(run_eval_stage(cfg, prep, say=typer.echo)))
