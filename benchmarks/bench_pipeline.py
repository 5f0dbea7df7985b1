"""End-to-end dataset throughput: render + background + FLAC + Parquet, local vs Ray executors.

Renders the same recipe (default: ``recipes/demo.yaml`` scaled to ``--scenes`` training
scenes of ``--duration`` s) into fresh folders, each as a cold ``binsynth render`` command
(what a user runs; process start-up, imports and Ray start-up included), with:
  * the local executor with 1 worker and with ``--workers`` workers (process pool), and
  * the Ray executor (its own local Ray instance, one task per shard),
checks that all three give byte-identical shards, and prints scenes/s for each, the Ray
speed-up over one worker and Ray's overhead over the local pool, then ONE JSON line.
Floors (issue 4, 2-core CPU): Ray with 2 workers ≥ 1.7 × one worker; overhead < 15 %.

Usage: .venv/bin/python benchmarks/bench_pipeline.py [--scenes 384] [--duration 4] [--workers 2]
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
    p.add_argument("--scenes", type=int, default=384)
    p.add_argument("--duration", type=float, default=4.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--fs", type=int, default=16000)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)

    import subprocess

    binsynth = str(Path(sys.executable).with_name("binsynth"))
    tmp = Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    data = yaml.safe_load((ROOT / "recipes" / "demo.yaml").read_text())
    data["dataset"]["splits"] = {"train": args.scenes}
    data["audio"].update(sample_rate_hz=args.fs, duration_s=args.duration)
    data["output"]["shard_size"] = 16
    recipe_path = tmp / "bench.yaml"
    recipe_path.write_text(yaml.safe_dump(data))

    def timed(name: str, *flags: str) -> float:
        start = time.perf_counter()
        subprocess.run([binsynth, "render", str(recipe_path), "--out", str(tmp / name), "--device", args.device, *flags],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - start

    timed("warmup", "--limit", "2", "--workers", "1")  # the HRTF file into the cache
    results = {
        "local_1": timed("local_1", "--workers", "1"),
        f"local_{args.workers}": timed(f"local_{args.workers}", "--workers", str(args.workers)),
        f"ray_{args.workers}": timed(f"ray_{args.workers}", "--executor", "ray"),
    }

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
