"""End-to-end dataset throughput: render + background + FLAC + Parquet, local vs Ray executors.

Renders the same recipe (default: ``recipes/demo.yaml`` scaled to ``--scenes`` training
scenes of ``--duration`` s, optionally with exactly ``--sources`` sources) into fresh
folders, each as a cold ``binsynth render`` command (what a user runs: process start-up,
imports, CUDA and Ray start-up included), for each of ``--runs``:
  * ``local_1``: the local executor with one worker,
  * ``local_N``: the local executor with ``--workers`` worker processes,
  * ``ray_N``: the Ray executor (its own local Ray instance with ``--workers`` CPUs, one
    task per shard).
Every run writes a ``--profile``; from it come the steady rate (scenes over the span from
the first shard's start to the last shard's end, i.e. without process/Ray start-up) and
each stage's share of the workers' busy time. With ``--device cuda`` nvidia-smi samples the
GPU's utilisation every 100 ms during each run (its mean is reported as the GPU's share of
the run's time). All runs must give byte-identical shards. Prints a table, then ONE JSON line.

Floors (issue 4): on a 2-core CPU, Ray with 2 workers ≥ 1.7 × one worker and Ray's overhead
over the local pool < 15 %; on a 16-core H100/H200 node, ≥ 600 scenes/s at 16 kHz and ≥ 240
at 48 kHz (10 s, three sources, FLAC).

Usage: .venv/bin/python benchmarks/bench_pipeline.py [--scenes 3072] [--duration 4] [--workers 2]
       [--fs 16000] [--sources N] [--device cpu] [--runs local_1,local_N,ray_N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml
from bench_common import binsynth_command, demo_recipe


class GpuSampler:
    """Mean GPU utilisation (%) from ``nvidia-smi`` sampled every 100 ms while active."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.proc = subprocess.Popen(
            ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits", "-lms", "100"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.active = False
        self.mem_mib = 0.0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                util, mem = (float(v) for v in line.split(","))
            except ValueError:
                continue
            if self.active:
                self.samples.append(util)
                self.mem_mib = max(self.mem_mib, mem)

    def window(self) -> tuple[float | None, float]:
        """Mean utilisation and peak memory (MiB) since the last call; starts a new window."""
        mean = sum(self.samples) / len(self.samples) if self.samples else None
        peak = self.mem_mib
        self.samples, self.mem_mib = [], 0.0
        return mean, peak

    def close(self) -> None:
        self.proc.terminate()


