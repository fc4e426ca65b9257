"""base-image/build/toolchain/pkgdb.py: the trim takes the package manager out as its database
describes it, and the database then lists only packages that are whole, for dpkg and apk alike.
The databases here are written in each tool's own format (dpkg's status and info/*.list; apk's
installed file, as apk-tools writes it: P:, V:, F: folders and R: files under them)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

PKGDB = Path(__file__).resolve().parents[1] / "base-image" / "build" / "toolchain" / "pkgdb.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pkgdb", PKGDB)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pkgdb = load()

STATUS = """Package: apt
Status: install ok installed
Priority: required
Architecture: amd64
Version: 3.0.3
Description: commandline package manager
 This package provides commandline tools for searching and
 managing as well as querying information about packages.

Package: dpkg
Essential: yes
Status: install ok installed
Architecture: amd64
Version: 1.22.21
Description: Debian package management system

Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Version: 2.41-12
Description: GNU C Library: Shared libraries

"""
LISTS = {
    "apt.list": ["/.", "/etc", "/etc/apt", "/etc/apt/apt.conf.d", "/etc/apt/apt.conf.d/01autoremove", "/usr", "/usr/bin",
                 "/usr/bin/apt", "/usr/bin/apt-get", "/usr/lib", "/usr/lib/apt", "/usr/lib/apt/methods",
                 "/usr/lib/apt/methods/http", "/usr/share/doc/apt/changelog.gz"],
    "dpkg.list": ["/.", "/sbin", "/sbin/start-stop-daemon", "/usr", "/usr/bin", "/usr/bin/dpkg", "/usr/bin/dpkg-query",
                  "/var", "/var/lib", "/var/lib/dpkg", "/etc/dpkg/dpkg.cfg"],
    "libc6:amd64.list": ["/.", "/usr", "/usr/bin", "/usr/bin/ldd", "/usr/lib", "/usr/lib/x86_64-linux-gnu",
                         "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/share/doc/libc6/copyright"],
}

FOLDERS = {"/var/lib/dpkg"}


@pytest.fixture
def debian(tmp_path: Path) -> Path:
    """A root as a slim image has it: docs excluded by dpkg.cfg.d, so listed but never installed."""
    info = tmp_path / "var" / "lib" / "dpkg" / "info"
    info.mkdir(parents=True)
    (tmp_path / "var" / "lib" / "dpkg" / "status").write_text(STATUS)
    for name, paths in LISTS.items():
        (info / name).write_text("\n".join(paths) + "\n")
        (info / name.replace(".list", ".md5sums")).write_text("")
        for path in paths[1:]:
            target = tmp_path / path.lstrip("/")
            if path.startswith(("/usr/share/doc/", "/sbin")):
                continue
            if path in FOLDERS or any(other.startswith(path + "/") for paths_ in LISTS.values() for other in paths_):
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(path)
    # A merged /usr, as trixie's and bookworm's images have: /sbin is a link to usr/sbin.
    (tmp_path / "usr" / "sbin").mkdir()
    (tmp_path / "usr" / "sbin" / "start-stop-daemon").write_text("")
    (tmp_path / "usr" / "sbin" / "ldconfig").write_text("")
    (tmp_path / "sbin").symlink_to("usr/sbin")
    (tmp_path / "etc" / "dpkg" / "dpkg.cfg.d").mkdir(parents=True)
    (tmp_path / "etc" / "dpkg" / "dpkg.cfg.d" / "docker").write_text(
        "path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\n")
    (tmp_path / "usr" / "share" / "doc" / "libc6").mkdir(parents=True)
    (tmp_path / "usr" / "share" / "doc" / "libc6" / "copyright").write_text("GPL")
    (tmp_path / "etc" / "apt" / "sources.list").write_text("deb http://deb.debian.org/debian trixie main\n")
    return tmp_path


def packages(root: Path) -> list[str]:
    status = (root / "var" / "lib" / "dpkg" / "status").read_text()
    return [line.split(": ", 1)[1] for line in status.splitlines() if line.startswith("Package: ")]


def test_removing_apt_and_dpkg_deletes_their_files_and_entries_and_nothing_else(debian: Path) -> None:
    assert pkgdb.remove(debian, ["apt", "dpkg"]) == ["apt", "dpkg"]
    assert packages(debian) == ["libc6"]
    for gone in ("usr/bin/apt", "usr/bin/apt-get", "usr/lib/apt", "usr/bin/dpkg", "etc/dpkg/dpkg.cfg",
                 "var/lib/dpkg/info/apt.list", "var/lib/dpkg/info/dpkg.md5sums"):
        assert not (debian / gone).exists(), gone
    assert (debian / "sbin").is_symlink(), "a link to a directory is a directory to dpkg's lists: never removed"
    assert not (debian / "usr/sbin/start-stop-daemon").exists() and (debian / "sbin/ldconfig").exists()
    # Shared folders, other packages' files, and files no package owns stay.
    for kept in ("usr/bin/ldd", "usr/lib/x86_64-linux-gnu/libc.so.6", "var/lib/dpkg/info/libc6:amd64.list",
                 "etc/apt/sources.list", "etc/dpkg/dpkg.cfg.d/docker"):
        assert (debian / kept).exists(), kept
    assert "Description: GNU C Library: Shared libraries" in (debian / "var/lib/dpkg/status").read_text()


def test_a_package_named_without_a_question_mark_must_be_installed(debian: Path) -> None:
    before = (debian / "var/lib/dpkg/status").read_text()
    with pytest.raises(SystemExit, match=r"error: apk-tools not installed under .*; nothing was removed for them"):
        pkgdb.remove(debian, ["apk-tools"])
    assert (debian / "var/lib/dpkg/status").read_text() == before
    assert pkgdb.remove(debian, ["apt", "libapk?"]) == ["apt"]


def test_prune_takes_out_a_package_that_lost_a_file_and_keeps_excluded_and_diverted_paths(debian: Path) -> None:
    assert pkgdb.prune(debian) == [], "docs dpkg was told not to install are not missing files"
    (debian / "usr/lib/x86_64-linux-gnu/libc.so.6").rename(debian / "usr/lib/x86_64-linux-gnu/libc.so.6.distrib")
    (debian / "var/lib/dpkg/diversions").write_text(
        "/usr/lib/x86_64-linux-gnu/libc.so.6\n/usr/lib/x86_64-linux-gnu/libc.so.6.distrib\nlibc6\n")
    assert pkgdb.prune(debian) == [], "a diverted file is where the diversion says"
    (debian / "usr/bin/apt").unlink()
    assert pkgdb.prune(debian) == ["apt"]
    assert packages(debian) == ["dpkg", "libc6"]
    assert pkgdb.prune(debian) == []


INSTALLED = """C:Q1abc=
P:musl
V:1.2.5-r10
A:x86_64
F:lib
R:ld-musl-x86_64.so.1
R:libc.musl-x86_64.so.1

