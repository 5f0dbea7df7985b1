"""The trainer's parts: binaural features against closed forms, frame alignment of the two
streams, the tiny Qwen2-Audio checkpoint loaded through the real loading path, answer-only
labels, gradients where they belong, checkpoints and an exactly resumable SFT."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

pytest.importorskip("transformers")
pytest.importorskip("peft")

from binsynth.errors import PathError  # noqa: E402
from binsynth.trainer import checkpoint  # noqa: E402
from binsynth.trainer import features as feat  # noqa: E402
from binsynth.trainer.data import IGNORE, collate, load_rows, make_clips, qa_examples, texts_for_tokenizer  # noqa: E402
from binsynth.trainer.loading import ModelOptions, load_model  # noqa: E402
from binsynth.trainer.model import SpatialEncoder, audio_token_lengths  # noqa: E402
from binsynth.trainer.prompts import parse_reply, target_text  # noqa: E402
from binsynth.trainer.sft import SFTOptions, batch_indices, run_sft  # noqa: E402
from binsynth.trainer.tiny import build_tiny  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BANDS = 32


# ------------------------------------------------------------------ binaural features


def _band_of(freq_hz: float, n_bands: int = BANDS) -> int:
    return int(feat._mel_weights(n_bands)[int(round(freq_hz / (feat.FS_HZ / feat.N_FFT)))].argmax())


@pytest.mark.parametrize("delay, gain", [(3, 0.5), (-2, 2.0)])
def test_ipd_and_ild_of_a_delayed_scaled_tone(delay, gain):
    """Right ear = gain · left ear delayed by ``delay`` samples: IPD = 2πfτ, ILD = -20 log10(gain)."""
    f, n = 500.0, feat.FS_HZ
    t = np.arange(n) / feat.FS_HZ
    left = np.sin(2 * np.pi * f * t)
    right = gain * np.sin(2 * np.pi * f * (t - delay / feat.FS_HZ))
    x = feat.binaural_features(np.stack([left, right]).astype(np.float32), BANDS)
    assert x.shape == (5 * BANDS, n // feat.HOP)
    b, mid = _band_of(f), slice(10, -10)
    ipd = torch.atan2(x[3 * BANDS + b, mid], x[2 * BANDS + b, mid])
    np.testing.assert_allclose(ipd.numpy(), 2 * np.pi * f * delay / feat.FS_HZ, atol=2e-3)
    ild_db = x[4 * BANDS + b, mid] * feat.ILD_SCALE_DB
    np.testing.assert_allclose(ild_db.numpy(), -20 * np.log10(gain), atol=0.02)


def test_silent_bands_carry_no_interaural_cues_and_batches_match_singles():
    rng = np.random.default_rng(0)
    n = 8000
    t = np.arange(n) / feat.FS_HZ
    tone = np.sin(2 * np.pi * 300 * t)
    clip = np.stack([tone, 0.7 * tone]).astype(np.float32)
    x = feat.binaural_features(clip, BANDS)
    top = _band_of(6000.0)
    inner = slice(2, -2)  # the edge frames see the clip's start and end
    for channel in (2, 3, 4):  # cos IPD, sin IPD, ILD
        assert torch.all(x[channel * BANDS + top, inner] == 0)
    other = rng.standard_normal((2, n)).astype(np.float32) * 0.1
    both = feat.binaural_features(np.stack([clip, other]), BANDS)
    torch.testing.assert_close(both[0], x)
    torch.testing.assert_close(both[1], feat.binaural_features(other, BANDS))
    with pytest.raises(ValueError, match=r"expected \(2, n\)"):
        feat.binaural_features(np.zeros((3, n), np.float32))


def test_resampling_to_the_model_rate_keeps_a_tone():
    t = np.arange(48000) / 48000
    x = np.stack([np.sin(2 * np.pi * 1000 * t)] * 2).astype(np.float32)
    y = feat.to_model_rate(x, 48000)
    assert y.shape == (2, 16000)
    k = np.abs(np.fft.rfft(y[0])).argmax()
    assert k == 1000  # 1 Hz bins over 1 s


@pytest.mark.parametrize("frames", [300, 400, 3000])
def test_spatial_encoder_frames_match_the_tower(frames):
    """Both streams reach the audio-token rate with the same frame count for any padded input."""
    from transformers.models.qwen2_audio.modeling_qwen2_audio import Qwen2AudioEncoder, Qwen2AudioEncoderConfig

    cfg = Qwen2AudioEncoderConfig(d_model=16, encoder_layers=1, encoder_attention_heads=2, encoder_ffn_dim=32,
                                  num_mel_bins=8, max_source_positions=frames // 2)
    tower = Qwen2AudioEncoder(cfg).eval()
    sem = tower(torch.zeros(1, 8, frames)).last_hidden_state
    spa = SpatialEncoder(10, 16, 1, 2)(torch.zeros(1, 10, frames))
    assert sem.shape[1] == spa.shape[1] == int(audio_token_lengths(torch.tensor(frames)))


# ------------------------------------------------------------------ tiny model, data


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A few rendered scenes of recipes/train.yaml (1 s clips)."""
    from binsynth.dataset.pipeline import render_dataset
    from binsynth.recipe.model import parse_recipe

    folder = tmp_path_factory.mktemp("trainset")
    data = yaml.safe_load((ROOT / "recipes" / "train.yaml").read_text())
    data["dataset"]["splits"] = {"train": 12, "test": 4}
    data["audio"]["duration_s"] = 1.0
    data["output"]["shard_size"] = 6
    text = yaml.safe_dump(data)
    render_dataset(parse_recipe(text, base_dir=str(folder)), text, str(folder), folder / "ds")
    return folder / "ds"


