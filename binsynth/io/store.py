"""Where a dataset folder lives: a local folder or a pyarrow filesystem URI.

``open_store("out/ds")`` is a :class:`LocalStore` (atomic writes by fsync + rename, as
:mod:`binsynth.io.atomic` does); ``open_store("s3://bucket/ds")``, ``gs://…``,
``hdfs://…`` or ``file:///abs/ds`` is an :class:`ArrowStore` on the filesystem pyarrow
opens for the URI (credentials from the environment, as pyarrow reads them). Paths inside
a store are relative, with ``/`` separators (``data/train-00000-of-00004.parquet``).

Atomicity on an :class:`ArrowStore`: on object stores (S3, GCS) an upload appears whole
when it completes or not at all, so files are written straight to their final names.
Elsewhere (file://, HDFS) a file is written under a hidden temporary name
(``.NAME.<random>.tmp``) next to its final name and then moved there (a rename). A killed
run may leave temporaries; the next run deletes them (:meth:`Store.remove_temporaries`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from binsynth.errors import PathError, reason
from binsynth.io.atomic import atomic_path, write_text_atomic
from binsynth.io.hashing import sha256_file
from binsynth.io.processes import process_stamp


def is_uri(out: str | Path) -> bool:
    """True for ``scheme://…`` (a pyarrow filesystem URI), False for a plain path."""
    return isinstance(out, str) and "://" in out


def open_store(out: str | Path) -> Store:
    """The store for ``--out``: a URI gives an :class:`ArrowStore`, a path a :class:`LocalStore`."""
    return ArrowStore(out) if is_uri(out) else LocalStore(Path(out))


def is_temporary(name: str) -> bool:
    """Hidden temporaries written before an atomic move (``.NAME.*.tmp*``)."""
    return name.startswith(".") and ".tmp" in name


