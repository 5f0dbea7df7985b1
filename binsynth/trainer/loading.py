"""Building the trainable model from a local Qwen2-Audio checkpoint directory.

``path`` holds what ``save_pretrained`` writes (``config.json``, safetensors weights,
tokenizer files, ``preprocessor_config.json``): real Qwen2-Audio(-Instruct) weights or the
tiny checkpoint of :mod:`binsynth.trainer.tiny`. Nothing is downloaded: transformers is
told the files are local.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from binsynth.errors import ConfigError, PathError
from binsynth.trainer.model import HybridProjector, SpatialAudioLM, SpatialEncoder

#: The language model's linear layers LoRA adapts (Qwen2's names).
LORA_TARGETS = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"


@dataclass
class ModelOptions:
    """How the spatial stream, projector and adapters are built (units: features per frame)."""

    n_bands: int = 32                 # mel bands of the binaural features (5 channels each)
    spatial_dim: int = 128
    spatial_layers: int = 2
    semantic_layers: tuple = (-1,)    # tower layers fused per frame (-1 = the tower's output)
    lora_rank: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    modules_to_save: tuple = ()       # LM modules trained in full (e.g. embed_tokens, lm_head)
    freeze_tower: bool = True
    dtype: str = "float32"


@dataclass
class Bundle:
    model: SpatialAudioLM
    tokenizer: object
    feature_extractor: object
    options: ModelOptions


def load_model(path: str | Path, options: ModelOptions | None = None, device: str = "cpu", seed: int = 0) -> Bundle:
    """The model (LoRA on the LM, new spatial encoder and projector), tokenizer and feature
    extractor from the checkpoint directory ``path``."""
    from transformers import AutoTokenizer, Qwen2AudioForConditionalGeneration, WhisperFeatureExtractor

    options = options or ModelOptions()
    path = Path(path)
    missing = [f for f in ("config.json", "preprocessor_config.json") if not (path / f).is_file()]
    if not path.is_dir() or missing:
        raise PathError(f"--model {path}: not a Qwen2-Audio checkpoint directory "
                        f"(missing {', '.join(missing) if path.is_dir() else 'the directory'})")
    dtype = getattr(torch, options.dtype, None)
    if not isinstance(dtype, torch.dtype):
        raise ConfigError(f"model dtype {options.dtype!r}: expected float32, bfloat16 or float16")
    try:
        hf = Qwen2AudioForConditionalGeneration.from_pretrained(path, dtype=dtype, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        fe = WhisperFeatureExtractor.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, KeyError) as e:
        raise PathError(f"--model {path}: cannot load ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    if fe.feature_size != hf.config.audio_config.num_mel_bins:
        raise ConfigError(f"--model {path}: feature extractor has {fe.feature_size} mel bins, the tower "
                          f"{hf.config.audio_config.num_mel_bins}")
    return assemble(hf, tokenizer, fe, options, device, seed)


def assemble(hf, tokenizer, fe, options: ModelOptions, device: str = "cpu", seed: int = 0) -> Bundle:
    """Add the spatial stream, the hybrid projector and LoRA to a loaded (or freshly built)
    ``Qwen2AudioForConditionalGeneration``."""
    from peft import LoraConfig, get_peft_model

    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    hf.model.multi_modal_projector = torch.nn.Identity()   # replaced by the hybrid projector
    torch.manual_seed(seed)
    spatial = SpatialEncoder(5 * options.n_bands, options.spatial_dim, options.spatial_layers)
    projector = HybridProjector(hf.config.audio_config.d_model, len(options.semantic_layers), options.spatial_dim,
                                hf.config.text_config.hidden_size)
    lm = hf
    if options.lora_rank > 0:
        hf.requires_grad_(False)
        lm = get_peft_model(hf, LoraConfig(r=options.lora_rank, lora_alpha=options.lora_alpha,
                                           lora_dropout=options.lora_dropout, target_modules=LORA_TARGETS,
                                           modules_to_save=list(options.modules_to_save) or None))
    # the new modules stay float32 whatever the LM's dtype (bf16 AdamW updates would round
    # away); their output is cast to the LM's dtype where it enters the embeddings
    model = SpatialAudioLM(hf, spatial, projector, options.semantic_layers, lm=lm,
                           freeze_tower=options.freeze_tower).to(device)
    return Bundle(model, tokenizer, fe, options)