@pytest.fixture(scope="module")
def tiny(dataset, tmp_path_factory):
    rows = load_rows(dataset, "train")
    path = build_tiny(tmp_path_factory.mktemp("tiny"), texts_for_tokenizer(rows), clip_s=1.0, vocab=400)
    return path, rows


def _bundle(path):
    return load_model(path, ModelOptions(n_bands=BANDS, spatial_dim=32, spatial_layers=1,
                                         modules_to_save=("embed_tokens", "lm_head")))


def test_rows_clips_and_answer_only_labels(tiny):
    path, rows = tiny
    b = _bundle(path)
    clips = make_clips(rows, b.feature_extractor, BANDS)
    assert len(clips) == len(rows) == 12
    assert clips[0].semantic.shape == (80, 100) and clips[0].spatial.shape == (5 * BANDS, 100)
    assert clips[0].frames == 100 and clips[0].n_tokens == 25
    examples = qa_examples(rows)
    assert len(examples) == sum(len(r["qa"]) for r in rows) >= 36
    batch = collate(examples[:3], clips, b.tokenizer)
    audio_id = b.tokenizer.convert_tokens_to_ids("<|AUDIO|>")
    assert ((batch["input_ids"] == audio_id).sum(1) == 25).all()
    # numbers are spelled digit by digit, as Qwen2's tokenizer does, whatever the training text held
    assert b.tokenizer.tokenize("-175 degrees")[:4] == ["-", "1", "7", "5"]
    assert [t for t in b.tokenizer.tokenize("2.35 m") if t[-1].isdigit()] == ["2", "3", "5"]
    for i, ex in enumerate(examples[:3]):
        target = batch["labels"][i][batch["labels"][i] != IGNORE]
        assert b.tokenizer.decode(target) == target_text(ex.answer)
        # right padding: the target ends where the attention mask ends
        assert batch["attention_mask"][i].sum() == (batch["labels"][i] != IGNORE).nonzero().max() + 1
    # a dialogue: the three questions of one clip, one audio pass, every answer supervised
    from binsynth.trainer.data import dialogues

    talks = dialogues(examples, 4)
    assert [len(t) for t in talks] == [len(r["qa"]) for r in rows]
    assert all(len({ex.clip for ex in t}) == 1 for t in talks) and len(talks[0]) >= 2
    both = collate([talks[0], examples[5]], clips, b.tokenizer)
    assert ((both["input_ids"] == audio_id).sum(1) == 25).all()
    target = both["labels"][0][both["labels"][0] != IGNORE]
    assert b.tokenizer.decode(target) == "".join(target_text(ex.answer) for ex in talks[0])
    text = b.tokenizer.decode(both["input_ids"][0][both["attention_mask"][0] == 1])
    assert all(text.count(ex.question) == 1 for ex in talks[0]) and text.count("<|im_start|>assistant") == len(talks[0])
    left = collate(examples[:3], clips, b.tokenizer, with_targets=False, padding_side="left")
    assert "labels" not in left and (left["attention_mask"][:, -1] == 1).all()


