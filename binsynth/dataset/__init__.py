"""Datasets: scenes to rows (dry audio, rendering, background, FLAC), the shard plan, workers
(process pool or Ray tasks), atomic commits and resume, the dataset card, reading and
verifying a rendered folder, replaying one row, and the DCASE / STARSS23 export. The top of
the data flow below the trainer: imports scene, render, recipe, qa, acoustics, corpora, io,
dsp and the root helpers.
"""

from binsynth import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "pipeline": "plan_shards render_dataset render_shard ShardPlan",
    "rows": "render_rows",
    "card": "dataset_card",
    "reader": "open_dataset Dataset verify_shards",
    "verify": "verify_dataset",
    "replay": "render_scene_row replay_row",
    "dcase": "export_dcase",
})
