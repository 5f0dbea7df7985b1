"""PNGs a person would rather look at than read: a BRIR (waveforms, decay), a scene seen from
above (with the paths of moving sources), label distributions of a dataset. matplotlib
loads inside the functions. Imports scene (paths), dsp, io and qa (task names) and the root
helpers.
"""

from binsynth import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "brir": "plot_brir",
    "scene": "plot_scene_top plot_stats",
})
