"""The trainer: Qwen2-Audio with a spatial stream and a hybrid projector, fine-tuned on
binsynth shards (spatial-encoder pretraining, SFT, then GRPO) and evaluated per level and task.

Modules: features (both streams' inputs), model (spatial encoder, hybrid projector, the
wrapped LM), loading (``--model PATH``, LoRA), tiny (an offline tiny checkpoint), prompts,
data (shards → clips, examples, batches), pretrain, sft, grpo, rewards, generation, evaluate,
checkpoint, config (``binsynth train`` YAML), run (the stages the CLI runs).
Requires the ``train`` extra (transformers, peft). Imports dataset (to render its data), qa
(questions, rewards), scene, recipe, io and the root helpers; only commands sit above it.
"""

from binsynth import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "config": "TrainConfig load_config",
    "run": "prepare run_pretrain_stage run_sft_stage run_grpo_stage run_eval_stage",
    "model": "SpatialAudioLM SpatialEncoder HybridProjector",
    "loading": "load_model",
    "tiny": "build_tiny",
})
