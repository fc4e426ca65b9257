"""The distribution steps' names, checked without their package managers: apk cannot run here, so
each Alpine package and binary name is held against Alpine's package recipes (aports at the 3.24.0
release, d0f20bc945eabe7bac39a6ee168be84046f27875; 3.22 and 3.23 agree where noted), and each
Debian name against apt's own index on this machine. The scripts run for real with
TOOLCHAIN_DRY_RUN=1: they print the commands they would run instead of running them."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLCHAIN = REPO / "base-image" / "build" / "toolchain"

# aports main/binutils: cross binutils are subpackages `binutils-$arch` (function _cross_target,
# Alpine 3.23 and later; community/binutils-cross on 3.22, same names), configured with
# --target=$(arch_to_hostspec $arch), which abuild's functions.sh maps to <arch>-alpine-linux-musl;
# the tools land as /usr/bin/<triplet>-strip. The native package installs /usr/bin/strip.
ALPINE_STRIP = {
    ("x86_64", "x86_64"): ("binutils", "strip"),
    ("x86_64", "aarch64"): ("binutils-aarch64", "aarch64-alpine-linux-musl-strip"),
    ("aarch64", "x86_64"): ("binutils-x86_64", "x86_64-alpine-linux-musl-strip"),
    ("aarch64", "aarch64"): ("binutils", "strip"),
}
# main/gcc, main/musl (subpackage musl-dev), main/linux-headers, main/make. python3-dev (main/python3)
# depends on Alpine's own python3, a second interpreter beside the official image's /usr/local one.
ALPINE_COMPILE = ["gcc", "musl-dev", "linux-headers", "make"]
# main/apk-tools: packages apk-tools (--bindir=/sbin) and, from apk-tools 3, libapk
# (/usr/lib/libapk.so.*); main/alpine-keys: /etc/apk/keys, /usr/share/apk. They are removed as the
# database lists their files, entries included (pkgdb.py; tests/test_pkgdb.py); then what no
# package owns: /etc/apk (world, repositories), /var/cache/apk, /lib/apk/exec. The database,
# /lib/apk/db/installed, is what Trivy and Syft read: it stays, listing only what is there.
ALPINE_PACKAGE_MANAGER = ["apk-tools", "libapk?", "alpine-keys"]
ALPINE_UNOWNED = ["/etc/apk", "/var/cache/apk", "/lib/apk/exec"]
DEBIAN_STRIP = {
    ("x86_64", "x86_64"): ("binutils", "strip"),
    ("x86_64", "aarch64"): ("binutils-aarch64-linux-gnu", "aarch64-linux-gnu-strip"),
    ("aarch64", "x86_64"): ("binutils-x86-64-linux-gnu", "x86_64-linux-gnu-strip"),
}


def fake_bin(folder: Path, name: str, output: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{output}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def dry_run(tmp_path: Path, script: str, *args: str, machine: str = "x86_64", has_headers: bool = True,
            libc: str = "glibc") -> tuple[list[str], str]:
    """(the commands the script would run, what it prints); `uname -m`, Python.h and the
    interpreter's libc as given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake_bin(bin_dir, "uname", machine)
    python = bin_dir / "python"  # answers what the scripts ask: Python.h, and the libc when asked
    python.write_text(f'#!/bin/sh\ncase "$*" in *interpreter.py) echo "3.13 {libc} {machine}" ;; *) echo "{has_headers}" ;; esac\n')
    python.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TOOLCHAIN_DRY_RUN": "1"}
    done = subprocess.run(["sh", str(TOOLCHAIN / f"{script}.sh"), *args], env=env, capture_output=True, text=True, check=True)
    return done.stderr.splitlines(), done.stdout.strip()


@pytest.mark.parametrize(("host", "target"), sorted(ALPINE_STRIP))
def test_alpine_strip_names_match_aports(tmp_path: Path, host: str, target: str) -> None:
    package, tool = ALPINE_STRIP[(host, target)]
    commands, printed = dry_run(tmp_path, "alpine", "strip", target, machine=host)
    assert commands == [f"apk add --update-cache --virtual .wheelhouse-strip {package}"]
    assert printed == tool


def test_alpine_compile_installs_only_what_compiling_needs(tmp_path: Path) -> None:
    commands, _ = dry_run(tmp_path, "alpine", "compile")
    assert commands == ["apk add --update-cache --virtual .wheelhouse-compile " + " ".join(ALPINE_COMPILE)]


