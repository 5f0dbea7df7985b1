"""The trainer: Qwen2-Audio with a spatial stream and a hybrid projector, fine-tuned on
binsynth shards (spatial-encoder pretraining, SFT, then GRPO) and evaluated per level and task.

Modules: features (both streams' inputs), model (spatial encoder, hybrid projector, the
wrapped LM), loading (``--model PATH``, LoRA), tiny (an offline tiny checkpoint), prompts,
data (shards → clips, examples, batches), pretrain, sft, grpo, rewards, generation, evaluate,
checkpoint, config (``binsynth train`` YAML), run (the stages the CLI runs).
Requires the ``train`` extra (transformers, peft).
"""
