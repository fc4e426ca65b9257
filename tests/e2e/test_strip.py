"""One strip result per target machine, whichever machine builds.

The fetch stage strips the target's wheels on the builder's machine: a two-platform build on an
amd64 machine strips arm64 wheels with cross binutils, while the publish workflow's arm64 runner
strips them with native binutils. The wheels' bytes, and so the wheelhouse's hashes, must not
depend on which. Shown here on Debian, where both can run (arm64 under QEMU): the tool each machine
gets from the toolchain's own rule (`debian.sh strip aarch64`), on the locked uvloop's aarch64
extension module, gives the same bytes.

On Alpine the same holds by construction: the cross binutils are subpackages of main/binutils
(`binutils-<arch>`, its _cross_target; Alpine 3.23 and later), built from the one APKBUILD, so the
native and cross tools of one Alpine release are the same binutils version.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import pytest

from support import REPO, STANDINS, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOOLCHAIN = REPO / "base-image" / "build" / "toolchain"
STRIP = """set -e
tool=$(sh /toolchain/debian.sh strip aarch64 2>/dev/null)
"$tool" --strip-unneeded -o "/work/$1.so" /work/original.so
dpkg-query -W -f '${Version}' "$(dpkg-query -S "$(command -v "$tool")" | cut -d: -f1)"
"""


def test_arm64_wheels_strip_to_the_same_bytes_natively_and_across_machines(tmp_path: Path) -> None:
    locked = re.search(r"^uvloop==(\S+)", (REPO / "base-image" / "requirements.txt").read_text(), re.MULTILINE)
    assert locked
    run("python3", "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version", "3.13",
        "--platform", "manylinux_2_17_aarch64", "--dest", str(tmp_path), f"uvloop=={locked.group(1)}")
    (wheel,) = tmp_path.glob("uvloop-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (module,) = [n for n in archive.namelist() if n.endswith(".so") and "loop" in n]
        (tmp_path / "original.so").write_bytes(archive.read(module))
    (tmp_path / "strip.sh").write_text(STRIP)
    mounts = ["-v", f"{tmp_path}:/work", "-v", f"{TOOLCHAIN}:/toolchain:ro"]
    cross = run("docker", "run", "--rm", "--platform", "linux/amd64", *mounts, STANDINS["STANDIN_DEBIAN_IMAGE"],
                "sh", "/work/strip.sh", "cross")
    native = run("docker", "run", "--rm", "--platform", "linux/arm64", *mounts, STANDINS["STANDIN_ARM64_PYTHON_IMAGE"],
                 "sh", "/work/strip.sh", "native")
    assert cross.stdout.strip() == native.stdout.strip(), "one binutils release on both machines"
    original, stripped = (tmp_path / "original.so").stat().st_size, (tmp_path / "native.so").stat().st_size
    assert stripped < original / 2, "the module was really stripped"
    digests = {name: hashlib.sha256((tmp_path / f"{name}.so").read_bytes()).hexdigest() for name in ("cross", "native")}
    assert digests["cross"] == digests["native"]