def test_alpine_compile_adds_python3_dev_only_without_python_h(tmp_path: Path) -> None:
    commands, _ = dry_run(tmp_path, "alpine", "compile", "libpq-dev", has_headers=False)
    assert commands == ["apk add --update-cache --virtual .wheelhouse-compile " + " ".join(ALPINE_COMPILE) + " python3-dev libpq-dev"]


def test_alpine_trim_removes_apk_with_its_database_entries_and_keeps_the_database(tmp_path: Path) -> None:
    commands, _ = dry_run(tmp_path, "alpine", "trim")
    pkgdb = TOOLCHAIN / "pkgdb.py"
    assert commands == [f"python {pkgdb} remove " + " ".join(ALPINE_PACKAGE_MANAGER), "rm -rf " + " ".join(ALPINE_UNOWNED),
                        f"python {pkgdb} prune"]
    assert not any(path.startswith("/lib/apk/db") for path in ALPINE_UNOWNED)


def test_debian_trim_removes_apt_and_dpkg_with_their_database_entries(tmp_path: Path) -> None:
    commands, _ = dry_run(tmp_path, "debian", "trim")
    pkgdb = TOOLCHAIN / "pkgdb.py"
    assert commands == [f"python {pkgdb} remove apt dpkg", "rm -rf /var/cache/apt /var/lib/apt", f"python {pkgdb} prune"]


def test_every_apk_step_refreshes_its_index_as_the_apt_steps_do(tmp_path: Path) -> None:
    """The cache mount keeps apk's index between builds; Alpine keeps only the newest revision of a
    package, so an index read from the cache can name an .apk that is gone."""
    steps = [dry_run(tmp_path, "alpine", "strip", target, machine=host)[0] for host, target in ALPINE_STRIP]
    steps += [dry_run(tmp_path, "alpine", "compile")[0], dry_run(tmp_path, "alpine", "compile", "libpq-dev", has_headers=False)[0]]
    adds = [command for commands in steps for command in commands if command.startswith("apk ")]
    assert adds and all(command.startswith("apk add --update-cache ") for command in adds)
    debian = dry_run(tmp_path, "debian", "strip", machine="x86_64")[0]
    assert debian[0].startswith("apt-get update"), "the rule the apk steps follow"


def test_alpine_uses_its_cache_mount(tmp_path: Path) -> None:
    """`apk add --no-cache` would leave the Dockerfile's /etc/apk/cache mount unused (apk-tools 3)."""
    assert "--no-cache" not in (TOOLCHAIN / "alpine.sh").read_text()
    assert "target=/etc/apk/cache" in (REPO / "base-image" / "Dockerfile").read_text()


@pytest.mark.parametrize(("host", "target"), sorted(DEBIAN_STRIP))
def test_debian_strip_names(tmp_path: Path, host: str, target: str) -> None:
    package, tool = DEBIAN_STRIP[(host, target)]
    commands, printed = dry_run(tmp_path, "debian", "strip", target, machine=host)
    assert commands[-1] == f"apt-get install -y -qq --no-install-recommends {package}"
    assert printed == tool


@pytest.mark.skipif(shutil.which("apt-cache") is None, reason="needs Debian's apt index")
def test_debian_packages_exist_in_apts_index() -> None:
    names = {package for package, _ in DEBIAN_STRIP.values()} | {"gcc", "libc6-dev", "make", "python3-dev", "musl-dev",
                                                                  "musl-tools"}
    for name in sorted(names):
        assert subprocess.run(["apt-cache", "show", name], capture_output=True).returncode == 0, name


def test_debian_compile_for_a_musl_python_uses_musl_gcc(tmp_path: Path) -> None:
    commands, _ = dry_run(tmp_path, "debian", "compile", libc="musl")
    assert commands[-1] == "apt-get install -y -qq --no-install-recommends gcc musl-dev musl-tools make"


def test_unknown_steps_are_refused(tmp_path: Path) -> None:
    for script in ("alpine", "debian"):
        done = subprocess.run(["sh", str(TOOLCHAIN / f"{script}.sh"), "nonsense"], capture_output=True, text=True)
        assert done.returncode == 2 and "usage" in done.stderr