def test_gradients_reach_only_the_trainable_parts(tiny):
    path, rows = tiny
    b = _bundle(path)
    clips = make_clips(rows[:4], b.feature_extractor, BANDS)
    batch = collate(qa_examples(rows[:4]), clips, b.tokenizer)
    loss = b.model(**batch).loss
    assert torch.isfinite(loss)
    loss.backward()
    grads = {n: p.grad for n, p in b.model.named_parameters()}
    assert all(g is None for n, g in grads.items() if ".audio_tower." in n)
    trained = {n for n, g in grads.items() if g is not None and g.abs().sum() > 0}
    assert any(n.startswith("spatial.") for n in trained) and any(n.startswith("projector.") for n in trained)
    assert any("lora_A" in n for n in trained) or any("lora_B" in n for n in trained)
    assert not any("language_model" in n and "lora" not in n and "modules_to_save" not in n for n in trained)
    unfrozen = load_model(path, ModelOptions(n_bands=BANDS, spatial_dim=32, spatial_layers=1, freeze_tower=False))
    assert all(p.requires_grad for p in unfrozen.model.tower.parameters())


def test_zeroing_the_spatial_stream_removes_it(tiny):
    path, rows = tiny
    b = _bundle(path)
    clips = make_clips(rows[:2], b.feature_extractor, BANDS)
    batch = collate(qa_examples(rows[:2])[:2], clips, b.tokenizer)
    args = (batch["input_features"], batch["feature_attention_mask"])
    with torch.no_grad():
        full = b.model.audio_embeddings(*args, batch["spatial_features"])
        zero = b.model.audio_embeddings(*args, batch["spatial_features"], zero_spatial=True)
        other = b.model.audio_embeddings(*args, torch.randn_like(batch["spatial_features"]), zero_spatial=True)
    assert full.shape == zero.shape == (2 * 25, b.model.hf.config.text_config.hidden_size)
    assert not torch.allclose(full, zero)
    torch.testing.assert_close(zero, other)
    ids = batch["input_ids"].clone()
    ids[0, (ids[0] == b.model.audio_token_id).nonzero()[0]] = 0
    with pytest.raises(ValueError, match="<|AUDIO|> tokens for 50 audio frames"):
        b.model.embed(ids, *args, batch["spatial_features"])


def test_a_missing_or_wrong_model_directory_is_one_line(tmp_path):
    with pytest.raises(PathError, match="not a Qwen2-Audio checkpoint directory"):
        load_model(tmp_path / "nope")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "preprocessor_config.json").write_text("{}")
    with pytest.raises(PathError, match=r"--model .*: cannot load") as e:
        load_model(tmp_path)
    assert "\n" not in str(e.value)


def test_sft_resumes_exactly(tiny, tmp_path):
    """3 steps, a 'crash', 3 more from the checkpoint == 6 steps straight (same batches, same weights)."""
    path, rows = tiny
    opts = dict(batch_size=4, lr=1e-3, warmup_steps=2, save_every=3)
    b1 = _bundle(path)
    clips = make_clips(rows, b1.feature_extractor, BANDS)
    examples = qa_examples(rows)
    straight = run_sft(b1, examples, clips, tmp_path / "a", SFTOptions(steps=6, **opts))
    b2 = _bundle(path)
    run_sft(b2, examples, clips, tmp_path / "b", SFTOptions(steps=3, **opts))
    b3 = _bundle(path)
    resumed = run_sft(b3, examples, clips, tmp_path / "b", SFTOptions(steps=6, **opts))
    assert resumed["losses"] == straight["losses"] and len(straight["losses"]) == 6
    s1, s3 = b1.model.trainable_state(), b3.model.trainable_state()
    assert s1.keys() == s3.keys()
    for k in s1:
        torch.testing.assert_close(s1[k], s3[k], rtol=0, atol=0)
    # a checkpoint from another model shape is refused by name
    other = load_model(path, ModelOptions(n_bands=BANDS, spatial_dim=16, spatial_layers=1))
    with pytest.raises(PathError, match="does not fit this model"):
        checkpoint.load(tmp_path / "b" / "checkpoint", other.model)


