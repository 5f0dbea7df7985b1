"""A long render: does resident memory stay flat and throughput steady from first shard to last?

Runs one cold ``binsynth render`` of ``--scenes`` short scenes (the demo recipe, ``--duration``
s each) with ``--workers`` workers, sampling the resident memory (RSS, summed over the
driver and every worker process) every 0.25 s, and reads the run's ``--profile`` for when
each shard finished. Reports the peak RSS, the RSS when 10 %, 50 % and 100 % of the shards
were done (growth = last minus 10 %), and the throughput of the first and the last tenth of
the shards. Prints a summary, then ONE JSON line.

Usage: .venv/bin/python benchmarks/bench_memory.py [--scenes 20000] [--duration 1] [--workers 2]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from bench_common import binsynth_command, demo_recipe


def tree_rss_mib(root_pid: int) -> float:
    """RSS of ``root_pid`` and all its descendants, MiB (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / 2**20


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenes", type=int, default=20000)
    p.add_argument("--duration", type=float, default=1.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--shard-size", type=int, default=64)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench_memory_"))
    data = demo_recipe()
    data["dataset"]["splits"] = {"train": args.scenes}
    data["audio"]["duration_s"] = args.duration
    data["sources"]["onset_s"] = {"uniform": [0.0, 0.3 * args.duration]}
    data["sources"]["min_gap_s"] = 0.05 * args.duration
    data["output"]["shard_size"] = args.shard_size
    (tmp / "long.yaml").write_text(yaml.safe_dump(data))
    cmd = binsynth_command() + ["render", str(tmp / "long.yaml"), "--out", str(tmp / "ds"), "--workers", str(args.workers),
            "--device", args.device, "--profile", str(tmp / "profile.json")]
    samples: list[tuple[float, float]] = []
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None:
        samples.append((time.time(), tree_rss_mib(proc.pid)))
        time.sleep(0.25)
    err = proc.stderr.read()
    if proc.returncode != 0:
        sys.exit(f"render failed:\n{err[-4000:]}")
    wall = time.time() - t0
    prof = json.loads((tmp / "profile.json").read_text())
    ends = sorted(s["end"] for s in prof["per_shard"])
    starts = sorted(s["start"] for s in prof["per_shard"])
    n = len(ends)
    times = [t for t, _ in samples]

    def rss_at(t: float) -> float:
        i = min(max(bisect.bisect_left(times, t), 0), len(samples) - 1)
        return samples[i][1]

    tenth = max(1, min(n // 2, max(n // 10, 2 * args.workers)))  # whole rounds of the workers
    first_rate = tenth * args.shard_size / (ends[tenth - 1] - starts[0])
    last_rate = tenth * args.shard_size / (ends[-1] - ends[-tenth - 1])
    at = {f"{q}%": round(rss_at(ends[max(0, int(q / 100 * n) - 1)]), 1) for q in (10, 50, 100)}
    summary = {
        "scenes": args.scenes, "duration_s": args.duration, "workers": args.workers, "shards": n,
        "wall_s": round(wall, 1), "scenes_per_s": round(args.scenes / wall, 2),
        "rss_peak_mib": round(max(r for _, r in samples), 1), "rss_mib_when_done": at,
        "rss_growth_10_to_100pct_mib": round(at["100%"] - at["10%"], 1),
        "first_tenth_scenes_per_s": round(first_rate, 2), "last_tenth_scenes_per_s": round(last_rate, 2),
    }
    print(f"{args.scenes} scenes x {args.duration} s, {args.workers} workers: {summary['scenes_per_s']} scenes/s; "
          f"RSS peak {summary['rss_peak_mib']} MiB, at 10/50/100 % of shards {at}; first tenth "
          f"{first_rate:.1f} scenes/s, last tenth {last_rate:.1f}", file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
