"""End-to-end dataset throughput: render + background + FLAC + Parquet, local vs Ray executors.

Renders the same recipe (default: ``recipes/demo.yaml`` scaled to ``--scenes`` training
scenes of ``--duration`` s) into fresh folders with:
  * the local executor with 1 worker and with ``--workers`` workers (process pool), and
  * the Ray executor (a local Ray instance with ``--workers`` CPUs, one task per shard),
checks that all three give byte-identical shards, and prints scenes/s for each, the Ray
speed-up over one worker and Ray's overhead over the local pool, then ONE JSON line.
Floors (issue 4, 2-core CPU): Ray with 2 workers ≥ 1.7 × one worker; overhead < 15 %.

Usage: .venv/bin/python benchmarks/bench_pipeline.py [--scenes 96] [--duration 4] [--workers 2]
       [--fs 16000] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenes", type=int, default=96)
    p.add_argument("--duration", type=float, default=4.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--fs", type=int, default=16000)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)

    import ray

    from binsynth.pipeline import render_dataset
    from binsynth.recipe import load_recipe

    tmp = Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    data = yaml.safe_load((ROOT / "recipes" / "demo.yaml").read_text())
    data["dataset"]["splits"] = {"train": args.scenes}
    data["audio"].update(sample_rate_hz=args.fs, duration_s=args.duration)
    data["output"]["shard_size"] = max(1, args.scenes // (4 * args.workers))
    recipe_path = tmp / "bench.yaml"
    recipe_path.write_text(yaml.safe_dump(data))
    recipe = load_recipe(recipe_path)
    text = recipe_path.read_text()

    def timed(name: str, **kw) -> float:
        out = tmp / name
        start = time.perf_counter()
        render_dataset(recipe, text, str(tmp), out, device=args.device, **kw)
        return time.perf_counter() - start

    results = {}
    timed("warmup", limit=2, workers=1)  # HRTF pull/cache, imports
    results["local_1"] = timed("local_1", workers=1)
    results[f"local_{args.workers}"] = timed(f"local_{args.workers}", workers=args.workers)
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False,
             object_store_memory=256 * 2**20)
    try:
        timed("ray_warmup", limit=2, executor="ray")
        results[f"ray_{args.workers}"] = timed(f"ray_{args.workers}", executor="ray")
    finally:
        ray.shutdown()

    def shards(name: str) -> dict[str, bytes]:
        return {q.name: q.read_bytes() for q in sorted((tmp / name / "data").glob("*.parquet"))}

    identical = shards("local_1") == shards(f"local_{args.workers}") == shards(f"ray_{args.workers}")
    rate = {k: args.scenes / v for k, v in results.items()}
    speedup = rate[f"ray_{args.workers}"] / rate["local_1"]
    overhead = results[f"ray_{args.workers}"] / results[f"local_{args.workers}"] - 1.0
    for k, v in rate.items():
        print(f"{k:>10}: {v:7.1f} scenes/s ({results[k]:.2f} s for {args.scenes} scenes)", file=sys.stderr)
    print(f"ray speed-up over 1 worker {speedup:.2f}x (floor 1.7x); ray overhead over local pool "
          f"{100 * overhead:.1f} % (floor < 15 %); shards identical: {identical}", file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({
        "scenes": args.scenes, "duration_s": args.duration, "fs_hz": args.fs, "workers": args.workers,
        "device": args.device, "scenes_per_s": {k: round(v, 2) for k, v in rate.items()},
        "ray_speedup_over_1": round(speedup, 3), "ray_overhead_over_local": round(overhead, 4),
        "shards_identical": identical,
        "floors_met": {"ray_speedup_1.7x": speedup >= 1.7, "ray_overhead_below_15pct": overhead < 0.15},
    }))
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
