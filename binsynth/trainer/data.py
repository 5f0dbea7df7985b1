"""binsynth shards → model inputs: clips (both streams' features, computed once) and
question/answer examples, batched with the loss on answer tokens only.

Shards are read through Hugging Face ``datasets`` (``Audio(decode=False)``: the FLAC bytes are
decoded here with soundfile, so no FFmpeg is needed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from binsynth.errors import PathError
from binsynth.trainer import features as feat
from binsynth.trainer.model import audio_token_lengths
from binsynth.trainer.prompts import followup_text, prompt_text, reference_answer, target_text

IGNORE = -100


@dataclass
class Clip:
    """One scene's audio as model inputs (float16 to halve the cache; cast at batch time)."""

    id: str
    semantic: torch.Tensor          # (mel bins, padded frames): the mono downmix's Whisper log-mel
    spatial: torch.Tensor           # (5 * bands, padded frames): binaural features
    frames: int                     # unpadded mel frames
    sources: list = field(default_factory=list)

    @property
    def n_tokens(self) -> int:
        return int(audio_token_lengths(torch.tensor(self.frames)))


@dataclass
class Example:
    """One question about one clip; ``answer`` is what the ``<answer>`` tag should hold."""

    clip: int
    task: str
    level: int
    question: str
    choices: list
    answer: str


def load_rows(dataset_dir: str | Path, split: str) -> list[dict]:
    """Every row of ``split`` in a binsynth dataset folder, audio as undecoded bytes."""
    import datasets

    files = sorted(Path(dataset_dir).glob(f"data/{split}-*.parquet"))
    if not files:
        raise PathError(f"{dataset_dir}: no shards for split {split!r} (data/{split}-*.parquet)")
    ds = datasets.load_dataset("parquet", data_files=[str(f) for f in files], split="train")
    for column in ("audio", "audio_foa"):  # FOA (4 channels) is kept as bytes too; the trainer hears binaural
        if column in ds.column_names:
            ds = ds.cast_column(column, datasets.Audio(decode=False))
    return list(ds)


def make_clips(rows: list[dict], feature_extractor, n_bands: int) -> list[Clip]:
    """Both streams' features for each row (resampled to 16 kHz, padded to the extractor's window)."""
    from binsynth.io.codecs import decode

    clips = []
    for row in rows:
        audio, fs = decode(row["audio"]["bytes"], row["id"])
        audio = feat.to_model_rate(audio, fs)
        fe = feature_extractor(feat.mono(audio), sampling_rate=feat.FS_HZ, return_attention_mask=True,
                               padding="max_length", truncation=True, return_tensors="pt")
        padded = fe["input_features"].shape[-1]
        spatial = feat.pad_frames(feat.binaural_features(audio, n_bands), padded)
        clips.append(Clip(row["id"], fe["input_features"][0].half(), spatial.half(),
                          int(fe["attention_mask"][0].sum()), list(row["sources"])))
    return clips


def qa_examples(rows: list[dict], first_clip: int = 0) -> list[Example]:
    """The shards' own QA: every question of every row."""
    out = []
    for k, row in enumerate(rows):
        for q in row["qa"]:
            out.append(Example(first_clip + k, q["task"], int(q["level"]), q["question"], list(q["choices"]),
                               reference_answer(q["answer"], q["choices"], int(q["answer_index"]))))
    return out


def collate(items: list, clips: list[Clip], tokenizer, *, with_targets: bool = True,
            padding_side: str = "right", targets: list[list[int]] | None = None) -> dict[str, torch.Tensor]:
    """A batch: token ids (prompt, then the target when ``with_targets``), attention mask,
    labels (-100 except on target tokens), and both streams' features for each item.

    An item is an :class:`Example`, or a list of Examples about one clip: a dialogue whose
    later questions follow each reference reply as new user turns (one pass of the audio
    for several questions). The target is the reference reply, or ``targets[i]`` (token
    ids, e.g. a sampled reply; single examples only). Use ``padding_side="left"`` for
    generation."""
    seqs, labels = [], []
    audio_id = tokenizer.convert_tokens_to_ids("<|AUDIO|>")
    for i, item in enumerate(items):
        turns = item if isinstance(item, list) else [item]
        clip = clips[turns[0].clip]
        ids, lab = [], []
        for k, ex in enumerate(turns):
            text = prompt_text(ex.question, ex.choices, clip.n_tokens) if k == 0 else followup_text(ex.question, ex.choices)
            prompt = tokenizer(text, add_special_tokens=False).input_ids
            if not with_targets:
                target = []
            elif targets is not None:
                target = list(targets[i])
                if audio_id in target:
                    raise ValueError("a reply contains <|AUDIO|>: it would shift the audio frames")
            else:
                target = tokenizer(target_text(ex.answer), add_special_tokens=False).input_ids
            ids += prompt + target
            lab += [IGNORE] * len(prompt) + target
        seqs.append(ids)
        labels.append(lab)
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    lab = torch.full((len(seqs), width), IGNORE, dtype=torch.long)
    for i, (s, l) in enumerate(zip(seqs, labels)):
        sl = slice(width - len(s), width) if padding_side == "left" else slice(0, len(s))
        ids[i, sl], mask[i, sl], lab[i, sl] = torch.tensor(s), 1, torch.tensor(l)
    used = [clips[(it[0] if isinstance(it, list) else it).clip] for it in items]
    frames = torch.tensor([c.frames for c in used])
    width_f = used[0].semantic.shape[-1]
    fmask = (torch.arange(width_f)[None, :] < frames[:, None]).long()
    batch = {"input_ids": ids, "attention_mask": mask,
             "input_features": torch.stack([c.semantic for c in used]).float(),
             "feature_attention_mask": fmask,
             "spatial_features": torch.stack([c.spatial for c in used]).float()}
    if with_targets:
        batch["labels"] = lab
    return batch


def dialogues(examples: list[Example], turns: int) -> list[list[Example]]:
    """The examples grouped by clip, at most ``turns`` questions per dialogue, in order."""
    by_clip: dict[int, list[Example]] = {}
    for ex in examples:
        by_clip.setdefault(ex.clip, []).append(ex)
    return [qs[k:k + turns] for _, qs in sorted(by_clip.items()) for k in range(0, len(qs), turns)]


def texts_for_tokenizer(rows: list[dict]) -> list[str]:
    """Everything a tiny tokenizer should cover: prompts' fixed text, questions, options, answers."""
    from binsynth.trainer.prompts import SYSTEM

    out = [SYSTEM, "Audio 1:", target_text("A"), "system user assistant"]
    for row in rows:
        for q in row["qa"]:
            out += [q["question"], q["answer"], *q["choices"], target_text(q["answer"])]
    return out

