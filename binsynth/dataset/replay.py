"""Re-rendering one scene the way a dataset shard renders it: previews and replays.

:func:`render_scene_row` is the one path both use: it builds the renderer exactly as
:mod:`binsynth.dataset.pipeline` does (``BRIRSynthesizer(load_hrtf(name, fs), fs, device)`` in a
``Renderer`` with the pipeline's chunk size, one torch thread) and calls
:func:`binsynth.dataset.rows.render_rows` with a single scene, so the row it returns is the
row a dataset would store.

:func:`replay_row` finds a row of a rendered dataset by its id, checks that the dataset's
``recipe.yaml`` and HRTF file are the ones that made it (recipe hash, HRTF SHA-256), renders
the row's ``scene`` JSON again and returns both audios. A shard renders its scenes in chunks
of up to :data:`~binsynth.dataset.pipeline.CHUNK_SCENES`; a scene rendered alone may differ from
the same scene in a chunk by float rounding (< 1e-6), which can move a 16-bit sample by one
step, so callers compare decoded audio within :data:`TOLERANCE` (1 LSB = 1/32768).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from binsynth.errors import ChecksumError, ConfigError, PathError, RecipeError

#: Largest accepted difference between re-rendered and stored audio: one 16-bit step.
TOLERANCE = 1.0 / 32768


def renderer_for(hrtf_name: str, fs_hz: int, device: str = "cpu", receiver: str = "binaural"):
    """A :class:`~binsynth.render.renderer.Renderer` built as the dataset pipeline builds it."""
    from binsynth.dataset.pipeline import build_renderer

    return build_renderer(hrtf_name, fs_hz, device, receiver)


def render_scene_row(recipe, scene, *, corpora: list | None = None, renderer=None, device: str = "cpu") -> dict:
    """The dataset row (shard schema, FLAC bytes in ``row["audio"]["bytes"]``, and in
    ``row["audio_foa"]`` when the recipe renders FOA too) of one scene.

    ``scene`` is a :class:`~binsynth.scene.record.SceneSpec`; its ``extra`` gains are recomputed.
    Rendering runs with one torch thread, as every shard does, so bytes match the dataset's.
    """
    from binsynth.dataset.rows import render_rows
    from binsynth.dataset.pipeline import one_thread
    from binsynth.recipe.model import recipe_hash
    from binsynth.scene.sampling import corpora_for

    corpora = corpora if corpora is not None else corpora_for(recipe)
    if renderer is None:
        renderer = renderer_for(recipe.hrtf_for(scene.split), scene.sample_rate_hz, device)
    foa = (renderer_for(recipe.hrtf_for(scene.split), scene.sample_rate_hz, device, "foa")
           if "foa" in recipe.output.receivers else None)
    with one_thread():
        (row,) = render_rows([scene], recipe, corpora, renderer, recipe_hash(recipe), foa)
    return row


# ------------------------------------------------------------------------------ replay


@dataclass
class Replay:
    """One replayed row. Audio is (2, samples) float32, channel 0 = left ear; ``foa`` and
    ``foa_stored`` are the (4, samples) FOA columns when the dataset has them."""

    row_id: str
    shard: str
    fs_hz: int
    audio: np.ndarray
    stored: np.ndarray
    bytes_equal: bool
    scene_equal: bool
    bits: int = 16  # the dataset's PCM bit depth
    shard_intact: bool = True  # the shard's SHA-256 equals the manifest's
    foa: np.ndarray | None = None
    foa_stored: np.ndarray | None = None
    foa_bytes_equal: bool = True

    def _pairs(self):
        yield self.audio, self.stored
        if self.foa is not None or self.foa_stored is not None:
            yield (np.zeros((0,)) if self.foa is None else self.foa), (np.zeros((0,)) if self.foa_stored is None else self.foa_stored)

    @property
    def max_diff(self) -> float:
        """Largest absolute sample difference (full scale 1.0) over every audio column; inf
        when shapes differ."""
        worst = 0.0
        for new, old in self._pairs():
            if new.shape != old.shape:
                return float("inf")
            worst = max(worst, float(np.max(np.abs(new.astype(np.float64) - old), initial=0.0)))
        return worst

    @property
    def differing_samples(self) -> int:
        return sum(max(new.size, old.size) if new.shape != old.shape else int(np.count_nonzero(new != old))
                   for new, old in self._pairs())

    @property
    def ok(self) -> bool:
        """Audio within one 16-bit step everywhere and the scene JSON reproduced."""
        return self.max_diff <= TOLERANCE + 1e-12 and self.scene_equal


def find_row(dataset_dir: str | Path, row_id: str) -> tuple[dict, str]:
    """The row with ``id == row_id`` and its shard path (relative to the dataset folder).

    Only the ``id`` column of the shards of the id's split is read to find it.
    """
    import pyarrow.parquet as pq

    from binsynth.dataset.reader import open_dataset

    ds = open_dataset(dataset_dir)
    split = row_id.rsplit("-", 1)[0] if "-" in row_id else ""
    files = [r.file for r in ds.manifest.shards.values() if r.split == split]
    for file in sorted(files):
        path = ds.root / file
        if not path.is_file():
            continue
        ids = pq.read_table(path, columns=["id"]).column("id").to_pylist()
        if row_id in ids:
            table = pq.read_table(path)
            return table.slice(ids.index(row_id), 1).to_pylist()[0], file
    known = ", ".join(sorted(ds.splits)) or "none"
    raise ConfigError(f"--id {row_id!r}: no such row in {ds.root} (ids look like 'train-00000003'; splits: {known})")


def replay(dataset_dir: str | Path, row_id: str, device: str = "cpu") -> Replay:
    """Render row ``row_id`` of the dataset at ``dataset_dir`` again from its scene JSON.

    Raises :class:`~binsynth.errors.RecipeError` when ``DIR/recipe.yaml`` is not the recipe
    that made the row (hash), :class:`~binsynth.errors.ChecksumError` when the HRTF file
    differs from the one recorded in the row (SHA-256).
    """
    from binsynth.io.hashing import sha256_file
    from binsynth.io.codecs import decode
    from binsynth.io.manifest import Manifest
    from binsynth.recipe.model import load_recipe, recipe_hash
    from binsynth.scene.record import SceneSpec

    root = Path(dataset_dir)
    row, shard = find_row(root, row_id)
    intact = sha256_file(root / shard) == Manifest.load(root).shards[shard].sha256
    recipe_file = root / "recipe.yaml"
    if not recipe_file.is_file():
        raise PathError(f"{recipe_file}: missing; a replay needs the dataset's resolved recipe")
    recipe = load_recipe(recipe_file)
    digest = recipe_hash(recipe)
    if digest != row["recipe_hash"]:
        raise RecipeError(f"{recipe_file}: recipe hash {digest[:12]}… differs from row {row_id}'s "
                          f"{row['recipe_hash'][:12]}…; it is not the recipe that rendered this dataset")
    scene = SceneSpec.from_json(row["scene"])
    renderer = renderer_for(recipe.hrtf_for(scene.split), scene.sample_rate_hz, device)
    sha = renderer.synth.hrtf.sha256
    if sha != row["hrtf"]["sha256"]:
        raise ChecksumError(f"HRTF {row['hrtf']['name']!r}: SHA-256 {sha[:12]}… differs from the "
                            f"{row['hrtf']['sha256'][:12]}… recorded in row {row_id}; restore that file to replay it")
    new = render_scene_row(recipe, scene, renderer=renderer)
    audio, fs = decode(new["audio"]["bytes"], f"re-rendered {row_id}")
    stored, _ = decode(row["audio"]["bytes"], f"{shard}: row {row_id}")
    result = Replay(row_id, shard, fs, audio, stored, new["audio"]["bytes"] == row["audio"]["bytes"],
                    new["scene"] == row["scene"], recipe.output.bit_depth, intact)
    if "audio_foa" in new or row.get("audio_foa") is not None:
        if "audio_foa" in new:
            result.foa, _ = decode(new["audio_foa"]["bytes"], f"re-rendered {row_id} audio_foa")
        if row.get("audio_foa") is not None:
            result.foa_stored, _ = decode(row["audio_foa"]["bytes"], f"{shard}: row {row_id} audio_foa")
        result.foa_bytes_equal = (new.get("audio_foa") or {}).get("bytes") == (row.get("audio_foa") or {}).get("bytes")
    return result


def replay_row(dataset_dir: str | Path, row_id: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(re-rendered audio, stored audio, fs_hz) of row ``row_id``; both (2, samples) float32
    decoded from FLAC. They agree within :data:`TOLERANCE` when the dataset is intact."""
    r = replay(dataset_dir, row_id)
    return r.audio, r.stored, r.fs_hz
