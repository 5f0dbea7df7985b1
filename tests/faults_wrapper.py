"""``python faults_wrapper.py ARGS``: ``binsynth ARGS`` with one fault injected into shard writing.

``BINSYNTH_TEST_FAULT=KIND:N`` acts on the N-th shard written (1-based) in this process:
``kill-mid-write`` writes half of the shard's rows to its temporary file, then SIGKILLs the
process; ``kill-before-rename`` writes the whole temporary file, then SIGKILLs before the
rename; ``enospc`` leaves partial bytes in the temporary file and raises ENOSPC, as a full
disk does. Used by tests/test_faults.py with ``--workers 1`` (shards written in this process).
"""

import errno
import os
import signal
import sys

import pyarrow.parquet as pq

kind, nth = os.environ["BINSYNTH_TEST_FAULT"].split(":")
nth = int(nth)
calls = 0
real_write = pq.write_table


def write_table(table, where, **kw):
    global calls
    if not isinstance(where, (str, os.PathLike)):  # the in-memory schema probe, not a shard
        return real_write(table, where, **kw)
    calls += 1
    if calls == nth and kind == "kill-mid-write":
        real_write(table.slice(0, max(1, table.num_rows // 2)), where, **kw)
        os.kill(os.getpid(), signal.SIGKILL)
    if calls == nth and kind == "enospc":
        with open(where, "wb") as f:
            f.write(b"PAR1" + bytes(1000))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(where))
    real_write(table, where, **kw)
    if calls == nth and kind == "kill-before-rename":
        os.kill(os.getpid(), signal.SIGKILL)


pq.write_table = write_table

from binsynth.cli import main  # noqa: E402

sys.argv = ["binsynth", *sys.argv[1:]]
main()
