"""Where the renderer's time goes on a device: torch.profiler over one warm chunk.

Renders ``--scenes`` scenes (10 s, three sources, the bench_render geometries) once to warm
up, then once under torch.profiler, and prints the operators with the most host (self CPU)
time and, on CUDA, the most device time, plus the chunk's wall time. The host side
(Python, numpy placement, copies, kernel launches) versus the device side is what decides
whether a GPU renderer is host-bound.

Usage: python benchmarks/profile_render.py [--device cuda] [--fs 16000] [--scenes 128] [--top 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--fs", type=int, default=16000)
    p.add_argument("--scenes", type=int, default=128)
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args(argv)

    import torch
    from torch.profiler import ProfilerActivity, profile

    import bench_render as b
    from binsynth.acoustics.brir import BRIRSynthesizer
    from binsynth.acoustics.sets import load_hrtf
    from binsynth.render.renderer import Renderer

    cuda = args.device.startswith("cuda")
    renderer = Renderer(BRIRSynthesizer(load_hrtf("axd-example", args.fs), args.fs, args.device),
                        chunk_scenes=args.scenes)
    scenes = b.build_scenes(b.make_geometries(args.scenes, seed=3), b.make_dry_bank(args.fs, 10.0, 3), 10.0, True)
    renderer.render(scenes)  # warm-up: plans, caches, CUDA context
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        t0 = time.perf_counter()
        renderer.render(scenes)
        if cuda:
            torch.cuda.synchronize()
        wall = time.perf_counter() - t0
    table = prof.key_averages()
    print(f"{args.scenes} scenes × 10 s at {args.fs} Hz on {args.device}: {wall:.3f} s "
          f"({args.scenes / wall:.0f} scenes/s under the profiler)")
    print(table.table(sort_by="self_cpu_time_total", row_limit=args.top))
    if cuda:
        for key in ("self_device_time_total", "self_cuda_time_total"):  # the name changed across torch versions
            try:
                print(table.table(sort_by=key, row_limit=args.top))
                break
            except (AttributeError, KeyError, ValueError):
                continue
        busy = sum(getattr(e, "self_device_time_total", getattr(e, "self_cuda_time_total", 0)) for e in table) / 1e6
        print(f"device busy {busy:.3f} s of {wall:.3f} s wall ({100 * busy / wall:.0f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
