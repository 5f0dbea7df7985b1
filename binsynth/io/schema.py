"""The row schema of binsynth's Parquet shards, for pyarrow and for Hugging Face ``datasets``.

One table defines every column once (:data:`ROW_SCHEMA`); :func:`hf_features` derives the
``datasets`` feature JSON from it, stored in the schema metadata under ``huggingface`` so
``datasets`` sees ``audio`` as an ``Audio`` feature. ``datasets`` only does that when the
column's Arrow type is exactly ``struct<bytes: binary, path: string>`` (that order,
``binary`` not ``large_binary``) and every column is listed — otherwise it falls back to a
plain struct without a warning, so tests guard it.

Units and conventions of the columns (also written into the dataset card):
azimuth in degrees counter-clockwise from the front in (-180, 180], +90 = left; elevation
in degrees, +90 = above; distances and positions in metres (room frame: origin at a floor
corner, z up); times in seconds from the start of the clip; rt60 in seconds at 1 kHz;
audio channel 0 = left ear. ``audio_foa`` (datasets rendered with an FOA receiver too): four
channels, AmbiX — ACN order W, Y, Z, X, SN3D, head frame (the DCASE / STARSS23 FOA definition).
Datasets with moving sources add ``moving`` and ``trajectory`` to each source: a moving
source's azimuth, elevation, distance are where it starts, its trajectory lists
(t, azimuth, elevation, distance) at the centres of the 100 ms frames it is active in (the
positions rendered); a still source's trajectory is empty.
"""

from __future__ import annotations

import json

import pyarrow as pa

AUDIO_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])

SOURCE_TYPE = pa.struct([
    ("label", pa.string()),
    ("clip_id", pa.string()),
    ("onset", pa.float32()),
    ("offset", pa.float32()),
    ("azimuth", pa.float32()),
    ("elevation", pa.float32()),
    ("distance", pa.float32()),
    ("gain_db", pa.float32()),
])

FRAME_TYPE = pa.struct([
    ("t", pa.float32()),
    ("azimuth", pa.float32()),
    ("elevation", pa.float32()),
    ("distance", pa.float32()),
])

#: A source of a dataset whose recipe has ``sources.motion``: ``moving`` and its
#: ``trajectory`` (frames at the 100 ms grid's centres; empty for a still source).
MOVING_SOURCE_TYPE = pa.struct(list(SOURCE_TYPE) + [
    pa.field("moving", pa.bool_()),
    pa.field("trajectory", pa.list_(FRAME_TYPE)),
])

ROOM_TYPE = pa.struct([
    ("anechoic", pa.bool_()),
    ("dimensions", pa.list_(pa.float32())),
    ("rt60", pa.float32()),
    ("rt60_bands", pa.list_(pa.float32())),
    ("air_absorption", pa.bool_()),
])

LISTENER_TYPE = pa.struct([
    ("position", pa.list_(pa.float32())),
    ("yaw", pa.float32()),
    ("pitch", pa.float32()),
])

HRTF_TYPE = pa.struct([("name", pa.string()), ("sha256", pa.string())])

QA_TYPE = pa.struct([
    ("level", pa.int8()),
    ("task", pa.string()),
    ("question", pa.string()),
    ("answer", pa.string()),
    ("answer_norm", pa.string()),
    ("choices", pa.list_(pa.string())),
    ("answer_index", pa.int32()),
])

ROW_FIELDS = [
    pa.field("id", pa.string()),
    pa.field("split", pa.string()),
    pa.field("audio", AUDIO_TYPE),
    pa.field("sample_rate", pa.int32()),
    pa.field("duration", pa.float32()),
    pa.field("sources", pa.list_(SOURCE_TYPE)),
    pa.field("room", ROOM_TYPE),
    pa.field("listener", LISTENER_TYPE),
    pa.field("hrtf", HRTF_TYPE),
    pa.field("qa", pa.list_(QA_TYPE)),
    pa.field("scene", pa.string()),
    pa.field("recipe_hash", pa.string()),
    pa.field("binsynth_version", pa.string()),
]

_VALUE_NAMES = {
    pa.string(): "string", pa.binary(): "binary", pa.bool_(): "bool", pa.int8(): "int8",
    pa.int32(): "int32", pa.int64(): "int64", pa.float32(): "float32", pa.float64(): "float64",
}


def _feature(dtype: pa.DataType) -> object:
    """``datasets`` feature JSON of one Arrow type (lists as ``[feature]``, read by every version)."""
    if pa.types.is_struct(dtype):
        return {dtype.field(i).name: _feature(dtype.field(i).type) for i in range(dtype.num_fields)}
    if pa.types.is_list(dtype):
        return [_feature(dtype.value_type)]
    return {"dtype": _VALUE_NAMES[dtype], "_type": "Value"}


def row_fields(foa: bool = False, motion: bool = False) -> list[pa.Field]:
    """The columns of a shard; with ``foa``, ``audio_foa`` right after ``audio``; with
    ``motion``, sources of :data:`MOVING_SOURCE_TYPE`."""
    fields = [pa.field("sources", pa.list_(MOVING_SOURCE_TYPE)) if f.name == "sources" and motion else f
              for f in ROW_FIELDS]
    return fields[:3] + [pa.field("audio_foa", AUDIO_TYPE)] + fields[3:] if foa else fields


def hf_features(sample_rate_hz: int, foa: bool = False, motion: bool = False) -> dict:
    """The feature dict of every column; ``audio`` (and ``audio_foa``) are ``Audio(sampling_rate=...)``."""
    features = {f.name: _feature(f.type) for f in row_fields(foa, motion)}
    for name in ("audio", "audio_foa") if foa else ("audio",):
        features[name] = {"sampling_rate": int(sample_rate_hz), "_type": "Audio"}
    return features


def row_schema(sample_rate_hz: int, foa: bool = False, motion: bool = False) -> pa.Schema:
    """The Arrow schema of a shard, with the ``huggingface`` metadata ``datasets`` reads."""
    meta = {"huggingface": json.dumps({"info": {"features": hf_features(sample_rate_hz, foa, motion)}}, sort_keys=True)}
    return pa.schema(row_fields(foa, motion), metadata=meta)
