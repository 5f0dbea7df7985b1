"""One entry point for every HRTF source: the analytic model, a registry name, a path."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from binsynth.acoustics.hrtf import HRTFSet, load_sofa


@lru_cache(maxsize=8)
def _load(spec: str, fs_hz: int) -> HRTFSet:
    if spec == "spherical":
        from binsynth.acoustics.spherical import SphericalHead

        return SphericalHead(fs_hz=fs_hz).to_hrtf_set()
    from binsynth.acoustics.registry import resolve_sofa_path

    path = resolve_sofa_path(spec, progress=True)
    name = spec if not Path(spec).suffix else Path(spec).stem
    return load_sofa(path, fs_hz=fs_hz, name=name)


def load_hrtf(name_or_path: str | Path, fs_hz: int) -> HRTFSet:
    """'spherical', a registry name (pulled and verified on first use) or a SOFA path, at ``fs_hz``.

    Sets are cached per process: loading the same set at the same rate twice is free.
    """
    return _load(str(name_or_path), int(fs_hz))
