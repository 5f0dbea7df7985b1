"""A sofar-based SOFA reader in the form pyroomacoustics' ``MeasuredDirectivityFile`` calls.

pyroomacoustics' own reader may download files from a database; this one reads a local
SimpleFreeFieldHRIR file with sofar and returns what ``file_reader_callback`` must:
``(ir (n_sources, n_mics, taps), fs, source directions (3, n_sources) as radians
[azimuth, colatitude, distance], receiver positions (3, n_mics) cartesian metres,
source labels, mic labels)``. See :mod:`binsynth.reference.pra` for the conventions.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from binsynth.errors import ConfigError, HRTFError


# --------------------------------------------------------------------------------------
# SOFA reader for pyroomacoustics (through sofar)
# --------------------------------------------------------------------------------------


def _rows(arr: Any, name: str, path: Path) -> np.ndarray:
    """A SOFA position-like variable as an (n, 3) float array (drops a trailing I dim)."""
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 3:  # e.g. ReceiverPosition (R, C, I)
        a = a[..., 0]
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] != 3:
        raise HRTFError(f"{path}: {name} has shape {np.shape(arr)}, expected (n, 3)")
    return a


def _to_cartesian(pos: np.ndarray, kind: str, units: str, name: str, path: Path) -> np.ndarray:
    """SOFA positions (n, 3) of type ``kind`` to cartesian metres (n, 3)."""
    kind = (kind or "cartesian").strip().lower()
    if kind == "cartesian":
        return pos
    if kind == "spherical":
        unit_list = [u.strip().lower() for u in (units or "degree, degree, metre").split(",")]
        if len(unit_list) == 1:
            unit_list = unit_list * 3
        az, el, r = pos[:, 0], pos[:, 1], pos[:, 2]
        if not unit_list[0].startswith("rad"):
            az = np.deg2rad(az)
        if not unit_list[1].startswith("rad"):
            el = np.deg2rad(el)
        return np.stack(
            [r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az), r * np.sin(el)],
            axis=1,
        )
    raise HRTFError(f"{path}: {name}_Type {kind!r} is not supported (cartesian|spherical)")


def _position(sofa: Any, name: str, path: Path) -> np.ndarray:
    arr = getattr(sofa, name, None)
    if arr is None:
        raise HRTFError(f"{path}: SOFA field {name} is missing")
    pos = _rows(arr, name, path)
    return _to_cartesian(
        pos,
        getattr(sofa, f"{name}_Type", "cartesian"),
        getattr(sofa, f"{name}_Units", "metre"),
        name,
        path,
    )


def _head_basis(sofa: Any, path: Path) -> np.ndarray:
    """Rows = head x (view), y (left), z (up) axes in SOFA global coordinates."""
    if getattr(sofa, "ListenerView", None) is None:
        return np.eye(3)
    view = _position(sofa, "ListenerView", path)
    up = (
        _position(sofa, "ListenerUp", path)
        if getattr(sofa, "ListenerUp", None) is not None
        else np.array([[0.0, 0.0, 1.0]])
    )
    if not (np.allclose(view, view[0]) and np.allclose(up, up[0])):
        raise HRTFError(f"{path}: ListenerView/ListenerUp vary across measurements")
    x = view[0] / np.linalg.norm(view[0])
    z = up[0] - np.dot(up[0], x) * x
    nz = np.linalg.norm(z)
    if nz < 1e-9:
        raise HRTFError(f"{path}: ListenerUp is parallel to ListenerView")
    z = z / nz
    y = np.cross(z, x)
    return np.stack([x, y, z])


def sofar_file_reader(path: str | os.PathLike, fs: int | float | None = None):
    """Read a SOFA HRIR file with sofar in the layout pyroomacoustics expects.

    Drop-in ``file_reader_callback`` for
    :class:`pyroomacoustics.directivities.MeasuredDirectivityFile` (same signature
    and return values as ``pyroomacoustics.directivities.sofa.open_sofa_file``).
    It reads the local file only; it never downloads anything.

    Parameters
    ----------
    path:
        A local SOFA file with ``Data.IR`` (SimpleFreeFieldHRIR, GeneralFIR, ...).
    fs:
        Wanted sampling rate in Hz; the IRs are resampled with
        ``scipy.signal.resample_poly`` (amplitude- and delay-preserving) when it differs
        from the file's. ``None`` keeps the file's rate.

    Returns
    -------
    ir : ndarray (n_sources, n_mics, taps), float64
        ``Data.IR`` (with any integer ``Data.Delay`` applied), resampled to ``fs``.
    fs : int
    source_dirs : ndarray (3, n_sources)
        Direction of each measurement seen from the listener *in the head frame*:
        azimuth (radians, counter-clockwise from the nose), colatitude (radians from
        +z, i.e. 90 deg - elevation), distance (metres).
    receiver_pos : ndarray (3, n_mics)
        Ear positions, cartesian metres, head frame.
    source_labels : None
    mic_labels : list[str] | None
        ``["left", "right"]`` in file order for two-receiver files (the receiver with
        the larger head-frame y is the left ear), otherwise ``None``.
    """
    import sofar

    path = Path(path)
    if not path.is_file():
        raise HRTFError(f"{path}: SOFA file not found")
    try:
        sofa = sofar.read_sofa(str(path), verify=False, verbose=False)
    except Exception as exc:  # sofar raises many kinds; report one line
        raise HRTFError(f"{path}: cannot read SOFA file ({exc})") from exc

    if getattr(sofa, "Data_IR", None) is None:
        conv = getattr(sofa, "GLOBAL_SOFAConventions", "?")
        raise HRTFError(f"{path}: SOFA convention {conv} has no Data.IR (FIR data needed)")
    ir = np.asarray(sofa.Data_IR, dtype=np.float64)
    if ir.ndim != 3:
        raise HRTFError(f"{path}: Data.IR has shape {ir.shape}, expected (M, R, N)")
    n_meas, n_rec, _ = ir.shape

    fs_file = float(np.asarray(sofa.Data_SamplingRate, dtype=np.float64).ravel()[0])

    # Data.Delay (samples), shape (I, R) or (M, R): prepend zeros.
    delay = getattr(sofa, "Data_Delay", None)
    if delay is not None:
        d = np.broadcast_to(np.asarray(delay, dtype=np.float64).reshape(-1, n_rec), (n_meas, n_rec))
        if np.any(d != 0):
            di = np.rint(d)
            if np.any(np.abs(d - di) > 1e-6) or np.any(di < 0):
                raise HRTFError(f"{path}: non-integer or negative Data.Delay is not supported")
            di = di.astype(int)
            out = np.zeros((n_meas, n_rec, ir.shape[2] + int(di.max())))
            for m in range(n_meas):
                for r in range(n_rec):
                    out[m, r, di[m, r] : di[m, r] + ir.shape[2]] = ir[m, r]
            ir = out

    if fs is None:
        fs_out = int(round(fs_file))
    else:
        fs_out = int(round(float(fs)))
        if fs_out <= 0:
            raise ConfigError(f"fs must be positive, got {fs}")
        if abs(fs_out - fs_file) > 1e-6:
            from scipy.signal import resample_poly

            ratio = Fraction(fs_out, 1) / Fraction(fs_file).limit_denominator(1000)
            ir = resample_poly(ir, ratio.numerator, ratio.denominator, axis=-1)

    basis = _head_basis(sofa, path)
    listener = _position(sofa, "ListenerPosition", path) if getattr(
        sofa, "ListenerPosition", None
    ) is not None else np.zeros((1, 3))

    src = _position(sofa, "SourcePosition", path)
    src = np.broadcast_to(src, (n_meas, 3)) - listener
    src_head = src @ basis.T
    dist = np.linalg.norm(src_head, axis=1)
    if np.any(dist <= 0):
        raise HRTFError(f"{path}: a SourcePosition coincides with the listener")
    azimuth = np.arctan2(src_head[:, 1], src_head[:, 0])
    colatitude = np.arccos(np.clip(src_head[:, 2] / dist, -1.0, 1.0))
    source_dirs = np.stack([azimuth, colatitude, dist])

    rec = _position(sofa, "ReceiverPosition", path)
    rec = np.broadcast_to(rec, (n_rec, 3)) @ basis.T
    receiver_pos = np.ascontiguousarray(rec.T)

    mic_labels = None
    if n_rec == 2 and abs(rec[0, 1] - rec[1, 1]) > 1e-9:
        mic_labels = ["left", "right"] if rec[0, 1] > rec[1, 1] else ["right", "left"]

    return np.ascontiguousarray(ir), fs_out, source_dirs, receiver_pos, None, mic_labels
