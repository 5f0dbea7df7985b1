"""``binsynth hrtf list|pull|info`` through the real entry point.

Bad input is checked through the console script in a subprocess (exit code 2, one line on
stderr, no traceback); commands that need a test-only registry entry run
``binsynth.cli.main`` in-process with ``sys.argv`` patched. Downloads go to a loopback
HTTP server; only the ``axd-example`` test reaches PyPI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


from binsynth.acoustics import registry
from conftest import write_small_sofa

SCRIPT = Path(sys.executable).with_name("binsynth")


def binsynth(*args: str, cache: Path) -> subprocess.CompletedProcess:
    """Run the installed console script with its own cache."""
    env = {k: v for k, v in os.environ.items() if k != "BINSYNTH_HRTF_MIRROR"}
    env["BINSYNTH_HRTF_CACHE"] = str(cache)
    fallback = [sys.executable, "-c", "from binsynth.cli import main; main()"]
    cmd = [str(SCRIPT)] if SCRIPT.exists() else fallback
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=300)


def in_process(monkeypatch, *args: str) -> int:
    """Run ``binsynth.cli.main`` with ``sys.argv`` patched; return the exit code."""
    from binsynth import cli

    monkeypatch.setattr(sys, "argv", ["binsynth", *args])
    try:
        cli.main()
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def assert_one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert done.stdout == ""


def field(output: str, key: str) -> str:
    """Value of a ``key  value`` line printed by ``hrtf info``."""
    for line in output.splitlines():
        if line.startswith(key + " "):
            return line[len(key):].strip()
    raise AssertionError(f"no {key!r} line in:\n{output}")


# ---------------------------------------------------------------- list


def test_list_shows_every_entry_and_cache_state(tmp_path):
    done = binsynth("hrtf", "list", cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    for entry in registry.list_entries():
        assert entry.name in done.stdout
    assert "CC BY-SA 3.0" in done.stdout and " no " in done.stdout and " yes " not in done.stdout


# ---------------------------------------------------------------- bad input: exit 2, one line


def test_pull_unknown_name(tmp_path):
    assert_one_line_error(binsynth("hrtf", "pull", "kemarr", cache=tmp_path / "c"),
                          "kemarr", "axd-example", "mit-kemar")


def test_info_nonexistent_path(tmp_path):
    missing = tmp_path / "nowhere" / "set.sofa"
    assert_one_line_error(binsynth("hrtf", "info", str(missing), cache=tmp_path / "c"),
                          str(missing), "no such file")


def test_info_unknown_word(tmp_path):
    assert_one_line_error(binsynth("hrtf", "info", "kemarr", cache=tmp_path / "c"),
                          "kemarr", "spherical")


def test_pull_bad_checksum_caches_nothing(tmp_path, mirror):
    write_small_sofa(mirror.root / "mit_kemar_normal_pinna.sofa")
    cache = tmp_path / "c"
    done = binsynth("hrtf", "pull", "mit-kemar", "--mirror", mirror.url, cache=cache)
    assert_one_line_error(done, "mit-kemar", "sha256", "nothing was cached")
    assert mirror.requests == ["/mit_kemar_normal_pinna.sofa"]
    assert list(cache.iterdir()) == []


def test_pull_http_404(tmp_path, mirror):
    done = binsynth("hrtf", "pull", "sadie2-d1", "--mirror", mirror.url, "-q", cache=tmp_path / "c")
    assert_one_line_error(done, "HTTP 404", "sadie2-d1")


def test_info_refuses_cartesian_positions(tmp_path):
    path = tmp_path / "cart.sofa"
    write_small_sofa(path, cartesian=True)
    assert_one_line_error(binsynth("hrtf", "info", str(path), cache=tmp_path / "c"),
                          "SourcePosition_Type='cartesian'")


def test_info_refuses_a_file_that_is_not_sofa(tmp_path):
    path = tmp_path / "junk.sofa"
    path.write_bytes(b"\x00not netcdf")
    assert_one_line_error(binsynth("hrtf", "info", str(path), cache=tmp_path / "c"),
                          "not a readable SOFA file")


def test_pull_without_name_is_a_usage_error(tmp_path):
    done = binsynth("hrtf", "pull", cache=tmp_path / "c")
    assert done.returncode == 2 and "Traceback" not in done.stderr


# ---------------------------------------------------------------- info on a path


def test_info_on_a_path(tmp_path):
    path = tmp_path / "small.sofa"
    sha = write_small_sofa(path)
    done = binsynth("hrtf", "info", str(path), cache=tmp_path / "c")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert field(out, "convention") == "SimpleFreeFieldHRIR"
    assert field(out, "fs") == "48000 Hz"
    assert field(out, "directions") == "4"
    assert field(out, "taps") == "8"
    assert field(out, "elevation") == "-30 .. 60 deg"
    assert field(out, "sha256") == sha
    assert "citation" not in out  # not from the registry


def test_info_on_an_uncached_name_downloads_nothing(tmp_path):
    done = binsynth("hrtf", "info", "sadie2-d1", cache=tmp_path / "c")
    assert done.returncode == 0, done.stderr
    assert field(done.stdout, "licence").startswith("Apache-2.0")
    assert "Armstrong" in field(done.stdout, "citation")
    assert field(done.stdout, "cached").startswith("no")
    assert not (tmp_path / "c" / "sadie2-d1.sofa").exists()


def test_info_spherical(tmp_path):
    from binsynth.acoustics.spherical import SphericalHead

    done = binsynth("hrtf", "info", "spherical", cache=tmp_path / "c")
    assert done.returncode == 0, done.stderr
    assert field(done.stdout, "sha256 (model)") == SphericalHead().sha256
    assert field(done.stdout, "fs") == "48000 Hz"
    assert field(done.stdout, "kind") == "builtin"


# ---------------------------------------------------------------- pull (in-process, test entries)


def test_pull_prints_path_and_reuses_cache(cache, mirror, registered, monkeypatch, capsys):
    sha = write_small_sofa(mirror.root / "t.sofa")
    registered(name="test-cli", url="https://example.invalid/t.sofa", sha256=sha)

    assert in_process(monkeypatch, "hrtf", "pull", "test-cli", "--mirror", mirror.url) == 0
    out = capsys.readouterr().out
    assert out == f"{cache / 'test-cli.sofa'}\n"
    assert in_process(monkeypatch, "hrtf", "pull", "test-cli", "--mirror", mirror.url, "-q") == 0
    assert capsys.readouterr().out == out
    assert mirror.requests == ["/t.sofa"]

    assert in_process(monkeypatch, "hrtf", "info", "test-cli") == 0
    info = capsys.readouterr().out
    assert field(info, "licence") == "CC0-1.0"
    assert field(info, "citation") == "Test, A. (2024) A tiny set."
    assert field(info, "sha256") == sha
    assert field(info, "directions") == "4"


def test_pull_unpinned_needs_a_flag(cache, mirror, registered, monkeypatch, capsys):
    sha = write_small_sofa(mirror.root / "u.sofa")
    registered(name="test-cli-unpinned", url="https://example.invalid/u.sofa")

    assert in_process(monkeypatch, "hrtf", "pull", "test-cli-unpinned", "--mirror", mirror.url) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--sha256" in err and "--trust-on-first-use" in err
    assert mirror.requests == []

    code = in_process(monkeypatch, "hrtf", "pull", "test-cli-unpinned", "--mirror", mirror.url,
                      "--trust-on-first-use", "-q")
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out == f"{cache / 'test-cli-unpinned.sofa'}\n"
    assert f"sha256 {sha}" in captured.err and "trusted on first use" in captured.err


# ---------------------------------------------------------------- the real example set


def test_pull_and_info_axd_example(tmp_path):
    """Real network (PyPI via pip), like test_registry's check, through the console script."""
    cache = tmp_path / "c"
    done = binsynth("hrtf", "pull", "axd-example", "-q", cache=cache)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{cache / 'axd-example.sofa'}\n"
    done = binsynth("hrtf", "info", "axd-example", cache=cache)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert field(out, "directions") == "793"
    assert field(out, "taps") == "256"
    assert field(out, "fs") == "48000 Hz"
    assert field(out, "elevation") == "-45 .. 90 deg"
    assert field(out, "licence") == "CC BY-SA 3.0"
    assert "SONICOM" in field(out, "citation")
    assert "custom entries" not in out + done.stderr
    listed = binsynth("hrtf", "list", cache=cache)
    assert any(line.split("│")[1].strip() == "axd-example" and "yes" in line
               for line in listed.stdout.splitlines() if "│" in line)
