"""Scenes: the scene record (room, listener, placed sources, background, QA; JSON round trip),
``sample_scene(recipe, split, index)``, a pure function of its arguments, and the paths of
moving sources on the 100 ms label grid. Imports corpora
(dry clips), acoustics (rooms, the closest distance), qa (questions drawn with the scene), io
(JSON) and the root helpers; it reads the recipe it is given without importing its package.
"""

from binsynth import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "record": "SceneSpec SourceSpec RoomSpec ListenerSpec SCENE_FORMAT",
    "sampling": "sample_scene corpora_for scene_rng",
    "paths": "positions_at trajectory speeds_m_s active_frames FRAME_S",
})
