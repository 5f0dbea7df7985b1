"""Reading a rendered dataset folder for ``inspect``, ``stats`` and ``replay``.

A binsynth dataset folder holds ``manifest.json`` (recipe hash, per shard its split,
scene range, rows and SHA-256), ``recipe.yaml`` (the resolved recipe), ``README.md`` and
``data/*.parquet``. :func:`open_dataset` refuses anything else in one line;
:func:`verify_shards` re-hashes every shard against the manifest; :func:`metadata` reads
the label columns of every shard (never the audio column).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from binsynth.errors import ConfigError, PathError, RecipeError
from binsynth.io.hashing import sha256_file

#: The columns ``inspect`` and ``stats`` read: everything but ``audio`` and ``scene``.
META_COLUMNS = ["id", "split", "sample_rate", "duration", "sources", "room", "hrtf", "qa", "recipe_hash"]


@dataclass
class Dataset:
    root: Path
    manifest: object  # binsynth.io.manifest.Manifest
    recipe: object | None = None  # binsynth.recipe.model.Recipe, None when recipe.yaml is unusable
    recipe_problem: str | None = None

    @property
    def splits(self) -> dict[str, list]:
        """split -> its shard records, sorted by shard index."""
        out: dict[str, list] = {}
        for r in self.manifest.shards.values():
            out.setdefault(r.split, []).append(r)
        return {s: sorted(rs, key=lambda r: r.index) for s, rs in sorted(out.items())}


def open_dataset(folder: str | Path) -> Dataset:
    """The dataset at ``folder``; a one-line error when it is not a binsynth dataset.

    ``recipe.yaml`` is loaded when present (``recipe_problem`` says why not otherwise) and
    checked against the manifest's recipe hash.
    """
    from binsynth.io.manifest import MANIFEST, Manifest
    from binsynth.recipe.model import load_recipe, recipe_hash

    root = Path(folder)
    if not root.exists():
        raise PathError(f"{root}: no such folder")
    if not root.is_dir():
        raise PathError(f"{root}: not a folder; expected a dataset folder written by `binsynth render`")
    manifest = Manifest.load(root)
    if manifest is None:
        raise ConfigError(f"{root}: not a binsynth dataset (no {MANIFEST}); render one with `binsynth render RECIPE --out {root}`")
    ds = Dataset(root, manifest)
    recipe_file = root / "recipe.yaml"
    if not recipe_file.is_file():
        ds.recipe_problem = "recipe.yaml missing"
        return ds
    try:
        ds.recipe = load_recipe(recipe_file, check_files=False)
    except RecipeError as e:
        ds.recipe_problem = f"recipe.yaml invalid: {e.problems[0]}"
        return ds
    if recipe_hash(ds.recipe) != manifest.recipe_hash:
        ds.recipe_problem = "recipe.yaml's hash differs from the manifest's"
    return ds


@dataclass
class Verification:
    """Shards re-hashed against the manifest. Paths relative to the dataset folder."""

    ok: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)    # SHA-256 differs: tampered or corrupt
    missing: list[str] = field(default_factory=list)    # in the manifest, not on disk
    unrecorded: list[str] = field(default_factory=list)  # on disk, not in the manifest

    @property
    def intact(self) -> bool:
        return not (self.changed or self.missing or self.unrecorded)

    def problems(self) -> list[str]:
        return ([f"{f}: SHA-256 differs from manifest.json (modified or corrupt)" for f in self.changed]
                + [f"{f}: listed in manifest.json but missing" for f in self.missing]
                + [f"{f}: not listed in manifest.json" for f in self.unrecorded])


def verify_shards(ds: Dataset) -> Verification:
    """Re-hash every shard file and compare with the manifest."""
    v = Verification()
    recorded = set()
    for file, record in sorted(ds.manifest.shards.items()):
        recorded.add(file)
        path = ds.root / file
        if not path.is_file():
            v.missing.append(file)
        elif sha256_file(path) != record.sha256:
            v.changed.append(file)
        else:
            v.ok.append(file)
    data = ds.root / "data"
    if data.is_dir():
        v.unrecorded = sorted(f"data/{p.name}" for p in data.glob("*.parquet") if f"data/{p.name}" not in recorded)
    return v


def metadata(ds: Dataset, columns: list[str] | None = None, skip: set[str] = frozenset()):
    """One pyarrow table of the label columns of every recorded shard (never the audio).

    ``skip``: shard files (as in the manifest) to leave out, e.g. missing ones.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = columns or META_COLUMNS
    tables = []
    for file in sorted(ds.manifest.shards):
        path = ds.root / file
        if file in skip or not path.is_file():
            continue
        try:
            tables.append(pq.read_table(path, columns=columns))
        except (OSError, pa.ArrowException) as e:
            raise ConfigError(f"{path}: not a readable shard ({type(e).__name__}: {e})") from e
    if not tables:
        raise ConfigError(f"{ds.root}: the manifest lists no readable shards; render the dataset first")
    return pa.concat_tables(tables)


def label_values(table) -> dict:
    """Plain numpy arrays of what ``stats`` plots, from a :func:`metadata` table.

    Per scene: ``split``, ``n_sources``, ``rt60_s`` (NaN in free field), ``anechoic``.
    Per source: ``source_split``, ``azimuth_deg``, ``elevation_deg``, ``distance_m``, ``label``.
    Per question: ``qa_split``, ``qa_task``, ``qa_level``.
    """
    import numpy as np
    import pyarrow.compute as pc

    def lists(name):
        col = table.column(name).combine_chunks()
        parents = pc.list_parent_indices(col).to_numpy(zero_copy_only=False)
        return col.flatten(), parents

    split = np.asarray(table.column("split").to_pylist(), dtype=object)
    src, src_parent = lists("sources")
    qa, qa_parent = lists("qa")
    room = table.column("room").combine_chunks()
    anechoic = np.asarray(room.field("anechoic").to_pylist(), dtype=bool)
    rt60 = np.asarray([np.nan if a or v is None else v for a, v in zip(anechoic, room.field("rt60").to_pylist())], float)
    n_sources = pc.list_value_length(table.column("sources").combine_chunks()).to_numpy(zero_copy_only=False)
    return {
        "split": split,
        "n_sources": np.asarray(n_sources, dtype=int),
        "rt60_s": rt60,
        "anechoic": anechoic,
        "source_split": split[src_parent],
        "azimuth_deg": np.asarray(src.field("azimuth").to_pylist(), float),
        "elevation_deg": np.asarray(src.field("elevation").to_pylist(), float),
        "distance_m": np.asarray(src.field("distance").to_pylist(), float),
        "label": np.asarray(src.field("label").to_pylist(), dtype=object),
        "qa_split": split[qa_parent],
        "qa_task": np.asarray(qa.field("task").to_pylist(), dtype=object),
        "qa_level": np.asarray(qa.field("level").to_pylist(), dtype=int),
    }