def test_a_crash_between_checkpoint_renames_leaves_one_to_resume(tiny, tmp_path):
    path, rows = tiny
    b = _bundle(path)
    folder = tmp_path / "checkpoint"
    checkpoint.save(folder, b.model, None, {"step": 1})
    folder.rename(folder.with_name("checkpoint.old"))  # as if killed after moving the old one aside
    assert checkpoint.find(folder) == folder.with_name("checkpoint.old")
    assert checkpoint.load(checkpoint.find(folder), b.model)["step"] == 1
    shutil.rmtree(folder.with_name("checkpoint.old"))
    assert checkpoint.find(folder) is None


def test_batches_cover_every_example_once_per_epoch():
    n, bs = 10, 4
    seen = [i for step in range(5) for i in batch_indices(n, bs, step, seed=3)]
    assert sorted(seen[:10]) == list(range(10)) and sorted(seen[10:20]) == list(range(10))
    assert batch_indices(n, bs, 2, seed=3) == batch_indices(n, bs, 2, seed=3)
    assert batch_indices(n, bs, 0, seed=3) != batch_indices(n, bs, 0, seed=4)


def test_replies_are_parsed_strictly():
    assert parse_reply("<think>x</think><answer>left</answer><|im_end|>junk") == ("left", True)
    assert parse_reply("<answer> B </answer>") == ("B", False)
    assert parse_reply("left") == (None, False)
    assert parse_reply("<think></think><answer>a</answer> trailing") == ("a", False)


# ------------------------------------------------------------------ rewards, GRPO, config


def test_rewards_follow_the_normalised_answers():
    from binsynth.trainer.data import Example
    from binsynth.trainer.rewards import RewardOptions, score

    ok = lambda task, reply, ref, choices=(): score(Example(0, task, 1, "q", list(choices), ref), reply)  # noqa: E731
    assert ok("side", "<think></think><answer>Left</answer>", "left").reward == 1.0
    assert ok("side", "<answer>left</answer>", "left").reward == pytest.approx(0.9)  # right, but not well-formed
    assert ok("side", "<think></think><answer>right</answer>", "left").reward == pytest.approx(0.1)
    assert ok("direction_degrees", "<think></think><answer>-170</answer>", "175 degrees").correct  # circular, 15°
    assert not ok("direction_degrees", "<think></think><answer>150</answer>", "175 degrees").correct
    assert ok("distance", "<think></think><answer>2.7 m</answer>", "2.3 m").correct
    assert not ok("distance", "<think></think><answer>2.9 m</answer>", "2.3 m").correct
    assert ok("direction_sector", "<think></think><answer>C</answer>", "C", ["left", "front", "back", "right"]).correct
    assert ok("direction_sector", "<think></think><answer>back</answer>", "C", ["left", "front", "back", "right"]).correct
    assert ok("count", "<think>x</think><answer>three</answer>", "3").correct
    assert ok("sound_class", "nothing", "dog bark").reward == 0.0
    strict = score(Example(0, "side", 1, "q", [], "left"), "<answer>left</answer>", RewardOptions(format_weight=1.0))
    assert strict.correct and strict.reward == 0.0
    # graded credit (GRPO's training reward): near misses of angles and distances earn part of a hit
    graded = RewardOptions(graded=0.5)
    near = lambda task, reply, ref, choices=(): score(Example(0, task, 1, "q", list(choices), ref),  # noqa: E731
                                                      f"<think></think><answer>{reply}</answer>", graded).reward
    assert near("direction_degrees", "-30", "15 degrees") == pytest.approx(0.1 + 0.9 * 0.5 * (1 - 45 / 90))
    assert near("direction_degrees", "-170", "175 degrees") == pytest.approx(1.0)  # a hit stays a hit
    assert near("direction_sector", "D", "B", ["left", "front", "back", "front-right"]) == pytest.approx(0.1 + 0.45 * 0.5)
    assert near("direction_sector", "back", "front") == pytest.approx(0.1)  # 180° away: nothing
    assert near("distance", "1.5 m", "2.4 m") == pytest.approx(0.1 + 0.45 * (1 - 0.9 / 1.5))
    assert near("side", "right", "left") == pytest.approx(0.1)  # not an angle or a distance
    assert near("distance", "far away", "2.4 m") == pytest.approx(0.1)  # no number: no credit
    assert ok("direction_degrees", "<think></think><answer>-30</answer>", "15 degrees").reward == pytest.approx(0.1)


