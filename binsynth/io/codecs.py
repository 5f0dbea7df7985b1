"""Audio codecs for dataset rows: float32 [-1, 1] arrays ⇄ FLAC/WAV bytes (soundfile).

Arrays are (channels, samples) float32, channel 0 = left ear. Encoding clips to [-1, 1]
(the caller records any gain it applied to stay in range) and quantises to the subtype's
integer grid; the same input always gives the same bytes.
"""

from __future__ import annotations

import io

import numpy as np

from binsynth.errors import AudioFileError, ConfigError

#: codec name -> (soundfile format, default subtype, file suffix)
CODECS = {"flac": ("FLAC", "PCM_16", ".flac"), "wav": ("WAV", "PCM_16", ".wav")}
SUBTYPES = {16: "PCM_16", 24: "PCM_24"}


def encode(audio: np.ndarray, fs_hz: int, codec: str = "flac", bits: int = 16, flac_level: int = 5) -> bytes:
    """Encode (channels, samples) float32 audio to FLAC or WAV bytes (``flac_level``: libFLAC's
    compression level 0–8, FLAC only)."""
    import soundfile as sf

    if codec not in CODECS:
        raise ConfigError(f"codec {codec!r}: expected one of {', '.join(CODECS)}")
    if bits not in SUBTYPES:
        raise ConfigError(f"bit depth {bits}: expected 16 or 24")
    if isinstance(flac_level, bool) or not isinstance(flac_level, (int, np.integer)) or not 0 <= flac_level <= 8:
        raise ConfigError(f"FLAC level {flac_level!r}: expected an integer 0-8")
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 2 or not np.all(np.isfinite(audio)):
        raise ConfigError(f"audio of shape {audio.shape}: expected finite (channels, samples)")
    buf = io.BytesIO()
    # libsndfile maps compression_level in [0, 1] to libFLAC's levels 0-8 (its default is 5)
    extra = {"compression_level": flac_level / 8} if codec == "flac" else {}
    sf.write(buf, np.clip(audio, -1.0, 1.0).T, int(fs_hz), format=CODECS[codec][0], subtype=SUBTYPES[bits], **extra)
    return buf.getvalue()


def decode(data: bytes, what: str = "audio") -> tuple[np.ndarray, int]:
    """Decode FLAC/WAV bytes to ((channels, samples) float32, fs_hz)."""
    import soundfile as sf

    try:
        audio, fs = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile raises RuntimeError/LibsndfileError for bad bytes
        raise AudioFileError(f"{what}: not decodable audio ({type(e).__name__}: {e})") from e
    return audio.T.copy(), int(fs)
