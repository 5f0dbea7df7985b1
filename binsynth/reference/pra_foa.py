"""Reference FOA impulse responses: pyroomacoustics' image sources heard by one omni and three
figure-eight microphones at the head centre.

The figure-eights point along the head's +y, +z and +x axes (in the room frame), so their
gains are the cosines between an image's arrival direction and those axes: the SN3D
first-order gains, and the four microphones are AmbiX channels W, Y, Z, X. pyroomacoustics'
analytic directivities keep their sign (pressure-gradient microphones), its delays are
windowed-sinc fractional delays late by :func:`binsynth.reference.pra.pra_global_delay`
samples (dropped here, so index 0 = emission) and its distance law is the one measured by
:func:`binsynth.reference.pra.pra_gain_compensation`. Used by tests as an independent check of
:class:`binsynth.acoustics.foa.FOASynthesizer`'s early part; nothing of binsynth's
acoustics is used to build it.
"""

from __future__ import annotations

import numpy as np

from binsynth.geometry import head_axes
from binsynth.reference.pra import (
    _check_inside, _import_pra, _materials, _vec3, pra_gain_compensation, pra_global_delay,
)


def pra_foa_rir(room_dim, absorption, listener_pos, source_pos, fs_hz: int, max_order: int, *,
                yaw_deg: float = 0.0, pitch_deg: float = 0.0, air_absorption: bool = False) -> np.ndarray:
    """(4, n) float64 AmbiX (W, Y, Z, X; SN3D) image-source response, sample 0 = emission.

    room_dim, listener_pos, source_pos: metres in the room frame; absorption: wall energy
    absorption in [0, 1] (or a pyroomacoustics Material); yaw/pitch: the listener's head in
    degrees (counter-clockwise from +x; nose up).
    """
    pra = _import_pra()
    from pyroomacoustics.directivities import DirectionVector, FigureEight, Omnidirectional

    dim = _vec3(room_dim, "room_dim")
    lis, src = _vec3(listener_pos, "listener_pos"), _vec3(source_pos, "source_pos")
    _check_inside(lis, dim, "listener_pos")
    _check_inside(src, dim, "source_pos")
    axes = np.asarray(head_axes(yaw_deg, pitch_deg), dtype=np.float64).reshape(3, 3)  # rows: head x, y, z

    def pointing(v: np.ndarray):
        azimuth = np.degrees(np.arctan2(v[1], v[0]))
        colatitude = np.degrees(np.arccos(np.clip(v[2], -1.0, 1.0)))
        return FigureEight(DirectionVector(azimuth, colatitude, degrees=True))

    room = pra.ShoeBox(dim, fs=int(fs_hz), max_order=int(max_order), materials=_materials(pra, absorption),
                       air_absorption=air_absorption)
    room.add_microphone_array(np.stack([lis] * 4, axis=1),
                              directivity=[Omnidirectional(), pointing(axes[1]), pointing(axes[2]), pointing(axes[0])])
    room.add_source(src)
    room.compute_rir()
    delay = pra_global_delay()
    n = max(len(room.rir[m][0]) for m in range(4)) - delay
    out = np.zeros((4, n))
    for m in range(4):
        r = np.asarray(room.rir[m][0], dtype=np.float64)[delay:]
        out[m, : r.size] = r
    return out * pra_gain_compensation()
