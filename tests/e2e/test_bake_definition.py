"""The bake file as the menu of builds: its defaults (the alpine flavor, the newest supported Python),
its refusals, the check that stops a build whose Python image is not what FLAVOR and
PYTHON_VERSION say, Dockerfile lint, and that the lock resolves to wheels for every supported
Python on both machines and both libcs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from support import MUSL_PYTHON_IMAGE, PYTHON_IMAGE, REPO, RUN_ID, run

pytestmark = pytest.mark.e2e
HADOLINT = shutil.which("hadolint") or str(REPO / ".venv" / "bin" / "hadolint")


# run() leaves out the calling shell's build variables: the file's own defaults are what is checked.
def bake_print(*targets: str, **env: str) -> dict:  # type: ignore[type-arg]
    done = run("docker", "buildx", "bake", "--print", *targets, cwd=REPO, env=env)
    return json.loads(done.stdout)


CANDIDATE_VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "3.16"]


def supported_versions() -> list[str]:
    """The Python versions the bake file accepts: it is their one home."""
    accepted = [v for v in CANDIDATE_VERSIONS
                if run("docker", "buildx", "bake", "--print", "base", cwd=REPO, env={"PYTHON_VERSION": v},
                       check=False).returncode == 0]
    return accepted


def test_default_base_is_the_newest_python_on_the_maintained_alpine(engine: None) -> None:
    target = bake_print("base")["target"]["base"]
    assert target["args"]["FLAVOR"] == "alpine"
    assert (target["args"]["DISTRIBUTION"], target["args"]["LIBC"]) == ("alpine", "musl")
    newest = supported_versions()[-1]
    assert target["args"]["PYTHON_VERSION"] == newest
    # The floating tag the official images move to each new Alpine release (python:3.X-alpine is
    # the newest alpine3.NN variant); a release pins it by digest (publish workflow).
    assert target["args"]["PYTHON_IMAGE"] == f"python:{newest}-alpine"
    assert target["labels"]["dev.wheelbase.python.image"] == f"python:{newest}-alpine"
    assert target["target"] == "wheelhouse"
    assert target["tags"] == [f"localhost:5000/wheelbase/wheelhouse:py{newest}-alpine"]


def test_supported_versions_are_3_12_to_3_15(engine: None) -> None:
    assert supported_versions() == ["3.12", "3.13", "3.14", "3.15"]


def test_default_group_is_base(engine: None) -> None:
    assert bake_print()["group"]["default"]["targets"] == ["base"]


def test_a_release_tag_adds_the_immutable_tag_and_owners_are_lower_cased(engine: None) -> None:
    targets = bake_print("release", TAG="2026.11.0", IMAGE="ghcr.io/ACME/wheelhouse", PYTHON_VERSION="3.14")["target"]
    assert targets["base"]["tags"] == ["ghcr.io/acme/wheelhouse:py3.14-alpine", "ghcr.io/acme/wheelhouse:2026.11.0-py3.14-alpine"]
    assert targets["runtime"]["tags"] == ["ghcr.io/acme/wheelhouse:py3.14-alpine-runtime",
                                          "ghcr.io/acme/wheelhouse:2026.11.0-py3.14-alpine-runtime"]


def test_labels_depend_on_inputs_only(engine: None) -> None:
    """The release name is a tag, never a label: a weekly publish that changes nothing keeps its digests."""
    one = bake_print("release", TAG="2026.11.0", REVISION="abc", SOURCE_DATE_EPOCH="1700000000")["target"]
    two = bake_print("release", TAG="2026.12.7", REVISION="abc", SOURCE_DATE_EPOCH="1700000000")["target"]
    for name in ("base", "runtime"):
        assert one[name]["labels"] == two[name]["labels"] and one[name]["args"] == two[name]["args"]
        assert one[name]["labels"]["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"


def test_debian_flavor_and_platforms(engine: None) -> None:
    target = bake_print("base", FLAVOR="debian", PYTHON_VERSION="3.14", PLATFORMS="linux/amd64,linux/arm64")["target"]["base"]
    assert target["args"]["PYTHON_IMAGE"] == "python:3.14-slim-trixie"
    assert (target["args"]["DISTRIBUTION"], target["args"]["LIBC"]) == ("debian", "glibc")
    assert target["platforms"] == ["linux/amd64", "linux/arm64"]


def test_the_musl_stand_in_flavor_needs_its_image_named(engine: None) -> None:
    target = bake_print("base", FLAVOR="debian-musl", PYTHON_VERSION="3.13",
                        PYTHON_IMAGE=MUSL_PYTHON_IMAGE)["target"]["base"]
    assert (target["args"]["DISTRIBUTION"], target["args"]["LIBC"]) == ("debian", "musl")
    done = run("docker", "buildx", "bake", "--print", "base", cwd=REPO, env={"FLAVOR": "debian-musl"}, check=False)
    assert done.returncode != 0
    assert "FLAVOR=debian-musl has no official Python image; set PYTHON_IMAGE" in done.stderr


def test_lock_exports_into_base_image(engine: None) -> None:
    target = bake_print("lock")["target"]["lock"]
    assert target["output"] == ["type=local,dest=base-image"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FLAVOR", "ubuntu", "FLAVOR=ubuntu is not supported; use one of: alpine, debian, debian-musl"),
        ("PYTHON_VERSION", "2.7", "PYTHON_VERSION=2.7 is not supported; use one of: 3.12, 3.13, 3.14, 3.15"),
    ],
)
def test_unsupported_values_fail_with_a_clear_message(engine: None, variable: str, value: str, message: str) -> None:
    done = run("docker", "buildx", "bake", "--print", "base", cwd=REPO, env={variable: value}, check=False)
    assert done.returncode != 0
    assert message in done.stderr


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


def dockerfiles() -> list[Path]:
    return [REPO / "base-image" / "Dockerfile", REPO / ".ci" / "standins" / "python.Dockerfile"]


@pytest.mark.parametrize("dockerfile", dockerfiles(), ids=lambda p: str(p.relative_to(REPO)))
def test_hadolint_is_clean(dockerfile: Path) -> None:
    done = subprocess.run([HADOLINT, "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


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
