"""The dataset card (``README.md``) of a rendered dataset: YAML header for the Hub, then prose.

The header declares ``configs: - config_name: default`` with ``data_files`` per split (the
Hub needs it even for one config) and ``dataset_info.splits``; the text gives the
conventions, the HRTF sets with licence and citation, the corpora and how their clips
were split, the QA tasks and the resolved recipe.
"""

from __future__ import annotations

import yaml

from binsynth import __version__

_HUB_LICENCES = {"CC BY-SA 3.0": "cc-by-sa-3.0", "CC BY 4.0": "cc-by-4.0", "CC0 1.0": "cc0-1.0", "Apache-2.0": "apache-2.0"}

CONVENTIONS = """\
- **Azimuth**: degrees counter-clockwise from the listener's nose, in (-180, 180]; **0 = front, +90 = left**, -90 = right.
- **Elevation**: degrees from the horizontal plane through the ears; +90 = above.
- **Distance**: metres from the centre of the head.
- **Room frame**: metres, origin at a floor corner, z up; listener yaw in degrees counter-clockwise from +x.
- **Audio**: two channels, **channel 0 = left ear**; FLAC; `sample_rate` Hz; times (`onset`, `offset`) in seconds from the clip start.
- **Room**: `rt60` is the reverberation time at 1 kHz in seconds (Eyring with air absorption), `rt60_bands` per octave band 125 Hz–8 kHz; `anechoic` rooms have no reflections.
- **Gains**: `gain_db` is each source's gain after loudness normalisation (the normalisation factor and any output gain are in the `scene` JSON, `extra`).
- **Reproducibility**: `scene` holds the full scene JSON; `recipe_hash`, `hrtf.sha256` and `binsynth_version` identify what made the row.
"""

FOA_CONVENTIONS = """- **FOA** (`audio_foa`): four channels, **AmbiX — ACN order W, Y, Z, X, SN3D** normalisation, in the head frame above (the DCASE / STARSS23 FOA definition): a plane wave from azimuth φ, elevation θ has W = 1, Y = sin φ cos θ, Z = sin θ, X = cos φ cos θ. The same scene as `audio`, heard by an ideal first-order microphone at the head centre; its background noise is isotropic (Y, Z, X uncorrelated, each 1/3 of W's power) at the scene's SNR relative to the sources' W power; its peak guard is `output_gain_db_foa` in the `scene` JSON.
"""

MOTION_CONVENTIONS = """- **Moving sources** (`sources[].moving`, `sources[].trajectory`): a moving source's `azimuth`, `elevation`, `distance` are where it starts; its `trajectory` lists `{t, azimuth, elevation, distance}` at the centres of the 100 ms frames it is active in (frame k covers [0.1 k, 0.1 (k + 1)) s; `t` is its centre sample over the rate, 0.1 k + 0.05 to within half a sample), in the head frame above: the positions rendered (one early response per frame centre, crossfaded with 200 ms Hann windows; one diffuse tail per source). A still source's trajectory is empty. Paths: `arc` (distance and elevation kept, azimuth turning at a constant rate) or `line` (straight, horizontal, constant speed); the `scene` JSON holds each path (`motion`). Doppler shift is only what the crossfade of responses with changing delays gives.
"""


def _hrtf_lines(recipe) -> tuple[list[str], set[str]]:
    from binsynth.acoustics import registry

    lines, licences = [], set()
    names = sorted({recipe.hrtf_for(s) for s in recipe.dataset.splits})
    for name in names:
        try:
            entry = registry.get_entry(name)
            lines.append(f"- `{name}` ({', '.join(s for s in sorted(recipe.dataset.splits) if recipe.hrtf_for(s) == name)}): "
                         f"{entry.description} Licence: {entry.licence}. Citation: {entry.citation}")
            licences.add(entry.licence)
        except Exception:  # a path, not a registry name
            lines.append(f"- `{name}`: SOFA file given by path; licence and citation as its provider states.")
    return lines, licences


def dataset_card(recipe, manifest, folder=None) -> str:
    """The dataset card (README.md); ``folder`` (a path or a :class:`~binsynth.io.store.Store`)
    gives the shards' sizes."""
    from binsynth.io.store import Store, open_store

    from binsynth.qa import describe_tasks
    from binsynth.recipe.model import recipe_hash, resolved_yaml
    from binsynth.scene.sampling import corpora_for

    splits = sorted({r.split for r in manifest.shards.values()})
    counts = {s: sum(r.rows for r in manifest.shards.values() if r.split == s) for s in splits}
    store = folder if isinstance(folder, Store) or folder is None else open_store(folder)
    sizes = {s: sum(store.size(r.file) if store is not None and store.is_file(r.file) else 0
                    for r in manifest.shards.values() if r.split == s) for s in splits}
    hrtf_lines, licences = _hrtf_lines(recipe)
    foa = "foa" in recipe.output.receivers
    header = {
        "configs": [{"config_name": "default", "data_files": [{"split": s, "path": f"data/{s}-*.parquet"} for s in splits]}],
        "dataset_info": {"splits": [{"name": s, "num_bytes": sizes[s], "num_examples": counts[s]} for s in splits]},
        "license": _HUB_LICENCES.get(next(iter(licences)), "other") if len(licences) == 1 else "other",
        "task_categories": ["audio-classification", "question-answering"],
        "tags": ["binaural", *(["ambisonics"] if foa else []), *(["moving-sources"] if recipe.sources.motion else []),
                 "spatial-audio", "synthetic", "binsynth"],
    }
    skipped = manifest.stats.get("skipped_audio") or {}
    corpora = corpora_for(recipe)
    if skipped:
        from binsynth.corpora.screen import without

        corpora = without(corpora, skipped, {})
    corpus_lines = [f"- `{c.name}`: {', '.join(c.labels())}. {c.partition_summary()}" for c in corpora]
    if skipped:
        from collections import Counter

        reasons = Counter(skipped.values())
        corpus_lines.append(f"\n{len(skipped)} source file(s) were unusable and left out before scenes were drawn ("
                            + ", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))
                            + "); `manifest.json` lists them under `stats.skipped_audio`.")
    parts = [
        "---\n" + yaml.safe_dump(header, sort_keys=False) + "---\n",
        f"# {recipe.dataset.name}\n",
        (recipe.dataset.description or "").strip() + "\n",
        f"Rendered by binsynth {__version__} from recipe `{recipe_hash(recipe)}`: "
        + ", ".join(f"{s} {counts[s]} scenes" for s in splits)
        + f"; {recipe.audio.sample_rate_hz} Hz, two channels"
        + (" (`audio`) and first-order ambisonics, four channels (`audio_foa`)" if foa else "") + ".\n",
        "## Conventions\n\n" + CONVENTIONS + (FOA_CONVENTIONS if foa else "")
        + (MOTION_CONVENTIONS if recipe.sources.motion is not None else ""),
        "## HRTF sets\n\n" + "\n".join(hrtf_lines) + "\n",
        "## Source corpora and split partitioning\n\nNo clip appears in two splits.\n\n" + "\n".join(corpus_lines) + "\n",
        "## Questions and answers\n\n" + describe_tasks(motion=recipe.sources.motion is not None) + "\n",
        "## Loading\n\n```python\nimport datasets\nds = datasets.load_dataset(\"path/to/this/folder\")\n```\n",
        "## Recipe\n\n```yaml\n" + resolved_yaml(recipe) + "```\n",
    ]
    return "\n".join(parts)
