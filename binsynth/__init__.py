"""binsynth: a binaural dataset factory.

Conventions (used everywhere in the package):

- Room frame: metres, origin at a floor corner, z up. Listener yaw in degrees,
  counter-clockwise from +x (seen from above); pitch in degrees, positive = nose up.
- Head frame (AES69/SOFA): +x nose, +y left ear, +z up. Azimuth in degrees
  counter-clockwise from the front, in (-180, 180], +90 = left. Elevation in degrees
  from the horizontal plane, +90 = above. Distance in metres from the head centre.
- Audio is float32, full scale [-1, 1]. Channel 0 is the left ear. Time 0 of a BRIR
  is the moment the source emits.
"""

__version__ = "0.1.0"