class Store:
    """The operations the renderer needs on its output folder (see the module docstring)."""

    #: what error messages call the folder (the path or URI as given)
    display: str
    #: the folder as a local path, or None for a remote store
    local: Path | None = None

    def kind(self, rel: str = "") -> str:
        """"dir", "file" or "missing"."""
        raise NotImplementedError

    def names(self, rel: str = "") -> list[str]:
        """Names of the entries of folder ``rel`` (empty when it does not exist)."""
        raise NotImplementedError

    def read_bytes(self, rel: str) -> bytes:
        raise NotImplementedError

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write ``rel`` atomically (a reader sees the old file or the new one)."""
        raise NotImplementedError

    def put_file(self, rel: str, local: Path) -> None:
        """Copy the finished local file ``local`` to ``rel`` atomically."""
        raise NotImplementedError

    def sha256(self, rel: str) -> str:
        raise NotImplementedError

    def size(self, rel: str) -> int:
        raise NotImplementedError

    def makedirs(self, rel: str = "") -> None:
        raise NotImplementedError

    def remove(self, rel: str) -> None:
        """Delete file ``rel`` if it exists."""
        raise NotImplementedError

    def rmtree(self, rel: str) -> None:
        """Delete folder ``rel`` and everything in it, if it exists."""
        raise NotImplementedError

    # shared on top of the primitives
    def is_file(self, rel: str) -> bool:
        return self.kind(rel) == "file"

    def read_text(self, rel: str) -> str:
        return self.read_bytes(rel).decode("utf-8")

    def write_text(self, rel: str, text: str) -> None:
        self.write_bytes(rel, text.encode("utf-8"))

    def remove_temporaries(self, folders: tuple[str, ...] = ("", "data")) -> None:
        """Delete the hidden temporaries a killed run left in ``folders``."""
        for folder in folders:
            for name in self.names(folder):
                if is_temporary(name):
                    self.remove(f"{folder}/{name}" if folder else name)


class LocalStore(Store):
    """A folder on this machine (or a mounted shared volume)."""

    def __init__(self, root: Path):
        self.local = root
        self.display = str(root)

    def _p(self, rel: str) -> Path:
        return self.local / rel if rel else self.local

    def kind(self, rel: str = "") -> str:
        p = self._p(rel)
        return "dir" if p.is_dir() else "file" if p.exists() else "missing"

    def names(self, rel: str = "") -> list[str]:
        p = self._p(rel)
        return sorted(q.name for q in p.iterdir()) if p.is_dir() else []

    def read_bytes(self, rel: str) -> bytes:
        return self._p(rel).read_bytes()

    def write_bytes(self, rel: str, data: bytes) -> None:
        with atomic_path(self._p(rel)) as tmp:
            tmp.write_bytes(data)

    def write_text(self, rel: str, text: str) -> None:
        write_text_atomic(self._p(rel), text)

    def put_file(self, rel: str, local: Path) -> None:
        with atomic_path(self._p(rel)) as tmp:
            shutil.copyfile(local, tmp)

    def sha256(self, rel: str) -> str:
        return sha256_file(self._p(rel))

    def size(self, rel: str) -> int:
        return self._p(rel).stat().st_size

    def makedirs(self, rel: str = "") -> None:
        self._p(rel).mkdir(parents=True, exist_ok=True)

    def remove(self, rel: str) -> None:
        p = self._p(rel)
        if p.is_file():
            p.unlink(missing_ok=True)

    def rmtree(self, rel: str) -> None:
        shutil.rmtree(self._p(rel), ignore_errors=True)


#: pyarrow filesystems whose uploads are atomic (written straight to their final names)
OBJECT_STORES = ("s3", "gcs")


class ArrowStore(Store):
    """A folder on any filesystem pyarrow opens from a URI (S3, GCS, HDFS, file://)."""

    def __init__(self, uri: str):
        import pyarrow as pa
        import pyarrow.fs as pafs

        self.display = uri
        try:
            self.fs, root = pafs.FileSystem.from_uri(uri)
        except (pa.ArrowException, OSError, ValueError) as e:
            raise PathError(f"--out {uri}: not a filesystem URI pyarrow can open ({reason(e)})") from None
        self.root = root.rstrip("/") or "/"
        self._types = pafs.FileType

    def _p(self, rel: str) -> str:
        return str(PurePosixPath(self.root) / rel) if rel else self.root

    def _call(self, what: str, fn, *args):
        """Run a filesystem call; its errors become one-line PathErrors naming the path."""
        import pyarrow as pa

        try:
            return fn(*args)
        except (OSError, pa.ArrowException) as e:
            raise PathError(f"{self.display}: cannot {what} ({reason(e)})") from None

    def kind(self, rel: str = "") -> str:
        t = self._call("read", self.fs.get_file_info, self._p(rel)).type
        return "dir" if t == self._types.Directory else "file" if t == self._types.File else "missing"

    def names(self, rel: str = "") -> list[str]:
        if self.kind(rel) != "dir":
            return []
        import pyarrow.fs as pafs

        infos = self._call("list", self.fs.get_file_info, pafs.FileSelector(self._p(rel)))
        return sorted(PurePosixPath(i.path).name for i in infos)

    def read_bytes(self, rel: str) -> bytes:
        def read() -> bytes:
            with self.fs.open_input_stream(self._p(rel)) as f:
                return f.read()

        return self._call(f"read {rel}", read)

    def _publish(self, rel: str, write) -> None:
        final = PurePosixPath(self._p(rel))
        if self.fs.type_name in OBJECT_STORES:
            # an upload becomes visible whole when it completes, or not at all; a move would
            # be a server-side copy (S3 caps those at 5 GiB) plus a delete
            def upload() -> None:
                with self.fs.open_output_stream(str(final)) as f:
                    write(f)

            self._call(f"write {rel}", upload)
            return
        tmp = str(final.parent / f".{final.name}.{secrets.token_hex(4)}.tmp")

        def run() -> None:
            try:
                with self.fs.open_output_stream(tmp) as f:
                    write(f)
                self.fs.move(tmp, str(final))
            except BaseException:
                try:
                    self.fs.delete_file(tmp)
                except OSError:
                    pass
                raise

        self._call(f"write {rel}", run)

    def write_bytes(self, rel: str, data: bytes) -> None:
        self._publish(rel, lambda f: f.write(data))

    def put_file(self, rel: str, local: Path) -> None:
        def copy(f) -> None:
            with open(local, "rb") as src:
                for chunk in iter(lambda: src.read(8 << 20), b""):
                    f.write(chunk)

        self._publish(rel, copy)

    def sha256(self, rel: str) -> str:
        def digest() -> str:
            h = hashlib.sha256()
            with self.fs.open_input_stream(self._p(rel)) as f:
                while chunk := f.read(8 << 20):
                    h.update(chunk)
            return h.hexdigest()

        return self._call(f"read {rel}", digest)

    def size(self, rel: str) -> int:
        return int(self._call("read", self.fs.get_file_info, self._p(rel)).size or 0)

    def makedirs(self, rel: str = "") -> None:
        self._call("create a folder", self.fs.create_dir, self._p(rel))  # recursive by default

    def remove(self, rel: str) -> None:
        if self.kind(rel) == "file":
            self._call(f"delete {rel}", self.fs.delete_file, self._p(rel))

    def rmtree(self, rel: str) -> None:
        if self.kind(rel) == "dir":
            self._call(f"delete {rel}", self.fs.delete_dir, self._p(rel))


SCRATCH_PREFIX = "binsynth-scratch-"


@contextlib.contextmanager
def local_scratch() -> Iterator[Path]:
    """A fresh folder in ``$TMPDIR`` for a shard's bytes before they go to a remote store,
    removed afterwards. Folders left by processes that died (SIGKILL, OOM) are swept first:
    their names carry the owner's pid (and, in case another pid namespace shares the
    folder, only those untouched for an hour go)."""
    import tempfile
    import time

    base = Path(tempfile.gettempdir())
    for old in base.glob(f"{SCRATCH_PREFIX}*"):
        pid = old.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        with contextlib.suppress(OSError):
            if pid.isdigit() and process_stamp(int(pid)) is None and time.time() - old.stat().st_mtime > 3600:
                shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
