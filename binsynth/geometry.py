"""Coordinate conversions between the room frame and the listener's head frame.

Room frame: metres, origin at a floor corner, +z up. The listener's yaw is in degrees,
counter-clockwise from +x seen from above; pitch in degrees, positive = nose up.

Head frame (AES69/SOFA): +x nose, +y left ear, +z up. Azimuth in degrees
counter-clockwise from the front in (-180, 180] (+90 = left), elevation in degrees from
the horizontal plane (+90 = above), distance in metres from the head centre.
"""

from __future__ import annotations

import numpy as np


def wrap_azimuth_deg(az_deg: np.ndarray | float) -> np.ndarray:
    """Wrap azimuths in degrees to (-180, 180]."""
    az = np.asarray(az_deg, dtype=np.float64)
    wrapped = np.mod(az + 180.0, 360.0) - 180.0
    return np.where(wrapped == -180.0, 180.0, wrapped)


def sph_to_cart(az_deg, el_deg, dist_m=1.0) -> np.ndarray:
    """Head-frame spherical (degrees, metres) to Cartesian; returns (..., 3) in metres."""
    az = np.deg2rad(np.asarray(az_deg, dtype=np.float64))
    el = np.deg2rad(np.asarray(el_deg, dtype=np.float64))
    r = np.asarray(dist_m, dtype=np.float64)
    return np.stack(
        np.broadcast_arrays(r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az), r * np.sin(el)),
        axis=-1,
    )


def cart_to_sph(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Head-frame Cartesian (..., 3) to (azimuth_deg in (-180, 180], elevation_deg, distance_m)."""
    xyz = np.asarray(xyz, dtype=np.float64)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    r = np.sqrt(x * x + y * y + z * z)
    az = wrap_azimuth_deg(np.rad2deg(np.arctan2(y, x)))
    el = np.rad2deg(np.arctan2(z, np.hypot(x, y)))
    return az, el, r


def head_axes(yaw_deg, pitch_deg=0.0) -> np.ndarray:
    """Rows are the head's forward, left and up unit vectors in room coordinates, (..., 3, 3)."""
    yaw, pitch = np.broadcast_arrays(np.deg2rad(np.asarray(yaw_deg, dtype=np.float64)), np.deg2rad(np.asarray(pitch_deg, dtype=np.float64)))
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    zero = np.zeros_like(yaw)
    forward = np.stack([cp * cy, cp * sy, sp], axis=-1)
    left = np.stack([-sy, cy, zero], axis=-1)
    up = np.stack([-sp * cy, -sp * sy, cp], axis=-1)  # forward × left
    return np.stack([forward, left, up], axis=-2)


def room_to_head(points_m: np.ndarray, listener_m, yaw_deg: float, pitch_deg: float = 0.0) -> np.ndarray:
    """Room-frame points (..., 3) to head-frame Cartesian coordinates (..., 3), metres."""
    rel = np.asarray(points_m, dtype=np.float64) - np.asarray(listener_m, dtype=np.float64)
    return rel @ head_axes(yaw_deg, pitch_deg).T


def head_to_room(az_deg, el_deg, dist_m, listener_m, yaw_deg: float, pitch_deg: float = 0.0) -> np.ndarray:
    """A head-relative direction and distance to a room-frame position (..., 3), metres."""
    local = sph_to_cart(az_deg, el_deg, dist_m)
    return local @ head_axes(yaw_deg, pitch_deg) + np.asarray(listener_m, dtype=np.float64)
