"""Answers from the model: prompts (left-padded) → fused embeddings → ``generate``."""

from __future__ import annotations

import torch

from binsynth.trainer.data import collate
from binsynth.trainer.prompts import END, SPECIAL_TOKENS

#: Tokens a reply never contains: an audio placeholder in a reply would shift the audio
#: frames of every later forward pass; the others belong to the chat frame.
NEVER_GENERATED = tuple(t for t in SPECIAL_TOKENS if t != END)


@torch.no_grad()
def generate_replies(bundle, examples: list, clips: list, *, batch_size: int = 32, zero_spatial: bool = False,
                     max_new_tokens: int = 24, sample: bool = False, temperature: float = 1.0,
                     num_return: int = 1, seed: int | None = None) -> list[list[int]]:
    """Generated token ids per (example, sample): ``num_return`` replies per example, in
    order, each cut after ``<|im_end|>``. Greedy unless ``sample``."""
    model, tok = bundle.model, bundle.tokenizer
    was_training = model.training
    model.eval()
    end_id = tok.convert_tokens_to_ids(END)
    banned = sorted({tok.convert_tokens_to_ids(t) for t in NEVER_GENERATED} - {tok.unk_token_id, None})
    if seed is not None:
        torch.manual_seed(seed)
    out: list[list[int]] = []
    for start in range(0, len(examples), batch_size):
        batch = collate(examples[start:start + batch_size], clips, tok, with_targets=False, padding_side="left")
        embeds = model.embed(batch["input_ids"], batch["input_features"], batch["feature_attention_mask"],
                             batch["spatial_features"], zero_spatial)
        gen = model.lm.generate(inputs_embeds=embeds, attention_mask=batch["attention_mask"],
                                max_new_tokens=max_new_tokens, do_sample=sample,
                                temperature=temperature if sample else None, top_k=0 if sample else None,
                                top_p=1.0 if sample else None,
                                num_return_sequences=num_return, eos_token_id=end_id, pad_token_id=tok.pad_token_id,
                                suppress_tokens=banned)
        for row in gen.tolist():
            ids = row[:row.index(end_id) + 1] if end_id in row else row
            out.append([t for t in ids if t != tok.pad_token_id])
    model.train(was_training)
    return out


def decode(bundle, ids: list[int]) -> str:
    return bundle.tokenizer.decode(ids, skip_special_tokens=False)
