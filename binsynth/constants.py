"""Physical constants, with units and the conditions they hold for."""

from __future__ import annotations

import numpy as np

#: Speed of sound in m/s: dry air at 20 °C (343.2 m/s; the usual rounded figure).
SPEED_OF_SOUND_M_S: float = 343.0

#: Octave-band centre frequencies in Hz used for wall absorption and air absorption.
OCTAVE_BANDS_HZ: tuple[float, ...] = (125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)

#: Air attenuation in dB/km per octave band, ISO 9613-1 at 20 °C, 50 % relative
#: humidity, 101.325 kPa (pure-tone values at the band centres).
AIR_ATTENUATION_DB_PER_KM: tuple[float, ...] = (0.44, 1.31, 2.73, 4.66, 9.86, 29.4, 105.0)

#: The same as an energy attenuation coefficient m in 1/m (intensity ~ exp(-m r)),
#: the ``m`` of Sabine's ``T = 0.161 V / (S a + 4 m V)``.
AIR_ENERGY_ATTENUATION_PER_M: np.ndarray = np.asarray(AIR_ATTENUATION_DB_PER_KM) / (
    1000.0 * 10.0 * np.log10(np.e)
)
AIR_ENERGY_ATTENUATION_PER_M.setflags(write=False)

#: Sabine's constant 24 ln(10) / c in s/m for ``SPEED_OF_SOUND_M_S`` (≈ 0.161).
SABINE_S_PER_M: float = 24.0 * np.log(10.0) / SPEED_OF_SOUND_M_S

#: Default head radius in metres (Algazi et al. 2001 fit to the CIPIC heads, 8.75 cm).
HEAD_RADIUS_M: float = 0.0875
