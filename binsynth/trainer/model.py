"""Qwen2-Audio with a second, spatial audio stream and a hybrid projector.

Following "The World is Not Mono" (arXiv 2601.02954): the semantic stream is Qwen2-Audio's
own audio tower (a Whisper encoder) on the mono downmix; the spatial stream is
:class:`SpatialEncoder` on :func:`binsynth.trainer.features.binaural_features`; at every
audio frame (25 per second, 40 ms) :class:`HybridProjector` fuses the two (and, optionally,
more than one tower layer) into one embedding in the language model's space. Those
embeddings replace the ``<|AUDIO|>`` placeholder tokens of the prompt, one token per frame
(as Qwen2-Audio's processor expands them), and the language model reads the result.

The spatial encoder mirrors the tower's time reduction (conv k3 s1, conv k3 s2, average
pool 2), so its frame t is the tower's frame t for any padded input length.
"""

from __future__ import annotations

import torch
from torch import nn


def audio_token_lengths(feature_frames: torch.Tensor) -> torch.Tensor:
    """Audio tokens per clip from its unpadded mel frame count (Qwen2-Audio's rule: the
    stride-2 conv, then the stride-2 pool)."""
    after_conv = (feature_frames - 1) // 2 + 1
    return (after_conv - 2) // 2 + 1


class SpatialEncoder(nn.Module):
    """(B, C, T) binaural features at 100 frames/s → (B, T', d) at the audio-token rate
    (T' = tower frames for the same T)."""

    def __init__(self, in_channels: int, d_model: int = 256, n_layers: int = 2, n_heads: int = 4):
        super().__init__()
        self.conv1 = nn.Conv1d(in_channels, d_model, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(d_model, d_model, kernel_size=3, stride=2, padding=1)
        self.pool = nn.AvgPool1d(2, stride=2)
        layer = nn.TransformerEncoderLayer(d_model, n_heads, 2 * d_model, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.layers = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False) if n_layers else None
        self.norm = nn.LayerNorm(d_model)
        self.d_model = d_model

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        h = nn.functional.gelu(self.conv1(feats))
        h = nn.functional.gelu(self.conv2(h))
        h = self.pool(h).transpose(1, 2)
        if self.layers is not None:
            h = self.layers(h)
        return self.norm(h)


class HybridProjector(nn.Module):
    """Dense per-frame fusion: [LN(semantic layer_1), …, LN(spatial)] → MLP → LM hidden size.

    ``spatial=None`` (or ``zero_spatial``) feeds zeros for the spatial part: the control
    that shows what the spatial stream carries.
    """

    def __init__(self, d_semantic: int, n_semantic_layers: int, d_spatial: int, d_out: int, d_hidden: int | None = None):
        super().__init__()
        self.semantic_norms = nn.ModuleList(nn.LayerNorm(d_semantic) for _ in range(n_semantic_layers))
        self.spatial_norm = nn.LayerNorm(d_spatial)
        d_in = d_semantic * n_semantic_layers + d_spatial
        d_hidden = d_hidden or max(d_out, d_in)
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_out)
        self.d_spatial = d_spatial

    def forward(self, semantic: list[torch.Tensor], spatial: torch.Tensor | None) -> torch.Tensor:
        parts = [norm(s) for norm, s in zip(self.semantic_norms, semantic)]
        if spatial is None:
            spatial = semantic[0].new_zeros(*semantic[0].shape[:-1], self.d_spatial)
        else:
            spatial = self.spatial_norm(spatial)
        return self.fc2(nn.functional.gelu(self.fc1(torch.cat(parts + [spatial], dim=-1))))


class SpatialAudioLM(nn.Module):
    """A Qwen2-Audio model (``hf``: ``Qwen2AudioForConditionalGeneration``; ``lm``: the same
    model, or its peft wrapper when LoRA is on) with a spatial stream and hybrid projector.

    semantic_layers: tower layers fused by the projector: ``-1`` is the tower's output (after
    its pool and final LayerNorm); ``k >= 1`` is encoder layer k's output, pooled to the
    token rate.
    """

    def __init__(self, hf, spatial: SpatialEncoder, projector: HybridProjector, semantic_layers=(-1,),
                 lm=None, freeze_tower: bool = True):
        super().__init__()
        self.hf = hf
        self.lm = lm if lm is not None else hf
        self.spatial = spatial
        self.projector = projector
        self.semantic_layers = tuple(semantic_layers)
        self.freeze_tower = freeze_tower
        self.audio_token_id = int(hf.config.audio_token_id)
        # set either way: the LoRA set-up freezes the whole base model, tower included
        self.tower.requires_grad_(not freeze_tower)

    @property
    def tower(self):
        return self.hf.model.audio_tower

    def _semantic(self, input_features: torch.Tensor) -> list[torch.Tensor]:
        need_hidden = any(k != -1 for k in self.semantic_layers)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze_tower):
            out = self.tower(input_features, output_hidden_states=need_hidden)
        layers = []
        for k in self.semantic_layers:
            if k == -1:
                layers.append(out.last_hidden_state)
            else:  # hidden_states[k]: after encoder layer k, at the conv rate -> pool to the token rate
                h = out.hidden_states[k].transpose(1, 2)
                layers.append(nn.functional.avg_pool1d(h, 2, 2).transpose(1, 2))
        return layers

    def audio_embeddings(self, input_features: torch.Tensor, feature_attention_mask: torch.Tensor,
                         spatial_features: torch.Tensor, zero_spatial: bool = False) -> torch.Tensor:
        """(sum of audio tokens, hidden): each clip's unpadded frames, clip after clip."""
        dtype = self.projector.fc1.weight.dtype
        semantic = [s.to(dtype) for s in self._semantic(input_features)]  # the tower casts to its dtype
        spatial = None if zero_spatial else self.spatial(spatial_features.to(dtype))
        fused = self.projector(semantic, spatial)                       # (B, T', hidden)
        lengths = audio_token_lengths(feature_attention_mask.sum(-1))
        keep = torch.arange(fused.shape[1], device=fused.device)[None, :] < lengths.to(fused.device)[:, None]
        return fused[keep]

    def embed(self, input_ids: torch.Tensor, input_features, feature_attention_mask, spatial_features,
              zero_spatial: bool = False) -> torch.Tensor:
        """Token embeddings with the audio placeholders replaced by the fused audio frames."""
        embeds = self.hf.get_input_embeddings()(input_ids)
        audio = self.audio_embeddings(input_features, feature_attention_mask, spatial_features, zero_spatial)
        slots = input_ids == self.audio_token_id
        if int(slots.sum()) != audio.shape[0]:
            raise ValueError(f"{int(slots.sum())} <|AUDIO|> tokens for {audio.shape[0]} audio frames")
        return embeds.masked_scatter(slots[..., None], audio.to(embeds.dtype))

    def forward(self, input_ids, attention_mask, input_features, feature_attention_mask, spatial_features,
                labels=None, zero_spatial: bool = False):
        embeds = self.embed(input_ids, input_features, feature_attention_mask, spatial_features, zero_spatial)
        return self.lm(inputs_embeds=embeds, attention_mask=attention_mask, labels=labels, use_cache=False)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """What training changes (LoRA, spatial encoder, projector, any unfrozen module)."""
        return {n: p.detach() for n, p in self.named_parameters() if p.requires_grad}
