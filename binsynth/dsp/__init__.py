"""Low-level signal helpers shared by acoustics and rendering: FFT sizes, measures of impulse
responses (onset, Schroeder decay, T30), counter-based Gaussian noise, freed-memory upkeep and
the torch device choice. Imports only the root helpers (errors, constants).
"""

from binsynth import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "fft": "fast_fft_len coarse_fft_len",
    "measures": "onset_samples schroeder_decay_db t30_s",
    "noise": "gaussian stream_key",
    "memory": "keep_freed_memory",
    "device": "resolve_device",
})
