"""Acoustics: HRTF sets (SOFA through sofar, the registry, the analytic spherical head), shoebox
rooms and their image sources, diffuse tails, BRIR synthesis and, from the same images, first-order
ambisonic (AmbiX) impulse responses. Units: metres, seconds,
Hz; head-frame angles in degrees. Imports dsp, io and the root helpers.
"""

from binsynth import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "hrtf": "HRTFSet load_sofa",
    "sets": "load_hrtf",
    "room": "ShoeboxRoom",
    "brir": "BRIRRequest BRIRInfo BRIRSynthesizer MIN_DISTANCE_M",
    "images": "enumerate_images",
    "tail": "diffuse_tail",
    "foa": "FOASynthesizer ambix_gains ambix_gains_deg",
    "spherical": "SphericalHead",
    "registry": "resolve_sofa_path list_entries",
})