def write_folder_corpus(root: Path, ext: str, fs: int, duration_s: float, per_class: int) -> None:
    """root/<class>/<k>.<ext>: the synthetic classes as 16-bit files at the dataset rate."""
    import soundfile as sf

    from binsynth.corpora.synthetic import CLASS_NAMES, synthesize

    for label in CLASS_NAMES:
        (root / label).mkdir(parents=True, exist_ok=True)
        for k in range(per_class):
            sf.write(root / label / f"{k}.{ext}", synthesize(label, k, fs, duration_s), fs, subtype="PCM_16")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenes", type=int, default=3072)
    p.add_argument("--duration", type=float, default=4.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--fs", type=int, default=16000)
    p.add_argument("--sources", type=int, default=None, help="exactly this many sources per scene")
    p.add_argument("--shard-size", type=int, default=16)
    p.add_argument("--device", default="cpu")
    p.add_argument("--runs", default="local_1,local_N,ray_N")
    p.add_argument("--keep", type=Path, default=None, help="write the profiles here")
    p.add_argument("--corpus", choices=("synthetic", "flac", "wav"), default="synthetic",
                   help="dry sources: generated on the fly (synthetic), or read from a folder corpus of "
                        "FLAC/WAV files at the dataset rate (the synthetic classes, written once before timing)")
    p.add_argument("--corpus-clips", type=int, default=8, help="files per class for --corpus flac|wav")
    p.add_argument("--flac-level", type=int, default=None, help="output.flac_level (default: the recipe's, 5)")
    args = p.parse_args(argv)

    binsynth = binsynth_command()
    tmp = Path(tempfile.mkdtemp(prefix="bench_pipeline_"))
    data = demo_recipe()
    data["dataset"]["splits"] = {"train": args.scenes}
    data["audio"].update(sample_rate_hz=args.fs, duration_s=args.duration)
    data["output"]["shard_size"] = args.shard_size
    if args.sources is not None:
        data["sources"]["n_sources"] = args.sources
    if args.flac_level is not None:
        data["output"]["flac_level"] = args.flac_level
    if args.corpus != "synthetic":
        root = tmp / "corpus"
        write_folder_corpus(root, args.corpus, args.fs, args.duration, args.corpus_clips)
        data["sources"]["corpora"] = [{"type": "folder", "root": str(root)}]
    recipe_path = tmp / "bench.yaml"
    recipe_path.write_text(yaml.safe_dump(data))
    runs = [r.replace("_N", f"_{args.workers}") for r in args.runs.split(",")]
    gpu = GpuSampler() if args.device.startswith("cuda") else None

    def render(name: str, *flags: str) -> float:
        start = time.perf_counter()
        done = subprocess.run([*binsynth, "render", str(recipe_path), "--out", str(tmp / name), "--device", args.device,
                               "--profile", str(tmp / f"{name}.profile.json"), *flags],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.exit(f"binsynth render ({name}) failed:\n{done.stderr[-4000:]}")
        return time.perf_counter() - start

    render("warmup", "--limit", "2", "--workers", "1")  # the HRTF file into the cache
    results = {}
    for name in runs:
        kind, n = name.split("_")
        flags = ["--workers", n] if kind == "local" else ["--executor", "ray", "--workers", n]
        if gpu:
            gpu.window()
            gpu.active = True
        wall = render(name, *flags)
        prof = json.loads((tmp / f"{name}.profile.json").read_text())
        shards = prof["per_shard"]
        span = max(s["end"] for s in shards) - min(s["start"] for s in shards)
        results[name] = {
            "wall_s": round(wall, 3), "scenes_per_s": round(args.scenes / wall, 2),
            "steady_scenes_per_s": round(args.scenes / span, 2), "stage_share": prof["stage_share"],
        }
        if gpu:
            gpu.active = False
            util, mem = gpu.window()
            results[name].update(gpu_util_pct=None if util is None else round(util, 1), gpu_mem_peak_mib=mem)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp / f"{name}.profile.json", args.keep / f"{name}_{args.fs}_{args.corpus}.profile.json")
    if gpu:
        gpu.close()

    def shards(name: str) -> dict[str, str]:
        import hashlib

        return {q.name: hashlib.sha256(q.read_bytes()).hexdigest() for q in sorted((tmp / name / "data").glob("*.parquet"))}

    digests = [shards(name) for name in runs]
    identical = all(d == digests[0] for d in digests)
    summary = {"scenes": args.scenes, "duration_s": args.duration, "fs_hz": args.fs, "sources": args.sources,
               "corpus": args.corpus, "flac_level": data["output"].get("flac_level", 5),
               "workers": args.workers, "device": args.device, "runs": results, "shards_identical": identical}
    one, many, ray = (results.get(k) for k in ("local_1", f"local_{args.workers}", f"ray_{args.workers}"))
    if one and ray:
        summary["ray_speedup_over_1"] = round(ray["scenes_per_s"] / one["scenes_per_s"], 3)
        summary["ray_steady_speedup_over_1"] = round(ray["steady_scenes_per_s"] / one["steady_scenes_per_s"], 3)
    if many and ray:
        summary["ray_overhead_over_local"] = round(ray["wall_s"] / many["wall_s"] - 1.0, 4)
        summary["ray_steady_overhead_over_local"] = round(many["steady_scenes_per_s"] / ray["steady_scenes_per_s"] - 1.0, 4)
    if one and ray and many:
        summary["floors_met"] = {
            "ray_speedup_1.7x": {"cold": summary["ray_speedup_over_1"] >= 1.7,
                                 "steady": summary["ray_steady_speedup_over_1"] >= 1.7},
            "ray_overhead_below_15pct": {"cold": summary["ray_overhead_over_local"] < 0.15,
                                         "steady": summary["ray_steady_overhead_over_local"] < 0.15},
        }
    for name, r in results.items():
        extra = f", GPU busy {r['gpu_util_pct']} %" if "gpu_util_pct" in r else ""
        share = ", ".join(f"{k} {100 * v:.0f}%" for k, v in r["stage_share"].items() if v >= 0.005)
        print(f"{name:>10}: {r['scenes_per_s']:7.1f} scenes/s cold ({r['wall_s']:.1f} s), "
              f"{r['steady_scenes_per_s']:7.1f} steady{extra}; busy time: {share}", file=sys.stderr)
    if "ray_speedup_over_1" in summary:
        print(f"ray speed-up over 1 worker {summary['ray_speedup_over_1']:.2f}x cold, "
              f"{summary['ray_steady_speedup_over_1']:.2f}x steady (floor 1.7x)", file=sys.stderr)
    if "ray_overhead_over_local" in summary:
        print(f"ray overhead over the local pool {100 * summary['ray_overhead_over_local']:.1f} % cold, "
              f"{100 * summary['ray_steady_overhead_over_local']:.1f} % steady (floor < 15 %)", file=sys.stderr)
    print(f"shards identical across runs: {identical}", file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(summary))
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