def test_group_advantages_and_the_clipped_objective():
    from binsynth.trainer.grpo import clipped_objective, group_advantages

    adv = group_advantages(np.array([[1.0, 0.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5]]))
    np.testing.assert_allclose(adv[0], [1, -1, -1, 1], atol=1e-3)
    assert np.all(adv[1] == 0)  # a flat group teaches nothing
    logp = torch.log(torch.tensor([[0.5, 0.5], [0.2, 0.2]]))
    mask = torch.tensor([[True, True], [True, False]])
    a = torch.tensor([1.0, -1.0])
    loss, kl = clipped_objective(logp, logp, a, mask, 0.2, ref_logp=logp, kl_coef=0.5)
    assert loss.item() == pytest.approx(0.0) and kl == pytest.approx(0.0)  # ratio 1: -mean(A) = 0; KL(π‖π) = 0
    # a ratio beyond 1 + ε earns no more than the clip for a positive advantage
    loss_hi, _ = clipped_objective(logp + 1.0, logp, torch.tensor([1.0, 1.0]), mask, 0.2)
    assert loss_hi.item() == pytest.approx(-1.2)
    # k3 KL of a shifted policy: exp(q) - q - 1 with q = -0.1
    _, kl = clipped_objective(logp, logp, a, mask, 0.2, ref_logp=logp - 0.1, kl_coef=1.0)
    assert kl == pytest.approx(np.exp(-0.1) + 0.1 - 1, rel=1e-5)


def test_grpo_prompt_sampling_follows_task_weights():
    from binsynth.errors import ConfigError
    from binsynth.trainer.data import Example
    from binsynth.trainer.grpo import prompt_probabilities

    exs = [Example(0, t, 1, "q", [], "a") for t in ("side", "side", "distance", "sound_class")]
    assert prompt_probabilities(exs, {}, 2) is None
    np.testing.assert_allclose(prompt_probabilities(exs, {"distance": 4.0, "sound_class": 0.0}, 2),
                               [1 / 6, 1 / 6, 4 / 6, 0.0])
    with pytest.raises(ConfigError, match="no training questions of task 'distnace'"):
        prompt_probabilities(exs, {"distnace": 2.0}, 2)
    with pytest.raises(ConfigError, match="fewer than prompts_per_step=2 questions with a positive weight"):
        prompt_probabilities(exs, {"side": 0.0, "sound_class": 0.0}, 2)


