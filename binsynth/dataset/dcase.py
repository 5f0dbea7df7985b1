"""``binsynth export dcase``: a dataset with an FOA column as STARSS23 / DCASE SELD data.

Per row: ``foa_dev/{split}/{id}.wav`` — the ``audio_foa`` channels (AmbiX W, Y, Z, X, SN3D:
the FOA format of STARSS23) as 16-bit WAV at the dataset's rate — and
``metadata_dev/{split}/{id}.csv``, one line per active source per 100 ms frame, no header:

    frame index, class index, source index, azimuth, elevation, distance

Frame k covers [0.1 k, 0.1 (k + 1)) s; a source is listed in every frame its
[onset, offset) overlaps. Azimuth is integer degrees counter-clockwise from the front in
[-180, 180) (+90 = left), elevation integer degrees up, distance integer centimetres —
the STARSS23 / DCASE2024 conventions, which are binsynth's head frame. The class index is
the label's position in ``classes.csv`` (sorted labels of the dataset's corpora); the
source index counts sources of the same class within a scene, in onset order, as STARSS
does. Lines are sorted by frame, class, source. A still source has the same direction in
every frame; a moving source (datasets with ``sources.motion``) has its ``trajectory``'s
direction of each frame — the position rendered at the frame's centre.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

from binsynth.dataset.reader import Dataset
from binsynth.errors import ConfigError, PathError
from binsynth.scene.paths import FRAME_S, active_frames as frames_active


def _int_azimuth(azimuth_deg: float) -> int:
    a = int(round(azimuth_deg))
    return a - 360 if a >= 180 else a + 360 if a < -180 else a


def metadata_lines(sources: list[dict], classes: dict[str, int], fs_hz: int) -> list[tuple[int, int, int, int, int, int]]:
    """(frame, class, source, azimuth, elevation, distance_cm) lines of one row's ``sources``
    (onsets and offsets in seconds; a still source is listed in the frames holding its samples
    at ``fs_hz``)."""
    counts: dict[str, int] = {}
    lines = []
    for src in sorted(sources, key=lambda s: (s["onset"], s["label"])):
        label = src["label"]
        index = counts.get(label, 0)
        counts[label] = index + 1
        if src.get("trajectory"):  # a moving source: where it was rendered at each frame's centre
            lines += [(int(round(f["t"] / FRAME_S - 0.5)), classes[label], index, *_direction(f)) for f in src["trajectory"]]
        else:
            lines += [(frame, classes[label], index, *_direction(src))
                      for frame in frames_active(src["onset"], src["offset"], fs_hz)]
    return sorted(lines)


def _direction(d: dict) -> tuple[int, int, int]:
    return _int_azimuth(d["azimuth"]), int(round(d["elevation"])), int(round(d["distance"] * 100))


def class_names(ds: Dataset) -> list[str]:
    """Sorted labels of the dataset's corpora (the recipe's), or of its rows when there is no
    recipe or its corpora are not on this machine."""
    from binsynth.errors import BinsynthError

    if ds.recipe is not None:
        from binsynth.scene.sampling import corpora_for

        try:
            return sorted({label for corpus in corpora_for(ds.recipe) for label in corpus.labels()})
        except BinsynthError:
            pass
    import pyarrow.parquet as pq

    return sorted({s["label"] for file in ds.manifest.shards
                   for row in pq.read_table(ds.root / file, columns=["sources"]).to_pylist() for s in row["sources"]})


def export_dcase(ds: Dataset, out: str | Path, progress: Callable[[int], None] | None = None) -> int:
    """Write the STARSS23-style folders under ``out`` (which must be new or empty); returns
    the number of scenes written. ``progress(1)`` after each shard."""
    import pyarrow.parquet as pq

    from binsynth.io.atomic import atomic_path, write_text_atomic
    from binsynth.io.codecs import decode, encode

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise PathError(f"--out {out}: exists and is not an empty folder")
    missing = [file for file in sorted(ds.manifest.shards) if not (ds.root / file).is_file()]
    if missing:  # before anything is written
        raise PathError(f"{ds.root / missing[0]}: a shard listed in manifest.json is missing; run `binsynth verify`")
    first = next(iter(sorted(ds.manifest.shards)), None)
    if first is None or "audio_foa" not in pq.read_schema(ds.root / first).names:
        raise ConfigError(f"{ds.root}: has no audio_foa column; render it with output.receivers: [binaural, foa]")
    classes = {name: i for i, name in enumerate(class_names(ds))}
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "classes.csv", "".join(f"{i},{name}\n" for name, i in classes.items()))
    n = 0
    for file in sorted(ds.manifest.shards):
        table = pq.read_table(ds.root / file, columns=["id", "split", "audio_foa", "sources", "scene", "sample_rate"])
        for row in table.to_pylist():
            scene = json.loads(row["scene"])
            for src, spec in zip(row["sources"], scene["sources"]):  # times as drawn (float64), not float32
                src["onset"], src["offset"] = spec["onset_s"], spec["offset_s"]
            for folder in ("foa_dev", "metadata_dev"):
                (out / folder / row["split"]).mkdir(parents=True, exist_ok=True)
            audio, fs = decode(row["audio_foa"]["bytes"], f"{file} row {row['id']} audio_foa")
            with atomic_path(out / "foa_dev" / row["split"] / f"{row['id']}.wav") as tmp:
                tmp.write_bytes(encode(audio, fs, "wav", 16))
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(metadata_lines(row["sources"], classes, row["sample_rate"]))
            write_text_atomic(out / "metadata_dev" / row["split"] / f"{row['id']}.csv", text.getvalue())
            n += 1
        if progress is not None:
            progress(1)
    return n
