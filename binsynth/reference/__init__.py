"""Reference renderers that binsynth's own renderer is tested and benchmarked against.

:mod:`binsynth.reference.pra`: pyroomacoustics' image-source model with a measured HRTF
(SOFA, read through sofar) as the directivity of a two-microphone "head" at the listener
position; :mod:`binsynth.reference.pra_foa`: the same image sources heard by an omni and
three figure-eight microphones (AmbiX W, Y, Z, X). pyroomacoustics is an optional dependency
(``pip install binsynth[dev]``); it is imported only when a function runs. Sits above render
(it may compare with it) and below dataset; today it imports only the root helpers.
"""

from .pra import pra_brir, pra_render_scene, sofar_file_reader
from .pra_foa import pra_foa_rir

__all__ = ["pra_brir", "pra_foa_rir", "pra_render_scene", "sofar_file_reader"]
