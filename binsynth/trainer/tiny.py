"""A tiny Qwen2-Audio checkpoint built offline: the real architecture
(``Qwen2AudioForConditionalGeneration``: Whisper-style tower + Qwen2 language model) at toy
size, random weights, with a byte-level BPE tokenizer trained on the prompts and answers it
will see, and a ``WhisperFeatureExtractor`` whose window matches the clips.

It is saved in the layout of a real checkpoint directory (``config.json``, safetensors,
``tokenizer.json``, ``preprocessor_config.json``), so ``--model PATH`` loads real
Qwen2-Audio weights and this one through the same code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from binsynth.trainer.prompts import SPECIAL_TOKENS

#: Tiny sizes: fast on two CPU cores, still every part of the real model.
TINY = dict(audio_d_model=64, audio_layers=2, audio_heads=2, mel_bins=80, hidden=128, layers=2, heads=4,
            kv_heads=2, intermediate=256, vocab=800)


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """Byte-level BPE trained on ``texts``, with the chat and audio special tokens. As in
    Qwen2's tokenizer, every digit is a token of its own ("175" → "1", "7", "5"): numbers are
    spelled from ten shared tokens, not one token per value seen in training."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=list(SPECIAL_TOKENS[1:]))


def build_tiny(out: Path, texts: Iterable[str], clip_s: float, seed: int = 0, **sizes) -> Path:
    """Write a tiny Qwen2-Audio checkpoint for clips of ``clip_s`` seconds into ``out``."""
    import torch
    from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration, WhisperFeatureExtractor

    s = {**TINY, **sizes}
    tokenizer = train_tokenizer(texts, s["vocab"])
    chunk_s = max(1, math.ceil(clip_s - 1e-9))  # whole seconds, as WhisperFeatureExtractor pads
    frames = 100 * chunk_s                      # 10 ms mel hop
    config = Qwen2AudioConfig(
        audio_config=dict(model_type="qwen2_audio_encoder", d_model=s["audio_d_model"],
                          encoder_layers=s["audio_layers"], encoder_attention_heads=s["audio_heads"],
                          encoder_ffn_dim=4 * s["audio_d_model"], num_mel_bins=s["mel_bins"],
                          max_source_positions=frames // 2),
        text_config=dict(model_type="qwen2", vocab_size=len(tokenizer), hidden_size=s["hidden"],
                         intermediate_size=s["intermediate"], num_hidden_layers=s["layers"],
                         num_attention_heads=s["heads"], num_key_value_heads=s["kv_heads"],
                         max_position_embeddings=2048, tie_word_embeddings=False,
                         bos_token_id=None, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id),
        audio_token_id=tokenizer.convert_tokens_to_ids("<|AUDIO|>"),
    )
    torch.manual_seed(seed)
    model = Qwen2AudioForConditionalGeneration(config)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    WhisperFeatureExtractor(feature_size=s["mel_bins"], chunk_length=chunk_s).save_pretrained(out)
    return out
