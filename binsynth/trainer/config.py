"""``binsynth train`` configuration (YAML, validated with pydantic; unknown keys are errors).

Paths are relative to the config file's folder. With ``model.path`` unset, a tiny
Qwen2-Audio (random weights, tokenizer trained on the dataset's text) is built in
``out/tiny_model`` — the offline default that ``make train`` uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from binsynth.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSection(_Section):
    dataset: str = Field(description="binsynth dataset folder; rendered from `recipe` when absent")
    recipe: str | None = None
    train_split: str = "train"
    test_split: str = "test"
    grpo_split: str | None = Field(None, description="split whose questions GRPO samples (default: train_split)")
    render_workers: int = Field(2, ge=1)


class TinySection(_Section):
    audio_d_model: int = Field(64, ge=8)
    audio_layers: int = Field(2, ge=1)
    hidden: int = Field(128, ge=16)
    layers: int = Field(2, ge=1)
    heads: int = Field(4, ge=1)
    kv_heads: int = Field(2, ge=1)
    intermediate: int = Field(256, ge=16)
    vocab: int = Field(800, ge=300)


class ModelSection(_Section):
    path: str | None = None
    tiny: TinySection = TinySection()
    n_bands: int = Field(64, ge=4)
    spatial_dim: int = Field(128, ge=8)
    spatial_layers: int = Field(2, ge=0)
    semantic_layers: tuple[int, ...] = (-1,)
    lora_rank: int = Field(16, ge=0)
    lora_alpha: int = Field(32, ge=1)
    modules_to_save: tuple[str, ...] = ()
    freeze_tower: bool = True
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    device: str = "cpu"


class PretrainSection(_Section):
    steps: int = Field(0, ge=0, description="spatial-encoder pretraining steps on the scene labels (0: none)")
    batch_size: int = Field(32, ge=1)
    lr: float = Field(1e-3, gt=0)
    warmup_steps: int = Field(20, ge=0)
    save_every: int = Field(200, ge=1)


class SFTSection(_Section):
    steps: int = Field(2000, ge=1)
    batch_size: int = Field(16, ge=1)
    lr: float = Field(1e-3, gt=0)
    warmup_steps: int = Field(50, ge=0)
    save_every: int = Field(200, ge=1)
    turns: int = Field(1, ge=1, description="questions about one clip per training dialogue")
    audio_lr_scale: float = Field(1.0, gt=0, description="learning-rate multiplier for the spatial encoder and projector")


class RewardSection(_Section):
    format_weight: float = Field(0.1, ge=0, le=1)
    tolerance_deg: float = Field(15.0, gt=0)
    tolerance_m: float = Field(0.5, gt=0)


class GRPOSection(_Section):
    steps: int = Field(60, ge=0)
    prompts_per_step: int = Field(8, ge=1)
    group_size: int = Field(8, ge=2)
    temperature: float = Field(1.0, gt=0)
    max_new_tokens: int = Field(24, ge=4)
    lr: float = Field(2e-4, gt=0)
    clip_eps: float = Field(0.2, gt=0)
    kl_coef: float = Field(0.02, ge=0)
    reference: Literal["sft", "base"] = "sft"
    task_weights: dict[str, float] = Field(default_factory=dict,
                                           description="prompt sampling weight per QA task (unlisted: 1)")
    updates_per_batch: int = Field(1, ge=1)
    save_every: int = Field(20, ge=1)
    update_full_modules: bool = False
    update_audio_side: bool = True
    audio_lr_scale: float = Field(1.0, gt=0, description="learning-rate multiplier for the spatial encoder and projector")
    graded_credit: float = Field(0.0, ge=0, le=1, description="training reward's credit for near-miss angles and distances")


class EvalSection(_Section):
    batch_size: int = Field(64, ge=1)
    max_new_tokens: int = Field(24, ge=4)


class TrainConfig(_Section):
    out: str = "runs/train"
    seed: int = 0
    threads: int | None = Field(None, ge=1)
    data: DataSection
    model: ModelSection = ModelSection()
    pretrain: PretrainSection = PretrainSection()
    sft: SFTSection = SFTSection()
    grpo: GRPOSection = GRPOSection()
    rewards: RewardSection = RewardSection()
    eval: EvalSection = EvalSection()
    base_dir: str = Field(".", exclude=True)

    def path(self, p: str | None) -> Path | None:
        """A config path resolved against the config file's folder."""
        if p is None:
            return None
        q = Path(p).expanduser()
        return q if q.is_absolute() else (Path(self.base_dir) / q).resolve()


def load_config(path: str | Path) -> TrainConfig:
    """Read and validate a train config; one-line :class:`ConfigError` naming the field otherwise."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such train config") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read ({type(e).__name__})") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: invalid YAML ({' '.join(str(e).split())[:200]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (data, model, pretrain, sft, grpo, rewards, eval)")
    try:
        return TrainConfig(**data, base_dir=str(path.resolve().parent))
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "config"
        more = f" (and {len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
        raise ConfigError(f"{path}: {where}: {err['msg']}{more}") from None
