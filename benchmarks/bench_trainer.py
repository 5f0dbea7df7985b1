"""Trainer throughput: a few SFT steps and GRPO steps of the full-size Qwen2-Audio architecture
(random weights, bf16, LoRA) with the spatial stream, on rendered shards.

``--size full`` builds Qwen2-Audio-7B's shapes (Whisper-large tower: 32 layers, d 1280, 128
mels, 30 s window; Qwen2-7B LM: 28 layers, hidden 3584, vocab 156,032) directly on the
device with random weights — nothing is downloaded; ``--size tiny`` is the CPU-sized model
of ``make train`` (to check the script anywhere). Reports SFT samples/s and tokens/s, GRPO
step time, and peak device memory; prints ONE JSON line.

Usage: python benchmarks/bench_trainer.py --dataset DIR [--size full|tiny] [--device cuda]
       [--sft-steps 5] [--batch 4] [--grpo-steps 1] [--group 4] [--prompts 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

FULL = dict(
    audio=dict(model_type="qwen2_audio_encoder", d_model=1280, encoder_layers=32, encoder_attention_heads=20,
               encoder_ffn_dim=5120, num_mel_bins=128, max_source_positions=1500),
    text=dict(model_type="qwen2", vocab_size=156032, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
              num_attention_heads=28, num_key_value_heads=4, max_position_embeddings=8192, rope_theta=10000.0,
              tie_word_embeddings=False),
)


def full_model(tokenizer, device: str, dtype: torch.dtype):
    """Qwen2-Audio-7B's architecture with random weights, built on ``device``."""
    from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration, WhisperFeatureExtractor

    text = dict(FULL["text"], eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    config = Qwen2AudioConfig(audio_config=FULL["audio"], text_config=text,
                              audio_token_id=tokenizer.convert_tokens_to_ids("<|AUDIO|>"))
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            hf = Qwen2AudioForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(previous)
    return hf, WhisperFeatureExtractor(feature_size=128, chunk_length=30)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", type=Path, required=True, help="a binsynth dataset folder (train split used)")
    p.add_argument("--size", choices=("full", "tiny"), default="full")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--sft-steps", type=int, default=5)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--grpo-steps", type=int, default=1)
    p.add_argument("--prompts", type=int, default=2)
    p.add_argument("--group", type=int, default=4)
    p.add_argument("--scenes", type=int, default=64)
    args = p.parse_args(argv)

    from binsynth.trainer.data import load_rows, make_clips, qa_examples, texts_for_tokenizer
    from binsynth.trainer.grpo import GRPOOptions, run_grpo
    from binsynth.trainer.loading import ModelOptions, assemble, load_model
    from binsynth.trainer.sft import SFTOptions, run_sft
    from binsynth.trainer.tiny import build_tiny, train_tokenizer

    rows = load_rows(args.dataset, "train")[:args.scenes]
    clip_s = max(float(r["duration"]) for r in rows)
    work = Path(tempfile.mkdtemp(prefix="bench_trainer_"))
    cuda = args.device.startswith("cuda")
    t0 = time.perf_counter()
    if args.size == "full":
        tokenizer = train_tokenizer(texts_for_tokenizer(rows), 2000)
        hf, fe = full_model(tokenizer, args.device, torch.bfloat16)
        bundle = assemble(hf, tokenizer, fe, ModelOptions(n_bands=64, spatial_dim=256, lora_rank=16), args.device)
    else:
        path = build_tiny(work / "tiny", texts_for_tokenizer(rows), clip_s)
        bundle = load_model(path, ModelOptions(n_bands=64, modules_to_save=("embed_tokens", "lm_head")), args.device)
    build_s = time.perf_counter() - t0
    clips = make_clips(rows, bundle.feature_extractor, bundle.options.n_bands)
    examples = qa_examples(rows)
    params = sum(p.numel() for p in bundle.model.parameters())
    trainable = sum(p.numel() for p in bundle.model.parameters() if p.requires_grad)

    def sync():
        if cuda:
            torch.cuda.synchronize()

    # one warm-up step (allocator, kernels), then the timed steps
    run_sft(bundle, examples, clips, work / "warm", SFTOptions(steps=1, batch_size=args.batch, save_every=10**6))
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    from binsynth.trainer.data import collate

    tokens = sum(int(collate([examples[i]], clips, bundle.tokenizer)["attention_mask"].sum())
                 for i in range(min(len(examples), 64))) / min(len(examples), 64)
    sync()
    t1 = time.perf_counter()
    run_sft(bundle, examples, clips, work / "sft", SFTOptions(steps=args.sft_steps, batch_size=args.batch,
                                                             save_every=10**6))
    sync()
    sft_s = time.perf_counter() - t1
    sft_mem = torch.cuda.max_memory_allocated() / 2**30 if cuda else None
    t2 = time.perf_counter()
    run_grpo(bundle, examples, clips, work / "grpo", GRPOOptions(steps=args.grpo_steps, prompts_per_step=args.prompts,
                                                                 group_size=args.group, save_every=10**6))
    sync()
    grpo_s = time.perf_counter() - t2
    samples = args.sft_steps * args.batch
    out = {
        "size": args.size, "device": torch.cuda.get_device_name() if cuda else "cpu",
        "params": params, "trainable_params": trainable, "build_s": round(build_s, 1),
        "clip_s": clip_s, "tokens_per_sample": round(tokens, 1),
        "sft_steps": args.sft_steps, "batch": args.batch,
        "sft_samples_per_s": round(samples / sft_s, 3), "sft_tokens_per_s": round(samples * tokens / sft_s, 1),
        "grpo_steps": args.grpo_steps, "grpo_prompts": args.prompts, "grpo_group": args.group,
        "grpo_s_per_step": round(grpo_s / max(1, args.grpo_steps), 2),
        "peak_mem_gib_sft": None if sft_mem is None else round(sft_mem, 2),
        "peak_mem_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
