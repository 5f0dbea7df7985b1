"""sample_scene: a pure function of (recipe, split, index) that honours the recipe's constraints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from binsynth.geometry import sph_to_cart
from binsynth.recipe.model import load_recipe
from binsynth.scene.sampling import corpora_for, sample_scene

DEMO = Path(__file__).resolve().parents[1] / "recipes" / "demo.yaml"


@pytest.fixture(scope="module")
def demo():
    recipe = load_recipe(DEMO)
    return recipe, corpora_for(recipe)


def test_scene_is_a_pure_function_of_recipe_split_and_index(demo):
    recipe, corpora = demo
    forward = [sample_scene(recipe, "train", i, corpora).to_json() for i in range(12)]
    backward = [sample_scene(recipe, "train", i, corpora_for(recipe)).to_json() for i in reversed(range(12))]
    assert forward == backward[::-1]
    assert len(set(forward)) == 12
    assert sample_scene(recipe, "test", 3, corpora).to_json() != sample_scene(recipe, "train", 3, corpora).to_json()


def test_constraints_hold_over_many_scenes(demo):
    recipe, corpora = demo
    place = recipe.placement
    for i in range(150):
        sc = sample_scene(recipe, "train", i, corpora)
        dims = np.asarray(sc.room.dimensions_m)
        assert 1 <= len(sc.sources) + sc.extra["dropped_sources"] <= 3
        assert 0.2 <= sc.room.rt60_s <= 0.9
        for s in sc.sources:
            pos = np.asarray(s.position_m)
            assert np.all(pos >= place.margin_m - 1e-9) and np.all(pos <= dims - place.margin_m + 1e-9)
            assert np.linalg.norm(pos - sc.listener.position_m) == pytest.approx(s.distance_m)
            assert -180 < s.azimuth_deg <= 180 and 0 <= s.onset_s < s.offset_s <= sc.duration_s
        units = [sph_to_cart(s.azimuth_deg, s.elevation_deg) for s in sc.sources]
        for a in range(len(units)):
            for b in range(a):
                assert np.degrees(np.arccos(np.clip(units[a] @ units[b], -1, 1))) >= place.min_separation_deg - 1e-6
        onsets = sorted(s.onset_s for s in sc.sources)
        assert all(b - a >= recipe.sources.min_gap_s - 1e-9 for a, b in zip(onsets, onsets[1:]))
        assert sc.extra["qa"], "every scene with sources gets questions"


def test_no_clip_is_used_by_two_splits(demo):
    recipe, corpora = demo
    used = {split: {s.clip_id.split("/")[-1] for i in range(200) for s in sample_scene(recipe, split, i, corpora).sources}
            for split in ("train", "test")}
    # synthetic clips are partitioned by variant number, for every class
    assert used["train"].isdisjoint(used["test"])


def test_max_overlap_and_snr_are_honoured(demo, tmp_path):
    import yaml

    from binsynth.scene.sampling import _most_at_once

    data = yaml.safe_load(DEMO.read_text())
    data["sources"].update(n_sources=3, max_overlap=2, duration_s={"uniform": [0.5, 2.0]}, min_gap_s=0.1)
    data["sources"].pop("gain_db")
    data["sources"]["snr_db"] = {"uniform": [3.0, 9.0]}
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data))
    recipe = load_recipe(path)
    corpora = corpora_for(recipe)
    for i in range(100):
        sc = sample_scene(recipe, "train", i, corpora)
        for j, s in enumerate(sc.sources):
            others = sc.sources[:j] + sc.sources[j + 1 :]
            assert _most_at_once(others, s.onset_s, s.offset_s) <= 2
        assert sc.sources[0].gain_db == 0.0
        assert all(-9.0 <= s.gain_db <= -3.0 for s in sc.sources[1:])


def test_questions_carry_a_normalised_answer(demo):
    from binsynth.qa import answer_matches, normalize_answer

    recipe, corpora = demo
    for i in range(30):
        for qa in sample_scene(recipe, "test", i, corpora).extra["qa"]:
            assert qa["answer_norm"] == normalize_answer(qa["task"], qa["answer"])
            assert answer_matches(qa["task"], qa["answer"], qa["answer"])


def test_anechoic_recipe_renders_rows(tmp_path):
    import yaml

    from binsynth.dataset.rows import render_rows
    from binsynth.recipe.model import recipe_hash
    from binsynth.acoustics.brir import BRIRSynthesizer
    from binsynth.acoustics.sets import load_hrtf
    from binsynth.render.renderer import Renderer

    data = yaml.safe_load(DEMO.read_text())
    data["room"] = {"anechoic": True, "listener": {"height_m": 1.5}}
    data["placement"]["inside_room"] = False
    data["audio"]["duration_s"] = 1.0
    data["sources"]["onset_s"] = {"uniform": [0.0, 0.5]}
    data["sources"]["min_gap_s"] = 0.1
    data["hrtf"] = "spherical"
    path = tmp_path / "anechoic.yaml"
    path.write_text(yaml.safe_dump(data))
    recipe = load_recipe(path)
    corpora = corpora_for(recipe)
    scenes = [sample_scene(recipe, "train", i, corpora) for i in range(3)]
    assert all(s.room.anechoic and s.sources for s in scenes)
    renderer = Renderer(BRIRSynthesizer(load_hrtf("spherical", 16000), 16000))
    rows = render_rows(scenes, recipe, corpora, renderer, recipe_hash(recipe))
    assert [r["room"]["anechoic"] for r in rows] == [True] * 3 and rows[0]["room"]["rt60"] is None
    assert all(qa["answer"] != "dry" for r in rows for qa in r["qa"] if qa["task"] == "reverberation")


def test_background_noise_is_diffuse_with_unit_power(axd48):
    from scipy import signal

    from binsynth.dataset.rows import diffuse_noise

    fs, n = 16000, 32000
    hrtf = axd48.resampled(fs)
    for kind in ("white", "pink", "babble"):
        noise = diffuse_noise(kind, n, fs, hrtf, seed=5)
        assert noise.shape == (2, n) and np.mean(noise.astype(float) ** 2) == pytest.approx(1.0, rel=1e-3)
        np.testing.assert_array_equal(noise, diffuse_noise(kind, n, fs, hrtf, seed=5))
    white = diffuse_noise("white", n, fs, hrtf, seed=1).astype(float)
    f, pxy = signal.csd(white[0], white[1], fs, nperseg=512)
    _, pxx = signal.welch(white[0], fs, nperseg=512)
    _, pyy = signal.welch(white[1], fs, nperseg=512)
    coherence = np.real(pxy) / np.sqrt(pxx * pyy)
    assert coherence[(f > 60) & (f < 200)].mean() > 0.7  # ears see the same low frequencies
    assert abs(coherence[f > 3000].mean()) < 0.2  # and independent high ones
    pink = diffuse_noise("pink", n, fs, hrtf, seed=1).astype(float)  # the same noise draw, 1/f shaped
    fp, pp = signal.welch(pink[0], fs, nperseg=1024)
    _, pw = signal.welch(white[0], fs, nperseg=1024)
    tilt = pp / pw  # the HRTF's diffuse-field shape cancels
    low, high = tilt[(fp > 200) & (fp < 400)].mean(), tilt[(fp > 3200) & (fp < 6400)].mean()
    assert 10 * np.log10(low / high) == pytest.approx(12.0, abs=1.5)  # -3 dB per octave over 4 octaves
