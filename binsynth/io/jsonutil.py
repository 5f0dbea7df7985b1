"""JSON helpers shared by sidecars, scenes and manifests."""

from __future__ import annotations

import numpy as np


def plain(value):
    """``json.dumps(default=...)`` hook: numpy scalars and arrays become Python numbers and lists."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
