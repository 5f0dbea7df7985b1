"""Executors: where shards are rendered. Same contract: render shard k, commit it, return its record.

``local`` runs shards in a process pool (:mod:`binsynth.pipeline`); ``ray`` runs one Ray task
per shard (:mod:`binsynth.executors.ray_executor`).
"""
