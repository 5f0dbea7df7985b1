"""Is a process still the one we saw? (pool workers watch their driver; scratch sweeps
check owners)."""

from __future__ import annotations

import os


def process_stamp(pid: int) -> str | None:
    """A live process's start time (from /proc; None once it is gone or a zombie), so a
    recycled pid is not mistaken for the driver; without /proc, whether the pid exists."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] in ("Z", "X") else fields[19]
    except FileNotFoundError:
        if not os.path.isdir("/proc/self"):
            try:
                os.kill(pid, 0)
            except PermissionError:  # exists, owned by someone else
                return "alive"
            except OSError:
                return None
            return "alive"
        return None
    except OSError:
        return None
