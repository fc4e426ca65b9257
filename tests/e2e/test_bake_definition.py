"""The bake file's builds: the check that stops a build whose Python image is not what FLAVOR and
PYTHON_VERSION say, and that the lock resolves to wheels for every supported Python on both
machines and both libcs (downloads from PyPI). What bake --print alone shows is in
tests/test_bake_menu.py."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from support import PYTHON_IMAGE, REPO, RUN_ID, run, supported_versions

pytestmark = pytest.mark.e2e
HADOLINT = shutil.which("hadolint") or str(REPO / ".venv" / "bin" / "hadolint")




@pytest.mark.parametrize(("env", "sentence"), [
    ({"FLAVOR": "alpine", "PYTHON_VERSION": "3.13"},
     "error: FLAVOR=alpine builds on alpine with musl, but PYTHON_IMAGE={image} is debian with glibc; "
     "set PYTHON_IMAGE to a alpine Python image, or FLAVOR to the image's"),
    ({"FLAVOR": "debian", "PYTHON_VERSION": "3.12"},
     "error: PYTHON_VERSION=3.12 but PYTHON_IMAGE={image} has Python 3.13; set PYTHON_IMAGE to a Python 3.12 image, "
     "or PYTHON_VERSION=3.13"),
    ({"FLAVOR": "debian-musl", "PYTHON_VERSION": "3.13"},
     "error: FLAVOR=debian-musl builds on debian with musl, but PYTHON_IMAGE={image} is debian with glibc; "
     "set PYTHON_IMAGE to a debian-musl Python image, or FLAVOR to the image's"),
])
def test_an_image_that_is_not_what_the_build_was_told_stops_it_before_any_download(
        registry: str, env: dict[str, str], sentence: str) -> None:
    image = f"{registry}/wheelbase-e2e-{RUN_ID}/mismatch-{env['FLAVOR']}-{env['PYTHON_VERSION']}"
    done = run("docker", "buildx", "bake", "--progress", "plain", "base", "--push", cwd=REPO, check=False,
               env={**env, "IMAGE": image, "PYTHON_IMAGE": PYTHON_IMAGE})
    assert done.returncode != 0
    errors = [line.split(" ", 2)[2] for line in done.stderr.splitlines() if re.match(r"^#\d+ [\d.]+ error: ", line)]
    assert errors == [sentence.format(image=PYTHON_IMAGE)]
    assert "Traceback" not in done.stderr and "pip download" not in done.stderr
    tags = run("docker", "buildx", "imagetools", "inspect", f"{image}:py{env['PYTHON_VERSION']}-{env['FLAVOR']}", check=False)
    assert tags.returncode != 0, "something was pushed"


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
@pytest.mark.parametrize("libc", ["musllinux", "manylinux"])
def test_the_lock_resolves_to_wheels_for_every_supported_python(machine: str, libc: str, tmp_path: Path) -> None:
    """Every locked package has a hash-matching binary wheel for each supported Python, on both
    machines and both libcs: no flavor ever compiles the shared stack."""
    platforms = ([f"musllinux_1_{minor}_{machine}" for minor in (2, 1)] if libc == "musllinux"
                 else [f"manylinux_2_{minor}_{machine}" for minor in (28, 17)] + [f"manylinux2014_{machine}"])
    for version in supported_versions():
        dest = tmp_path / version
        run(str(REPO / ".venv" / "bin" / "pip"), "download", "--quiet", "--no-deps", "--require-hashes",
            "--only-binary=:all:", *(arg for p in platforms for arg in ("--platform", p)),
            "--python-version", version, "--implementation", "cp", "--abi", "cp" + version.replace(".", ""),
            "--abi", "abi3", "--abi", "none", "--dest", str(dest), "-r", str(REPO / "base-image" / "requirements.txt"),
            env={"PIP_FIND_LINKS": ""})
        compiled = [w.name for w in dest.glob("*.whl") if not w.name.endswith("-none-any.whl")]
        assert {w.split("-")[0] for w in compiled} >= {"uvloop", "httptools", "pydantic_core"}, version
        assert all(f"cp{version.replace('.', '')}-" in w and libc in w and w.endswith(f"_{machine}.whl") for w in compiled), compiled
