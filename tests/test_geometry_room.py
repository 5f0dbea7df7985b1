"""Coordinate frames and shoebox room acoustics against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binsynth.acoustics.room import ShoeboxRoom
from binsynth.constants import AIR_ENERGY_ATTENUATION_PER_M, SABINE_S_PER_M
from binsynth.errors import ConfigError, GeometryError
from binsynth.geometry import cart_to_sph, head_to_room, room_to_head, sph_to_cart, wrap_azimuth_deg


def test_head_frame_axes():
    np.testing.assert_allclose(sph_to_cart(0, 0), [1, 0, 0], atol=1e-12)  # front = +x
    np.testing.assert_allclose(sph_to_cart(90, 0), [0, 1, 0], atol=1e-12)  # +90 = left = +y
    np.testing.assert_allclose(sph_to_cart(0, 90), [0, 0, 1], atol=1e-12)  # up = +z
    assert float(wrap_azimuth_deg(-180.0)) == 180.0 and float(wrap_azimuth_deg(270.0)) == -90.0


@settings(max_examples=200, deadline=None)
@given(
    az=st.floats(-179.9, 180.0), el=st.floats(-89.0, 89.0), dist=st.floats(0.2, 20.0),
    yaw=st.floats(-360, 360), pitch=st.floats(-60, 60),
)
def test_room_head_round_trip(az, el, dist, yaw, pitch):
    listener = np.array([2.0, 3.0, 1.5])
    p = head_to_room(az, el, dist, listener, yaw, pitch)
    a, e, r = cart_to_sph(room_to_head(p, listener, yaw, pitch))
    assert r == pytest.approx(dist, rel=1e-9)
    assert e == pytest.approx(el, abs=1e-7)
    assert abs(((float(a) - az + 180) % 360) - 180) < 1e-6


def test_yaw_is_counter_clockwise_from_x():
    # facing +y (yaw 90): a point at +x relative to the head is on the right (az -90)
    az, _, _ = cart_to_sph(room_to_head([3.0, 0.0, 0.0], [0, 0, 0], 90.0))
    assert float(az) == pytest.approx(-90.0)


def test_rt60_target_is_met_by_eyring_at_1khz():
    room = ShoeboxRoom.from_rt60([8, 6, 3], 0.7)
    assert room.rt60_s[3] == pytest.approx(0.7, rel=1e-9)
    # closed form: Eyring with air, T = 0.161 V / (-S ln(1-α) + 4 m V)
    v, s, a = 144.0, 2 * (48 + 18 + 24), room.absorption[0, 3]
    eyring = SABINE_S_PER_M * v / (-s * np.log(1 - a) + 4 * AIR_ENERGY_ATTENUATION_PER_M[3] * v)
    assert room.rt60_s[3] == pytest.approx(eyring, rel=1e-9)
    # air absorption shortens the top bands
    assert room.rt60_s[-1] < room.rt60_s[3] < room.rt60_s[0] + 1e-9


def test_sabine_limit_for_small_absorption():
    room = ShoeboxRoom([10, 8, 4], np.full((6, 7), 0.02), air_absorption=False)
    sabine = SABINE_S_PER_M * room.volume_m3 / (room.surface_m2 * 0.02)
    assert room.rt60_s[0] == pytest.approx(sabine, rel=0.011)  # -ln(1-α) ≈ α(1 + α/2)


def test_room_errors_name_the_problem():
    with pytest.raises(GeometryError, match="room dimensions"):
        ShoeboxRoom([4, -1, 3], 0.2)
    with pytest.raises(ConfigError, match="absorption"):
        ShoeboxRoom([4, 4, 3], 1.2)
    with pytest.raises(ConfigError, match="too short"):
        ShoeboxRoom.from_rt60([30, 30, 10], 0.05)
    with pytest.raises(ConfigError, match="too long"):
        ShoeboxRoom.from_rt60([30, 30, 10], 60.0)
    room = ShoeboxRoom.from_rt60([4, 4, 3], 0.5)
    with pytest.raises(GeometryError, match=r"source at \(5, 1, 1\) m is outside the 4x4x3 m room"):
        room.check_inside([5.0, 1.0, 1.0], "source")
