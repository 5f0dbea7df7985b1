"""Dry-source corpora: synthetic classes, folder and manifest corpora, split partitioning.

Audio is mono float32 in [-1, 1]; rates in Hz; times in seconds. Fixture files are written
with soundfile into tmp_path; nothing touches the network.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from binsynth.corpora import (
    CLASS_NAMES,
    Clip,
    FolderCorpus,
    ManifestCorpus,
    SyntheticCorpus,
    assign_split,
    make_corpus,
    partition,
    synthesize,
)
from binsynth.corpora.base import peak_dbfs, read_audio
from binsynth.corpora.split import hash_unit, normalise_weights
from binsynth.errors import AudioFileError, BinsynthError, ConfigError, PathError

# ------------------------------------------------------------------ synthetic classes


def test_class_list_is_append_only():
    # the index of a class seeds its random streams: these must never move
    assert CLASS_NAMES[:12] == (
        "siren", "alarm_beeps", "engine_hum", "bird_chirps", "footsteps", "speech_babble",
        "piano_notes", "dog_bark", "door_knock", "rain", "telephone_ring", "clock_tick",
    )  # fmt: skip


def test_same_arguments_give_identical_bytes_and_variants_differ():
    for label in CLASS_NAMES:
        a = synthesize(label, 7, 16000, 0.5)
        b = synthesize(label, 7, 16000, 0.5)
        assert a.tobytes() == b.tobytes(), label
        c = synthesize(label, 8, 16000, 0.5)
        assert not np.array_equal(a, c), label
    assert not np.array_equal(synthesize("siren", 7, 16000, 0.5), synthesize("alarm_beeps", 7, 16000, 0.5))


@pytest.mark.parametrize("fs_hz", [8000, 22050, 48000])
def test_synthetic_audio_is_clean(fs_hz):
    duration_s = 0.75
    for label in CLASS_NAMES:
        for n in (0, 1):
            x = synthesize(label, n, fs_hz, duration_s)
            assert x.dtype == np.float32 and x.ndim == 1, label
            assert x.shape[0] == round(duration_s * fs_hz), label
            assert np.all(np.isfinite(x)), label
            assert peak_dbfs(x) == pytest.approx(-3.0, abs=1e-3), label
            assert abs(float(x.mean(dtype=np.float64))) < 1e-5, label  # no DC
            assert abs(x[0]) < 1e-4 and abs(x[-1]) < 1e-4, label  # faded, no click
            # 10 ms raised-cosine fades: the gain is < 0.025 over the first and last 1 ms
            ms = fs_hz // 1000
            assert np.max(np.abs(x[:ms])) < 0.025 and np.max(np.abs(x[-ms:])) < 0.025, label


def test_a_variant_sounds_the_same_at_any_rate():
    """Parameters do not depend on the rate: 48 kHz resampled to 16 kHz matches 16 kHz."""
    for label in ("siren", "piano_notes", "telephone_ring"):
        lo = synthesize(label, 3, 16000, 1.0).astype(np.float64)
        hi = signal.resample_poly(synthesize(label, 3, 48000, 1.0).astype(np.float64), 1, 3)
        corr = np.dot(lo, hi) / np.sqrt(np.dot(lo, lo) * np.dot(hi, hi))
        assert corr > 0.95, (label, corr)


def test_offset_continues_the_same_variant():
    whole = synthesize("engine_hum", 2, 16000, 1.5).astype(np.float64)
    tail = synthesize("engine_hum", 2, 16000, 1.0, offset_s=0.5).astype(np.float64)
    ref = whole[8000 + 800 : -800]  # skip the fades
    got = tail[800:-800]
    assert np.corrcoef(ref, got)[0, 1] > 0.999


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(label="whale_song"),
        dict(clip_id=-1),
        dict(clip_id=1.5),
        dict(fs_hz=4000),
        dict(fs_hz=16000.0),
        dict(duration_s=0.0),
        dict(duration_s=math.nan),
        dict(duration_s=1e-6),
        dict(offset_s=-1.0),
    ],
)
def test_synthesize_refuses_bad_arguments(kwargs):
    args = dict(label="siren", clip_id=0, fs_hz=16000, duration_s=0.5) | kwargs
    with pytest.raises(ConfigError) as e:
        synthesize(**args)
    assert "\n" not in str(e.value)


def _mel_bank(fs_hz: int, n_fft: int, n_mels: int = 40, fmin_hz: float = 50.0) -> np.ndarray:
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731
    imel = lambda m: 700.0 * (10.0 ** (m / 2595.0) - 1.0)  # noqa: E731
    edges = imel(np.linspace(mel(fmin_hz), mel(0.475 * fs_hz), n_mels + 2))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / fs_hz)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0.0, None)


def _features(x: np.ndarray, fs_hz: int, bank: np.ndarray) -> np.ndarray:
    """Log-mel mean and spread over the active frames, envelope modulation, a few spectral scalars."""
    f, t, stft = signal.stft(x.astype(np.float64), fs_hz, nperseg=512, noverlap=256)
    power = np.abs(stft) ** 2
    logmel = np.log10(bank @ power + 1e-10)
    frame_db = 10.0 * np.log10(power.sum(0) + 1e-10)
    active = frame_db > frame_db.max() - 30.0
    env = frame_db - frame_db.mean()
    mod = np.abs(np.fft.rfft(env * np.hanning(env.size))) ** 2
    mod_hz = np.fft.rfftfreq(env.size, t[1] - t[0])
    mod_bands = [mod[(mod_hz >= a) & (mod_hz < b)].sum() for a, b in ((0.3, 1.5), (1.5, 4), (4, 10), (10, 31))]
    flatness = np.exp(np.mean(np.log(power + 1e-12), 0)) / (np.mean(power, 0) + 1e-12)
    centroid = (f[:, None] * power).sum(0) / (power.sum(0) + 1e-12)
    scalars = [
        frame_db.std() / 10.0,
        active.mean(),
        flatness[active].mean(),
        np.log(centroid[active].mean()),
        centroid[active].std() / centroid[active].mean(),
    ]
    return np.concatenate([
        logmel[:, active].mean(1),
        logmel[:, active].std(1),
        np.log10(np.asarray(mod_bands) + 1e-6) - np.log10(mod.sum() + 1e-6),
        scalars,
    ])  # fmt: skip


def test_classes_are_separable_by_a_nearest_centroid_classifier():
    """Held-out variants are classified >= 95 % right: the classes are learnable.

    Nearest class mean on log-mel/modulation features, distances measured after whitening
    with the pooled within-class covariance (shrunk towards its mean variance): the LDA
    form of nearest centroid. Train and test variants come from different splits.
    """
    fs_hz, duration_s = 16000, 1.0
    corpus = SyntheticCorpus(clips_per_class=200, splits={"train": 0.5, "test": 0.5})
    train, test = corpus.clip_numbers("train")[:25], corpus.clip_numbers("test")[:25]
    assert not set(train) & set(test)
    bank = _mel_bank(fs_hz, 512)

    def table(ids):
        feats = [_features(synthesize(label, n, fs_hz, duration_s), fs_hz, bank) for label in CLASS_NAMES for n in ids]
        return np.array(feats), np.repeat(np.arange(len(CLASS_NAMES)), len(ids))

    x_tr, y_tr = table(train)
    x_te, y_te = table(test)
    mu, sd = x_tr.mean(0), x_tr.std(0) + 1e-9
    x_tr, x_te = (x_tr - mu) / sd, (x_te - mu) / sd
    centroids = np.stack([x_tr[y_tr == k].mean(0) for k in range(len(CLASS_NAMES))])
    resid = x_tr - centroids[y_tr]
    within = resid.T @ resid / len(resid)
    d = within.shape[0]
    within = 0.8 * within + 0.2 * np.eye(d) * np.trace(within) / d
    whiten = np.linalg.cholesky(np.linalg.inv(within))
    dist = (((x_te[:, None, :] - centroids[None]) @ whiten) ** 2).sum(-1)
    pred = dist.argmin(1)
    accuracy = float((pred == y_te).mean())
    per_class = {CLASS_NAMES[k]: float((pred[y_te == k] == k).mean()) for k in range(len(CLASS_NAMES))}
    assert accuracy >= 0.95, per_class
    assert min(per_class.values()) >= 0.8, per_class


# ------------------------------------------------------------------ synthetic corpus


def test_synthetic_corpus_partitions_variant_integers():
    corpus = SyntheticCorpus(clips_per_class=300)
    assert corpus.splits() == ["train", "validation", "test"]
    numbers = {s: set(corpus.clip_numbers(s)) for s in corpus.splits()}
    assert set.union(*numbers.values()) == set(range(300))
    assert sum(len(v) for v in numbers.values()) == 300  # disjoint
    ids = {s: {c.clip_id for c in corpus.clips(s)} for s in corpus.splits()}
    assert not (ids["train"] & ids["test"]) and not (ids["train"] & ids["validation"])
    clips = corpus.clips("test")
    assert len(clips) == len(numbers["test"]) * len(CLASS_NAMES)
    assert all(c.split == "test" and c.path is None and c.corpus == "synthetic" for c in clips)
    assert clips == corpus.clips("test")  # deterministic order
    # the split of an integer does not depend on the corpus's name or size
    other = SyntheticCorpus(name="demo", clips_per_class=100)
    assert set(other.clip_numbers("train")) == numbers["train"] & set(range(100))


def test_synthetic_corpus_load_and_lookup():
    corpus = SyntheticCorpus(classes=["rain", "siren"], clips_per_class=50, duration_s=0.5)
    assert corpus.labels() == ["siren", "rain"]  # class-index order
    clip = corpus.clips("train")[0]
    assert clip == Clip("synthetic", f"siren/{corpus.clip_numbers('train')[0]}", "siren", None, "train")
    assert corpus.clip(clip.clip_id) == clip
    assert Clip.from_dict(clip.to_dict()) == clip
    x = corpus.load(clip, 16000)
    n = int(clip.clip_id.split("/")[1])
    assert x.tobytes() == synthesize("siren", n, 16000, 0.5).tobytes()
    assert corpus.load(clip, 8000, duration_s=0.25).shape == (2000,)
    assert corpus.clip_duration_s(clip) is None
    for bad in ("siren/50", "dog_bark/1", "siren", "siren/x"):
        with pytest.raises(ConfigError):
            corpus.clip(bad)
    with pytest.raises(ConfigError, match="unknown split"):
        corpus.clips("dev")
    with pytest.raises(ConfigError, match="belongs to corpus"):
        corpus.load(Clip("other", "siren/1", "siren"), 16000)
    summary = corpus.partition_summary()
    assert "SHA-256" in summary and "synthetic/<n>" in summary and "No clip is in two splits" in summary
    assert corpus.describe()["clips_per_split"] == {s: len(corpus.clips(s)) for s in corpus.splits()}


# ------------------------------------------------------------------ split partitioning


def test_hash_assignment_is_pinned():
    # golden values: a change here reshuffles every dataset ever built
    assert hash_unit("birds/robin/001.wav") == 0.1320710723343484
    assert hash_unit("synthetic/3") == 0.8907358344379936
    assert assign_split("birds/robin/001.wav", {"train": 0.8, "test": 0.2}) == "test"
    assert assign_split("birds/crow/002.wav", {"train": 0.8, "test": 0.2}) == "train"
    # weights are laid out in split-name order, whatever the dict order
    assert assign_split("birds/crow/002.wav", {"test": 2, "train": 8}) == "train"


def test_partition_of_1000_clips():
    ids = [(f"label{i % 7}", f"label{i % 7}/{i:04d}.wav") for i in range(1000)]
    clips = [Clip("birds", clip_id, label, clip_id) for label, clip_id in ids]
    weights = {"train": 0.7, "validation": 0.1, "test": 0.2}
    parts = partition(clips, weights, "birds")
    assert sum(len(v) for v in parts.values()) == 1000
    seen = [c.clip_id for v in parts.values() for c in v]
    assert len(set(seen)) == 1000  # no clip in two splits
    for split, w in weights.items():
        assert abs(len(parts[split]) / 1000 - w) < 0.05, (split, len(parts[split]))
        assert all(c.split == split for c in parts[split])
    assert partition(clips, dict(reversed(weights.items())), "birds") == parts  # stable
    # the corpus name is part of the key: another name, another (equally valid) shuffle
    assert partition(clips, weights, "birds2") != parts


def test_partition_explicit_split_wins_and_duplicates_are_refused():
    clips = [Clip("c", f"{i}.wav", "a", f"{i}.wav", "test" if i < 10 else None) for i in range(100)]
    parts = partition(clips, {"train": 1.0}, "c")
    assert [c.clip_id for c in parts["test"]] == [f"{i}.wav" for i in range(10)]
    assert len(parts["train"]) == 90
    with pytest.raises(ConfigError, match="appears twice"):
        partition(clips + clips[:1], {"train": 1.0}, "c")


@pytest.mark.parametrize(
    "weights", [{}, {"train": -0.1}, {"train": 0}, {"train": math.inf}, {"": 1.0}, {"a/b": 1.0}, {"train": "0.8"}]
)
def test_bad_split_weights_are_refused(weights):
    with pytest.raises(ConfigError):
        normalise_weights(weights)


# ------------------------------------------------------------------ file corpora: fixtures

FS_A = 16000


def _tone(fs_hz: int, duration_s: float, freq_hz: float = 1000.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(fs_hz * duration_s))) / fs_hz
    return (amp * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


@pytest.fixture
def audio_root(tmp_path) -> Path:
    """root/<label>/ with a mono WAV, a stereo FLAC, a 22.05 kHz WAV, an OGG and noise."""
    root = tmp_path / "sounds"
    (root / "dog").mkdir(parents=True)
    (root / "bird" / "sub").mkdir(parents=True)
    (root / ".cache").mkdir()
    ramp = np.linspace(-0.5, 0.5, FS_A, dtype=np.float32)  # 1 s at 16 kHz
    sf.write(root / "dog" / "mono.wav", ramp, FS_A, subtype="FLOAT")
    left = _tone(48000, 0.5, 1000.0, 0.8)
    stereo = np.stack([left, 0.5 * left], axis=1)  # average = 0.75 x left
    sf.write(root / "dog" / "stereo.FLAC", stereo, 48000, subtype="PCM_24")
    sf.write(root / "bird" / "slow.wav", _tone(22050, 1.0, 1000.0), 22050)
    sf.write(root / "bird" / "sub" / "deep.ogg", _tone(16000, 0.5, 500.0), 16000, format="OGG", subtype="VORBIS")
    (root / "bird" / "notes.txt").write_text("not audio, not listed")
    sf.write(root / ".cache" / "hidden.wav", ramp, FS_A)
    sf.write(root / "stray.wav", ramp, FS_A)  # not in a label folder
    return root


# ------------------------------------------------------------------ folder corpus


def test_folder_corpus_lists_labels_and_partitions(audio_root):
    corpus = FolderCorpus(audio_root, splits={"train": 0.5, "test": 0.5})
    assert corpus.name == "sounds"
    assert corpus.labels() == ["bird", "dog"]
    all_ids = sorted(c.clip_id for s in corpus.splits() for c in corpus.clips(s))
    assert all_ids == ["bird/slow.wav", "bird/sub/deep.ogg", "dog/mono.wav", "dog/stereo.FLAC"]
    again = FolderCorpus(audio_root, splits={"test": 0.5, "train": 0.5})
    for s in corpus.splits():
        assert corpus.clips(s) == again.clips(s)
        for c in corpus.clips(s):
            assert c.split == s and c.path == c.clip_id and c.corpus == "sounds"
            assert s == assign_split(f"sounds/{c.clip_id}", {"train": 0.5, "test": 0.5})
    corpus.verify()
    assert "sounds/<clip_id>" in corpus.partition_summary()


def test_folder_corpus_reads_downmixes_and_resamples(audio_root):
    corpus = FolderCorpus(audio_root, splits={"train": 1.0})
    mono = corpus.load(corpus.clip("dog/mono.wav"), FS_A)
    assert mono.dtype == np.float32 and mono.shape == (FS_A,)
    np.testing.assert_allclose(mono, np.linspace(-0.5, 0.5, FS_A), atol=1e-6)  # order kept, no gain

    stereo = corpus.load(corpus.clip("dog/stereo.FLAC"), 48000)
    np.testing.assert_allclose(stereo, 0.75 * _tone(48000, 0.5, 1000.0, 0.8), atol=1e-4)  # (L + R) / 2

    slow = corpus.load(corpus.clip("bird/slow.wav"), FS_A)  # 22.05 kHz -> 16 kHz
    assert slow.shape == (FS_A,)
    spectrum = np.abs(np.fft.rfft(slow * np.hanning(slow.size)))
    assert np.fft.rfftfreq(slow.size, 1 / FS_A)[spectrum.argmax()] == pytest.approx(1000.0, abs=2.0)
    assert np.max(np.abs(slow[1000:-1000])) == pytest.approx(0.5, abs=0.01)

    ogg = corpus.load(corpus.clip("bird/sub/deep.ogg"), FS_A)
    assert ogg.shape == (8000,) and np.max(np.abs(ogg)) > 0.3
    assert corpus.clip_duration_s(corpus.clip("bird/slow.wav")) == pytest.approx(1.0)


def test_file_segments_pad_trim_offset_and_normalise(audio_root):
    corpus = FolderCorpus(audio_root, splits={"train": 1.0})
    clip = corpus.clip("dog/mono.wav")
    ramp = np.linspace(-0.5, 0.5, FS_A)
    padded = corpus.load(clip, FS_A, duration_s=1.5)
    assert padded.shape == (24000,) and not padded[FS_A:].any()
    np.testing.assert_allclose(padded[:FS_A], ramp, atol=1e-6)  # nothing cut: no fade
    cut = corpus.load(clip, FS_A, duration_s=0.5, offset_s=0.25)
    assert cut.shape == (8000,)
    np.testing.assert_allclose(cut[200:-200], ramp[4000 + 200 : 12000 - 200], atol=1e-6)
    assert abs(cut[0]) < 0.01 and abs(cut[-1]) < 0.01  # 5 ms fades at both cut edges
    with pytest.raises(AudioFileError, match="past the end"):
        corpus.load(clip, FS_A, offset_s=2.0)
    loud = FolderCorpus(audio_root, splits={"train": 1.0}, peak_dbfs=-1.0)
    assert peak_dbfs(loud.load(loud.clip("dog/mono.wav"), FS_A)) == pytest.approx(-1.0, abs=1e-4)


def test_bad_audio_file_gives_a_one_line_error(audio_root):
    bad = audio_root / "dog" / "broken.wav"
    bad.write_text("this is not a RIFF file\n")
    corpus = FolderCorpus(audio_root, splits={"train": 1.0})
    with pytest.raises(AudioFileError) as e:
        corpus.load(corpus.clip("dog/broken.wav"), FS_A)
    msg = str(e.value)
    assert "broken.wav" in msg and "not a readable audio file" in msg and "\n" not in msg
    assert isinstance(e.value, BinsynthError) and isinstance(e.value, ValueError)
    with pytest.raises(AudioFileError, match="broken.wav"):
        corpus.verify()
    with pytest.raises(PathError, match="does not exist"):
        read_audio(audio_root / "dog" / "missing.wav", FS_A)
    with pytest.raises(ConfigError, match="fs_hz"):
        corpus.load(corpus.clip("dog/mono.wav"), 0)


def test_folder_corpus_refuses_missing_or_empty_roots(tmp_path):
    with pytest.raises(PathError, match="does not exist"):
        FolderCorpus(tmp_path / "nope")
    (tmp_path / "empty" / "dog").mkdir(parents=True)
    with pytest.raises(ConfigError, match="no audio files"):
        FolderCorpus(tmp_path / "empty")


# ------------------------------------------------------------------ manifest corpus


def _write_csv(path: Path, rows: list[dict], header: str = "path,label,split") -> Path:
    keys = header.split(",")
    lines = [header] + [",".join(str(r.get(k, "")) for k in keys) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


ROWS = [
    {"path": "dog/mono.wav", "label": "dog", "split": "test"},
    {"path": "dog/stereo.FLAC", "label": "dog"},
    {"path": "./bird/slow.wav", "label": "bird", "split": ""},
    {"path": "bird/sub/deep.ogg", "label": "bird"},
]


def test_manifest_csv_and_jsonl_agree(audio_root):
    csv_corpus = ManifestCorpus(_write_csv(audio_root / "list.csv", ROWS), splits={"train": 1.0})
    (audio_root / "list.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n\n")
    jsonl_corpus = ManifestCorpus(audio_root / "list.jsonl", splits={"train": 1.0})
    assert csv_corpus.name == jsonl_corpus.name == "list"
    assert csv_corpus.splits() == ["train", "test"]
    for corpus in (csv_corpus, jsonl_corpus):
        assert [c.clip_id for c in corpus.clips("test")] == ["dog/mono.wav"]  # explicit split wins
        assert [c.clip_id for c in corpus.clips("train")] == ["dog/stereo.FLAC", "bird/slow.wav", "bird/sub/deep.ogg"]
        x = corpus.load(corpus.clip("bird/slow.wav"), 8000, duration_s=0.5)
        assert x.shape == (4000,) and x.dtype == np.float32
        summary = corpus.partition_summary()
        assert "1 clips kept the split given" in summary and "list/<clip_id>" in summary


def test_manifest_paths_may_not_escape_the_root(audio_root, tmp_path):
    outside = tmp_path / "outside.wav"
    sf.write(outside, _tone(FS_A, 0.2), FS_A)
    for path in (str(outside), "../outside.wav", "dog/../../outside.wav"):
        manifest = _write_csv(audio_root / "m.csv", [{"path": path, "label": "x"}], header="path,label")
        with pytest.raises(ConfigError, match="m.csv line 2") as e:
            ManifestCorpus(manifest)
        assert "allow_absolute" in str(e.value)
        corpus = ManifestCorpus(manifest, allow_absolute=True, splits={"train": 1.0})
        (clip,) = corpus.clips("train")
        assert Path(clip.path).is_absolute()
        assert corpus.load(clip, FS_A).shape == (3200,)


@pytest.mark.parametrize(
    "text, error, match",
    [
        ("path,split\ndog/mono.wav,train\n", ConfigError, "lacks column"),
        ("path,label\ndog/mono.wav,\n", ConfigError, "line 2: missing 'label'"),
        ("path,label\ndog/gone.wav,dog\n", PathError, "line 2: audio file 'dog/gone.wav' does not exist"),
        ("path,label\ndog/mono.wav,dog\n./dog/mono.wav,dog\n", ConfigError, "line 3: path './dog/mono.wav' is alr"),
        ("path,label\ndog/mono.wav,dog,extra\n", ConfigError, "line 2: more fields"),
        ("path,label\n", ConfigError, "lists no clips"),
        ("path,label\ndog\\mono.wav,dog\n", ConfigError, "Windows separators"),
    ],
)
def test_bad_csv_manifests(audio_root, text, error, match):
    (audio_root / "bad.csv").write_text(text)
    with pytest.raises(error, match=match) as e:
        ManifestCorpus(audio_root / "bad.csv")
    assert "bad.csv" in str(e.value) and "\n" not in str(e.value)


def test_bad_jsonl_manifests(audio_root):
    (audio_root / "bad.jsonl").write_text('{"path": "dog/mono.wav", "label": "dog"}\n{"path": oops}\n')
    with pytest.raises(ConfigError, match=r"bad.jsonl line 2: not valid JSON"):
        ManifestCorpus(audio_root / "bad.jsonl")
    (audio_root / "bad.jsonl").write_text('["dog/mono.wav", "dog"]\n')
    with pytest.raises(ConfigError, match="line 1: expected a JSON object"):
        ManifestCorpus(audio_root / "bad.jsonl")
    (audio_root / "bad.jsonl").write_text('{"path": "dog/mono.wav", "label": 3}\n')
    with pytest.raises(ConfigError, match="'label' must be a string"):
        ManifestCorpus(audio_root / "bad.jsonl")
    (audio_root / "m.txt").write_text("path,label\n")
    with pytest.raises(ConfigError, match="unknown manifest format"):
        ManifestCorpus(audio_root / "m.txt")
    with pytest.raises(PathError):
        ManifestCorpus(audio_root / "none.csv")


def test_make_corpus(audio_root):
    assert isinstance(make_corpus("synthetic", clips_per_class=10), SyntheticCorpus)
    assert isinstance(make_corpus("folder", root=audio_root), FolderCorpus)
    # recipe spellings: sources.corpora[i] fields
    corpus = make_corpus("synthetic", type="synthetic", weight=2.0, classes="all", split_weights={"train": 1.0}, name=None)
    assert corpus.labels() == list(CLASS_NAMES) and corpus.splits() == ["train"]
    _write_csv(audio_root / "m.csv", ROWS)
    assert make_corpus("manifest", path=audio_root / "m.csv").clip("dog/mono.wav").split == "test"
    with pytest.raises(ConfigError, match="unknown"):
        make_corpus("sqlite")
    with pytest.raises(ConfigError, match="folder"):
        make_corpus("folder", root=audio_root, colour="blue")
