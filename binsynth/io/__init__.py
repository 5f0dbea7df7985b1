"""Bytes on disk: atomic commits, hashing, JSON helpers, audio codecs (FLAC/WAV), the Parquet/HF
row schema, shard files, the manifest, local and object stores, the folder lock and process
stamps. Knows nothing of recipes or scenes: imports only the root helpers.
"""

from binsynth import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "atomic": "atomic_path write_text_atomic",
    "hashing": "sha256_file",
    "jsonutil": "plain",
    "codecs": "encode decode",
    "schema": "row_schema hf_features",
    "shards": "write_shard read_shard",
    "manifest": "Manifest ShardRecord shard_name",
    "store": "Store open_store",
    "lock": "folder_lock",
    "processes": "process_stamp",
})
