"""Read a SOFA file quietly, check that binsynth can use it, and summarise it.

binsynth uses HRIR sets in the AES69 ``SimpleFreeFieldHRIR`` convention with spherical
source positions (azimuth, elevation in degrees; distance in metres) and two receivers,
channel 0 = left ear. Anything else is refused with a message naming the field and the
value, rather than guessed at.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from binsynth.errors import HRTFError, PathError

CONVENTION = "SimpleFreeFieldHRIR"
_DEGREE = {"degree", "degrees"}
_METRE = {"metre", "meter", "metres", "meters"}


@dataclass(frozen=True)
class SofaSummary:
    """What ``binsynth hrtf info`` shows about a usable SOFA file."""

    path: Path
    convention: str
    fs_hz: float
    n_directions: int
    n_taps: int
    azimuth_range_deg: tuple[float, float]
    elevation_range_deg: tuple[float, float]
    distance_range_m: tuple[float, float]
    sha256: str
    file_licence: str  # GLOBAL_License as written in the file ("" when absent)
    title: str  # GLOBAL_Title ("" when absent)


def read_sofa_quiet(path: str | Path):
    """``sofar.read_sofa(path, verify=False)`` without sofar's printed notices.

    Raises :class:`PathError` for a missing file and :class:`HRTFError` for one that
    sofar cannot read. Returns the ``sofar.Sofa`` object, not yet validated.
    """
    import sofar

    p = Path(path)
    if not p.is_file():
        raise PathError(f"{p}: no such file; give the path of an existing .sofa file")
    if p.suffix != ".sofa":  # sofar appends '.sofa' to any other name and then misses it
        raise HRTFError(f"{p}: file name does not end in '.sofa'; rename it to <name>.sofa")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            return sofar.read_sofa(str(p), verify=False, verbose=False)
        except Exception as e:  # netCDF4/h5py raise many types for a broken file
            reason = " ".join(str(e).split())[:200]
            raise HRTFError(
                f"{p}: not a readable SOFA file ({type(e).__name__}: {reason}); "
                "check that the download is complete"
            ) from e


def validate_sofa(sofa, path: str | Path) -> None:
    """Raise :class:`HRTFError` unless ``sofa`` is an HRIR set binsynth can render with.

    Checks: ``GLOBAL_SOFAConventions == 'SimpleFreeFieldHRIR'``; ``SourcePosition_Type``
    spherical with units ``degree, degree, metre``; ``Data_IR`` of shape
    ``(M measurements, 2 ears, N taps)`` matching ``SourcePosition`` ``(M, 3)``; one
    positive sampling rate in hertz; finite data; elevations in [-90, 90] degrees and
    non-negative distances; receiver 0 not on the right (-y) side.
    """
    where = str(path)
    convention = getattr(sofa, "GLOBAL_SOFAConventions", None)
    if convention != CONVENTION:
        raise HRTFError(
            f"{where}: GLOBAL_SOFAConventions={convention!r}; expected {CONVENTION!r} "
            "(free-field HRIRs); convert the file or choose another HRTF set"
        )
    pos_type = getattr(sofa, "SourcePosition_Type", None)
    if pos_type != "spherical":
        raise HRTFError(
            f"{where}: SourcePosition_Type={pos_type!r}; expected 'spherical' "
            "(azimuth, elevation in degrees, distance in metres); convert the positions"
        )
    units = getattr(sofa, "SourcePosition_Units", None)
    parts = [u.strip().lower() for u in str(units).split(",")]
    if len(parts) != 3 or parts[0] not in _DEGREE or parts[1] not in _DEGREE or parts[2] not in _METRE:
        raise HRTFError(
            f"{where}: SourcePosition_Units={units!r}; expected 'degree, degree, metre'"
        )
    ir = np.asarray(getattr(sofa, "Data_IR", None))
    if ir.ndim != 3 or ir.shape[1] != 2 or ir.shape[0] < 1 or ir.shape[2] < 1:
        raise HRTFError(
            f"{where}: Data_IR has shape {ir.shape}; expected (M measurements, 2 ears, N taps)"
        )
    n_meas = ir.shape[0]
    pos = np.asarray(getattr(sofa, "SourcePosition", None), dtype=float)
    if pos.shape != (n_meas, 3):
        raise HRTFError(
            f"{where}: SourcePosition has shape {pos.shape} but Data_IR has {n_meas} "
            f"measurements; expected ({n_meas}, 3)"
        )
    _check_sampling_rate(sofa, where)
    if not np.all(np.isfinite(ir)):
        raise HRTFError(f"{where}: Data_IR contains NaN or infinite values")
    if not np.all(np.isfinite(pos)):
        raise HRTFError(f"{where}: SourcePosition contains NaN or infinite values")
    elevation = pos[:, 1]
    if elevation.min() < -90 or elevation.max() > 90:
        raise HRTFError(
            f"{where}: SourcePosition elevation spans [{elevation.min():g}, "
            f"{elevation.max():g}] degrees; expected values in [-90, 90]"
        )
    if pos[:, 2].min() < 0:
        raise HRTFError(f"{where}: SourcePosition has a negative distance ({pos[:, 2].min():g} m)")
    _check_receivers(sofa, where)


def sampling_rate_hz(sofa) -> float:
    """The one sampling rate of a validated SOFA object, in Hz."""
    return float(np.asarray(sofa.Data_SamplingRate, dtype=float).ravel()[0])


def describe_sofa(path: str | Path, *, sha256: str | None = None) -> SofaSummary:
    """Read, validate and summarise a SOFA file (``sha256`` is computed when not given)."""
    from binsynth.acoustics.fetch import sha256_file

    p = Path(path)
    sofa = read_sofa_quiet(p)
    validate_sofa(sofa, p)
    ir = np.asarray(sofa.Data_IR)
    pos = np.asarray(sofa.SourcePosition, dtype=float)
    return SofaSummary(
        path=p,
        convention=str(sofa.GLOBAL_SOFAConventions),
        fs_hz=sampling_rate_hz(sofa),
        n_directions=int(ir.shape[0]),
        n_taps=int(ir.shape[2]),
        azimuth_range_deg=(float(pos[:, 0].min()), float(pos[:, 0].max())),
        elevation_range_deg=(float(pos[:, 1].min()), float(pos[:, 1].max())),
        distance_range_m=(float(pos[:, 2].min()), float(pos[:, 2].max())),
        sha256=sha256 or sha256_file(p),
        file_licence=str(getattr(sofa, "GLOBAL_License", "") or ""),
        title=str(getattr(sofa, "GLOBAL_Title", "") or ""),
    )


def _check_sampling_rate(sofa, where: str) -> None:
    fs = np.asarray(getattr(sofa, "Data_SamplingRate", np.nan), dtype=float).ravel()
    if fs.size != 1 or not np.isfinite(fs[0]) or fs[0] <= 0:
        raise HRTFError(
            f"{where}: Data_SamplingRate={fs.tolist()}; expected one positive rate in hertz"
        )
    units = getattr(sofa, "Data_SamplingRate_Units", "hertz")
    if str(units).strip().lower() not in {"hertz", "hz"}:
        raise HRTFError(f"{where}: Data_SamplingRate_Units={units!r}; expected 'hertz'")


def _check_receivers(sofa, where: str) -> None:
    """Refuse a file whose receiver 0 sits on the right (-y) and receiver 1 on the left:
    binsynth's channel 0 is the left ear, and a swap would mirror every scene silently."""
    if str(getattr(sofa, "ReceiverPosition_Type", "cartesian")) != "cartesian":
        return
    rec = np.asarray(getattr(sofa, "ReceiverPosition", np.zeros((2, 3))), dtype=float)
    if rec.ndim == 3 and rec.shape[2] == 1:
        rec = rec[:, :, 0]
    if rec.shape == (2, 3) and rec[0, 1] < 0 < rec[1, 1]:
        raise HRTFError(
            f"{where}: ReceiverPosition puts receiver 0 at y={rec[0, 1]:g} m (right ear); "
            "expected receiver 0 = left ear (+y); swap the receivers in the file"
        )