C:Q1def=
P:apk-tools
V:3.0.3-r1
A:x86_64
F:etc
F:etc/apk
F:etc/apk/commit_hooks.d
F:sbin
R:apk
F:lib
F:lib/apk
F:lib/apk/exec

C:Q1ghi=
P:libapk
V:3.0.3-r1
A:x86_64
F:usr
F:usr/lib
R:libapk.so.3.0.0

C:Q1jkl=
P:alpine-keys
V:2.6-r0
A:x86_64
F:etc
F:etc/apk
F:etc/apk/keys
R:alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub
F:usr
F:usr/share
F:usr/share/apk
F:usr/share/apk/keys
R:alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub

"""


@pytest.fixture
def alpine(tmp_path: Path) -> Path:
    db = tmp_path / "lib" / "apk" / "db"
    db.mkdir(parents=True)
    (db / "installed").write_text(INSTALLED)
    folder = ""
    for line in INSTALLED.splitlines():
        if line.startswith("F:"):
            folder = line[2:]
            (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        elif line.startswith("R:"):
            (tmp_path / folder / line[2:]).write_text(line)
    (tmp_path / "etc" / "apk" / "world").write_text("alpine-baselayout\napk-tools\n")
    return tmp_path


def test_removing_apk_takes_apk_tools_libapk_and_the_keys_out_of_alpines_database(alpine: Path) -> None:
    assert pkgdb.remove(alpine, ["apk-tools", "libapk?", "alpine-keys"]) == ["apk-tools", "libapk", "alpine-keys"]
    installed = (alpine / "lib/apk/db/installed").read_text()
    assert [line for line in installed.splitlines() if line.startswith("P:")] == ["P:musl"]
    assert not (alpine / "sbin/apk").exists() and not (alpine / "usr/lib/libapk.so.3.0.0").exists()
    assert not (alpine / "usr/share/apk").exists(), "emptied folders of removed packages go too"
    assert (alpine / "lib/ld-musl-x86_64.so.1").exists() and (alpine / "etc/apk/world").exists()
    assert pkgdb.prune(alpine) == []


def test_prune_finds_an_apk_package_whose_file_is_gone(alpine: Path) -> None:
    (alpine / "sbin" / "apk").unlink()
    assert pkgdb.prune(alpine) == ["apk-tools"]
    assert "P:apk-tools" not in (alpine / "lib/apk/db/installed").read_text()


def test_a_root_without_a_package_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no package database"):
        pkgdb.prune(tmp_path)
