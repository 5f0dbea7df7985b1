"""Reference renderers that binsynth's own renderer is tested and benchmarked against.

Only :mod:`binsynth.reference.pra` exists so far: pyroomacoustics' image-source model
with a measured HRTF (SOFA, read through sofar) as the directivity of a two-microphone
"head" at the listener position. pyroomacoustics is an optional dependency
(``pip install binsynth[dev]``); it is imported only when a function runs. Sits above render
(it may compare with it) and below dataset; today it imports only the root helpers.
"""

from .pra import pra_brir, pra_render_scene, sofar_file_reader

__all__ = ["pra_brir", "pra_render_scene", "sofar_file_reader"]
