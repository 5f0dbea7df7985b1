"""binsynth: a binaural dataset factory.

Conventions (used everywhere in the package):

- Room frame: metres, origin at a floor corner, z up. Listener yaw in degrees,
  counter-clockwise from +x (seen from above); pitch in degrees, positive = nose up.
- Head frame (AES69/SOFA): +x nose, +y left ear, +z up. Azimuth in degrees
  counter-clockwise from the front, in (-180, 180], +90 = left. Elevation in degrees
  from the horizontal plane, +90 = above. Distance in metres from the head centre.
- Audio is float32, full scale [-1, 1]. Channel 0 is the left ear. Time 0 of a BRIR
  is the moment the source emits.

Folders follow the data flow (README, "Layout"); imports go one way, in dependency order, and
a lower stage never imports a higher one: dsp < io < corpora < acoustics < qa < recipe < scene
< plots < render < reference < dataset < trainer < commands. The root holds the CLI entry points and one-screen helpers (errors,
constants, geometry, progress) that every stage may use.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

__version__ = "0.1.0"


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], object], list[str]]:
    """``(__getattr__, __all__)`` for ``package`` (PEP 562). ``exports`` maps a submodule to the
    public names it defines (space-separated); each loads on first use, so importing a package
    costs nothing until a name is used (torch loads then, not on every CLI call)."""
    where = {name: f"{package}.{module}" for module, names in exports.items() for name in names.split()}

    def __getattr__(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__, sorted(where)
