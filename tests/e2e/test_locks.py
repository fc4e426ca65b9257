"""Locks are reproducible and hash-complete: two real resolutions of the same inputs give the same
bytes, and every pin carries the hash of every file pip may install for it on the platforms the
wheelhouse serves (read from PyPI's own index, not from pip-tools)."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name, parse_wheel_filename

from support import WHEELBASE, Published, run

pytestmark = pytest.mark.e2e
# Extras with C extensions and pure-Python ones, and dependencies shared with the wheelhouse.
EXTRAS = "httpx\npython-multipart\norjson\nsqlalchemy\n"
LOCKS = ("requirements.txt", "requirements-test.txt")
MACHINES = ("x86_64", "aarch64")  # the machines a release is published for


def resolved(service: Path) -> dict[str, bytes]:
    """`wheelbase lock --upgrade`: every pin resolved anew; its progress lines prove the step ran."""
    done = run(WHEELBASE, "lock", "--upgrade", str(service))
    assert re.search(r"^lock: requirements\.txt: \d+ pins in \d+ s", done.stdout, re.MULTILINE), done.stdout
    return {name: (service / name).read_bytes() for name in LOCKS}


def test_two_upgrades_of_the_same_inputs_are_byte_identical(service: Path, tmp_path: Path) -> None:
    (service / "requirements.in").write_text(EXTRAS)
    first = resolved(service)
    again = tmp_path / "again"
    shutil.copytree(service, again)
    for name in LOCKS:
        (again / name).write_text("")  # nothing to start from
    assert resolved(again) == first
    assert resolved(service) == first  # and once more, where a layer-cache hit would have been possible


def pins(lock: str) -> dict[str, tuple[str, set[str]]]:
    found = {}
    for name, version, hashes in re.findall(r"^([A-Za-z0-9][\w.-]*)==(\S+)((?: \\\n\s+--hash=sha256:[0-9a-f]{64})+)",
                                            lock, re.MULTILINE):
        found[canonicalize_name(name)] = (version, set(re.findall(r"sha256:([0-9a-f]{64})", hashes)))
    return found


def installable(filename: str, series: str, libc: str) -> bool:
    """Whether pip could pick this wheel for the wheelhouse's Python on one of its machines."""
    cp = "cp" + series.replace(".", "")
    policy = "musllinux" if libc == "musl" else "manylinux"
    for tag in parse_wheel_filename(filename)[3]:
        python = tag.interpreter in (cp, "py3") or (tag.abi == "abi3" and tag.interpreter.startswith("cp3")
                                                    and int(tag.interpreter[2:]) <= int(cp[2:]))
        platform = tag.platform == "any" or (tag.platform.startswith(policy) and tag.platform.endswith(MACHINES))
        if python and platform and tag.abi in (cp, "abi3", "none"):
            return True
    return False


def index_files(name: str, version: str) -> dict[str, str]:
    """File name -> sha256 of every file PyPI's JSON simple API lists for one version."""
    request = urllib.request.Request(f"https://pypi.org/simple/{name}/",
                                     headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        files = json.load(answer)["files"]
    wanted = {}
    for entry in files:
        filename = entry["filename"]
        if filename.endswith(".whl"):
            if str(parse_wheel_filename(filename)[1]) != version:
                continue
        elif not re.search(rf"-{re.escape(version)}\.(tar\.gz|zip)$", filename):
            continue
        wanted[filename] = entry["hashes"]["sha256"]
    return wanted


def test_every_pin_hashes_every_file_pip_may_install_on_the_wheelhouses_platforms(
        service: Path, wheelhouse: Published) -> None:
    (service / "requirements.in").write_text(EXTRAS)
    run(WHEELBASE, "lock", str(service))
    series, libc = wheelhouse.env["PYTHON_VERSION"], "glibc"
    locked = pins((service / "requirements.txt").read_text())
    assert {"httpx", "orjson", "sqlalchemy", "python-multipart"} <= set(locked)
    missing = []
    for name, (version, hashes) in locked.items():
        files = index_files(name, version)
        needed = {f: h for f, h in files.items() if f.endswith((".tar.gz", ".zip")) or installable(f, series, libc)}
        assert needed, f"{name}=={version}: nothing on PyPI that this platform could install"
        missing += [f"{name}: {f}" for f, h in needed.items() if h not in hashes]
    assert missing == [], "files pip may install whose hash the lock lacks:\n" + "\n".join(missing)
