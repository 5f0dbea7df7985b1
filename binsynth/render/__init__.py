"""Rendering: scenes to binaural (or FOA) mixtures with batched FFT convolution in torch (CPU
or CUDA), moving sources with crossfaded keyframe responses, plus the two file-writing jobs
built on it: one BRIR as WAV + JSON + PNG (``binsynth brir``) and the embedded demo
(``binsynth demo``). Imports scene (the keyframe grid), plots, acoustics, dsp, io and below.
"""

from binsynth import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "renderer": "Renderer Scene Source convolve_sum convolve_many plan_convolution place_sources place_into CHUNK_BYTES",
    "brir_tool": "BrirSpec write_brir",
    "demo": "run_demo",
    "motion": "Keyframes keyframes_for window",
})