def test_grpo_raises_the_probability_of_rewarded_replies_and_resumes_exactly(tiny, tmp_path, monkeypatch):
    """A toy reward (a reply scores its length in characters): GRPO makes the expected length
    of the first reply token grow; 2 steps + resume 2 == 4 steps straight."""
    from binsynth.trainer import grpo
    from binsynth.trainer.data import collate
    from binsynth.trainer.rewards import Scored

    monkeypatch.setattr(grpo, "score", lambda ex, reply, opts: Scored(None, False, False, float(len(reply))))
    path, rows = tiny
    opts = dict(prompts_per_step=4, group_size=6, lr=3e-3, kl_coef=0.05, save_every=2, max_new_tokens=2,
                temperature=1.0, update_full_modules=True)

    def first_token_chars(b, examples, clips):
        lens = torch.tensor([len(b.tokenizer.decode([t])) for t in range(len(b.tokenizer))], dtype=torch.float32)
        batch = collate(examples, clips, b.tokenizer, with_targets=False, padding_side="left")
        with torch.no_grad():
            logits = b.model(**batch).logits[:, -1]
        return float((torch.softmax(logits.float(), -1)[:, :len(lens)] * lens).sum(-1).mean())

    b1 = _bundle(path)
    clips = make_clips(rows, b1.feature_extractor, BANDS)
    examples = qa_examples(rows)
    before = first_token_chars(b1, examples, clips)
    straight = grpo.run_grpo(b1, examples, clips, tmp_path / "a", grpo.GRPOOptions(steps=4, **opts))
    after = first_token_chars(b1, examples, clips)
    assert after > before * 1.05, (before, after)
    b2 = _bundle(path)
    grpo.run_grpo(b2, examples, clips, tmp_path / "b", grpo.GRPOOptions(steps=2, **opts))
    b3 = _bundle(path)
    resumed = grpo.run_grpo(b3, examples, clips, tmp_path / "b", grpo.GRPOOptions(steps=4, **opts))
    assert resumed["reward"] == straight["reward"]
    for k, v in b1.model.trainable_state().items():
        torch.testing.assert_close(v, b3.model.trainable_state()[k], rtol=0, atol=0)


def test_grpo_leaves_fully_trained_modules_alone_by_default(tiny, tmp_path, monkeypatch):
    from binsynth.trainer import grpo
    from binsynth.trainer.rewards import Scored

    monkeypatch.setattr(grpo, "score", lambda ex, reply, opts: Scored(None, False, False, float(len(reply))))
    path, rows = tiny
    b = _bundle(path)
    clips = make_clips(rows, b.feature_extractor, BANDS)
    before = {k: v.clone() for k, v in b.model.trainable_state().items()}
    grpo.run_grpo(b, qa_examples(rows), clips, tmp_path, grpo.GRPOOptions(steps=2, prompts_per_step=4, group_size=4,
                                                                          max_new_tokens=2, lr=1e-2))
    after = b.model.trainable_state()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and not any("modules_to_save" in k for k in changed)
    assert any("lora_B" in k for k in changed) and any(k.startswith("projector.") for k in changed)


def test_swapped_weights_are_restored(tiny):
    from binsynth.trainer.grpo import swapped_weights

    b = _bundle(tiny[0])
    own = {k: v.clone() for k, v in b.model.trainable_state().items()}
    zeros = {k: torch.zeros_like(v) for k, v in own.items()}
    with swapped_weights(b.model, zeros):
        assert all(torch.all(v == 0) for v in b.model.trainable_state().values())
    for k, v in b.model.trainable_state().items():
        torch.testing.assert_close(v, own[k], rtol=0, atol=0)


