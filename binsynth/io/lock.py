"""One render at a time per dataset folder: ``DIR/.binsynth.lock``.

An advisory ``flock`` on a hidden file in the folder. The kernel drops it when the holding
process ends, however it ends (exit, exception, SIGKILL, the OOM killer), so a crashed run
never leaves the folder locked: there is no stale lock to time out or to delete by hand.
The file's text names the holder (host, pid, start time) for the refusal message. The
holder removes the file before it lets go, so a finished folder holds only the dataset; a
run that locked a file which was removed meanwhile notices (another inode at the path) and
tries again, so two runs never hold two files of the same name. A killed run leaves the
file, unlocked: the next run takes it over.
On a shared volume the lock reaches other hosts where the filesystem forwards ``flock``
(NFSv4, Lustre, CephFS do; some FUSE mounts do not). Remote stores (s3://, gs://) are not
locked: run one render per URI.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from binsynth.errors import BusyError, PathError, StorageError, reason

LOCK = ".binsynth.lock"


def holder(folder: Path) -> str:
    """Who holds (or last held) the folder's lock, in words."""
    try:
        info = json.loads((Path(folder) / LOCK).read_text())
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["started"]))
        return f"pid {info['pid']} on {info['host']}, started {started}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"


def is_locked(folder: Path) -> bool:
    """Whether a render holds ``folder``'s lock right now."""
    try:
        fd = os.open(Path(folder) / LOCK, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s render lock (creating the folder) or raise :class:`BusyError`."""
    folder = Path(folder)
    path = folder / LOCK
    created = not folder.exists()
    busy = 0
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the last holder removed the folder between our mkdir and open
            continue
        except OSError as e:
            raise PathError(f"--out {folder}: cannot create the folder's lock file ({reason(e)})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            busy += 1
            if busy < 10:  # `verify` peeks with a shared lock for an instant: not a render
                time.sleep(0.02)
                continue
            raise BusyError(f"--out {folder}: another binsynth render is writing here ({holder(folder)}); "
                            "wait for it to finish, or use another folder") from None
        try:  # the holder before us may have removed the file between our open and our lock
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}).encode(), 0)
        except OSError as e:
            raise StorageError(f"--out {folder}: cannot write the folder's lock file ({reason(e)})") from None
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # still held: whoever opened this file now finds it gone and retries
        os.close(fd)  # closing the only descriptor releases the lock
        if created:  # a run refused before it wrote anything leaves no empty folder behind
            with contextlib.suppress(OSError):
                folder.rmdir()
