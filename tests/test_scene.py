"""The scene record: canonical JSON round trip and the room it describes."""

from __future__ import annotations

import numpy as np
import pytest

from binsynth.scene.record import ListenerSpec, RoomSpec, SceneSpec, SourceSpec


def _scene(**room) -> SceneSpec:
    return SceneSpec(
        index=7, split="test", seed=1234, sample_rate_hz=16000, duration_s=4.0,
        room=RoomSpec(**({"anechoic": False, "dimensions_m": [6.0, 5.0, 3.0], "rt60_s": 0.5} | room)),
        listener=ListenerSpec([3.0, 2.5, 1.6], yaw_deg=30.0),
        sources=[SourceSpec("siren", "synthetic/siren/12", 45.0, 0.0, 2.0, [4.0, 4.0, 1.6], 0.5, 3.5, -3.0)],
        hrtf="axd-example",
    )


def test_json_round_trip_is_exact_and_canonical():
    scene = _scene()
    text = scene.to_json()
    back = SceneSpec.from_json(text)
    assert back == scene and back.to_json() == text
    assert scene.id == "test-00000007"
    assert text.index('"duration_s"') < text.index('"format"')  # sorted keys


def test_room_from_the_record():
    room = _scene().shoebox()
    assert room.rt60_s[3] == pytest.approx(0.5)
    assert _scene(anechoic=True, dimensions_m=None, rt60_s=None).shoebox() is None
    custom = _scene(absorption=np.full((6, 7), 0.2).tolist(), rt60_s=None).shoebox()
    assert custom.absorption[0, 0] == pytest.approx(0.2)