def test_train_config_errors_are_one_line(tmp_path):
    from binsynth.errors import ConfigError
    from binsynth.trainer.config import load_config

    cfg = tmp_path / "t.yaml"
    cfg.write_text("data: {dataset: ds}\nsft: {steps: 0}\n")
    with pytest.raises(ConfigError, match=r"sft\.steps: Input should be greater than or equal to 1"):
        load_config(cfg)
    cfg.write_text("data: {dataset: ds}\nsft: {stpes: 3}\n")
    with pytest.raises(ConfigError, match=r"sft\.stpes: Extra inputs are not permitted"):
        load_config(cfg)
    cfg.write_text("- a\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(cfg)
    with pytest.raises(ConfigError, match="no such train config"):
        load_config(tmp_path / "missing.yaml")
    cfg.write_text("data: {dataset: ds}\nout: runs\n")
    c = load_config(cfg)
    assert c.path(c.out) == tmp_path / "runs" and c.grpo.reference == "sft"
    assert load_config(ROOT / "configs" / "train.yaml").model.path is None


def test_cli_train_reports_bad_input_in_one_line(tmp_path):
    from conftest import run_cli

    cfg = tmp_path / "t.yaml"
    cfg.write_text(f"out: {tmp_path / 'out'}\ndata: {{dataset: {tmp_path / 'nothing'}}}\n")
    for stage in ("pretrain", "sft", "eval"):
        done = run_cli("train", stage, str(cfg))
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
        want = "pretrain.steps is 0" if stage == "pretrain" else "not a finished binsynth dataset, and no data.recipe"
        assert want in done.stderr, done.stderr
    cfg.write_text(cfg.read_text() + "pretrain: {steps: 5}\n")
    done = run_cli("train", "pretrain", str(cfg))
    assert done.returncode == 2 and "not a finished binsynth dataset, and no data.recipe" in done.stderr
    done = run_cli("train", "sft", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2 and "no such train config" in done.stderr


@pytest.mark.slow
def test_train_all_renders_trains_evaluates_and_resumes(tmp_path):
    """`binsynth train all` on a fresh folder: renders the recipe, builds the tiny model, SFT →
    GRPO → eval, a table and a last line of JSON; run again, it resumes (nothing retrained)
    and reports the same numbers."""
    import json

    from conftest import run_cli

    data = yaml.safe_load((ROOT / "recipes" / "train.yaml").read_text())
    data["dataset"]["splits"] = {"train": 8, "test": 4, "tune": 4}
    data["audio"]["duration_s"] = 1.0
    data["output"]["shard_size"] = 4
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(data))
    (tmp_path / "c.yaml").write_text(
        "out: run\ndata: {dataset: run/dataset, recipe: r.yaml, grpo_split: tune}\n"
        "model: {n_bands: 16, spatial_dim: 16, spatial_layers: 1, modules_to_save: [embed_tokens, lm_head],"
        " tiny: {vocab: 400}}\n"
        "pretrain: {steps: 4, batch_size: 4, save_every: 2}\n"
        "sft: {steps: 6, batch_size: 4, save_every: 3, audio_lr_scale: 0.3}\ngrpo: {steps: 2, prompts_per_step: 2, group_size: 3,"
        " max_new_tokens: 8}\neval: {max_new_tokens: 8}\n")
    first = run_cli("train", "all", str(tmp_path / "c.yaml"), cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    for key in ("left_right_acc", "sector8_acc", "class_acc", "left_right_acc_spatial_zeroed", "sft_reward",
                "grpo_reward", "reward_se", "n_questions"):
        assert key in summary, key
    assert summary["n_questions"] == 16  # 4 test scenes × 4 questions
    assert "held-out evaluation" in first.stdout and "probe: left/right" in first.stdout
    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) == {"sft", "grpo"} and metrics["sft"]["n_questions"] == 16
    assert json.loads((run / "sft" / "checkpoint" / "state.json").read_text())["step"] == 6
    assert json.loads((run / "pretrain" / "checkpoint" / "state.json").read_text())["step"] == 4
    assert "encoder's held-out azimuth error" in first.stdout
    mtime = (run / "sft" / "checkpoint" / "trainable.safetensors").stat().st_mtime_ns
    again = run_cli("train", "all", str(tmp_path / "c.yaml"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout.strip().splitlines()[-1]) == summary
    assert (run / "sft" / "checkpoint" / "trainable.safetensors").stat().st_mtime_ns == mtime


def test_replies_never_contain_audio_placeholders(tiny):
    """Even a model that prefers <|AUDIO|> above all never generates it (it would shift the
    audio frames of every later forward pass)."""
    from binsynth.trainer.generation import generate_replies

    path, rows = tiny
    b = _bundle(path)
    clips = make_clips(rows[:2], b.feature_extractor, BANDS)
    audio = b.model.audio_token_id

    def prefer_audio(module, args, out):
        out = out.clone()
        out[..., audio] += 1e4
        return out
    b.model.hf.get_output_embeddings().register_forward_hook(prefer_audio)
    replies = generate_replies(b, qa_examples(rows[:2]), clips, max_new_tokens=5)
    assert replies and all(audio not in r and len(r) > 0 for r in replies)


# ------------------------------------------------------------------ spatial-encoder pretraining


def test_pretraining_targets_peak_at_each_source():
    from binsynth.trainer.pretrain import AZIMUTH_BINS, DISTANCE_BINS, ELEVATION_BINS, label_targets, map_slices

    srcs = [[{"azimuth": 175.0, "elevation": 0.0, "distance": 1.0, "label": "dog"}],
            [{"azimuth": -90.0, "elevation": 30.0, "distance": 2.5, "label": "cat"},
             {"azimuth": 40.0, "elevation": -10.0, "distance": 1.0, "label": "dog"}]]
    t = label_targets(srcs, ["cat", "dog"])
    s = map_slices(2)
    az, el, dist, cls = (t[:, s[k]].numpy() for k in ("azimuth", "elevation", "distance", "class"))
    assert t.shape == (2, len(AZIMUTH_BINS) + len(ELEVATION_BINS) + len(DISTANCE_BINS) + 2)
    # 175° lies between the 170° bin and the -180° bin, 5° from each: the bump wraps around
    i170, i180 = list(AZIMUTH_BINS).index(170.0), list(AZIMUTH_BINS).index(-180.0)
    np.testing.assert_allclose([az[0, i170], az[0, i180]], np.exp(-0.5 * 0.5 ** 2), rtol=1e-6)
    assert az[0].argsort()[-2:].tolist() in ([i170, i180], [i180, i170])
    # two sources: both peaks are 1, the map is their maximum
    assert az[1, list(AZIMUTH_BINS).index(-90.0)] == 1.0 and az[1, list(AZIMUTH_BINS).index(40.0)] == 1.0
    assert el[1, list(ELEVATION_BINS).index(30.0)] == 1.0 and el[1, list(ELEVATION_BINS).index(-10.0)] == 1.0
    assert dist[0, list(DISTANCE_BINS).index(1.0)] == 1.0 and dist[1, list(DISTANCE_BINS).index(2.5)] == 1.0
    np.testing.assert_array_equal(cls, [[0.0, 1.0], [1.0, 1.0]])


def test_pretraining_localises_resumes_exactly_and_seeds_sft(tiny, tmp_path):
    """The encoder fits its clips' directions (azimuth error of the map's peak falls from
    chance to under 30°), 2 + 2 resumed steps == 4 straight, and SFT starts from it."""
    from binsynth.trainer.pretrain import (PretrainOptions, _Pretraining, azimuth_error_deg, load_encoder, map_slices,
                                           run_pretrain)

    path, rows = tiny
    b = _bundle(path)
    clips = make_clips(rows, b.feature_extractor, BANDS)
    opts = dict(batch_size=6, lr=3e-3, warmup_steps=2, save_every=2)
    straight = run_pretrain(_bundle(path), clips, tmp_path / "a", PretrainOptions(steps=4, **opts))
    run_pretrain(_bundle(path), clips, tmp_path / "b", PretrainOptions(steps=2, **opts))
    resumed = run_pretrain(_bundle(path), clips, tmp_path / "b", PretrainOptions(steps=4, **opts))
    assert resumed["losses"] == straight["losses"] and len(straight["losses"]) == 4

    fresh = _Pretraining(_bundle(path).model.spatial, map_slices(len(straight["classes"]))["class"].stop)
    before = azimuth_error_deg(fresh, clips)
    fit = run_pretrain(b, clips, tmp_path / "c", PretrainOptions(steps=150, **opts), test_clips=clips)
    assert before > 60.0 and fit["azimuth_mae_deg"] < 30.0, (before, fit["azimuth_mae_deg"])

    sft = _bundle(path)
    load_encoder(tmp_path / "c" / "checkpoint", sft.model)
    for k, v in b.model.spatial.state_dict().items():
        torch.testing.assert_close(sft.model.spatial.state_dict()[k], v, rtol=0, atol=0)
    other = load_model(path, ModelOptions(n_bands=BANDS, spatial_dim=16, spatial_layers=1))
    with pytest.raises(PathError, match="spatial encoder does not fit this model"):
        load_encoder(tmp_path / "c" / "checkpoint", other.model)
