"""The bake file as the menu of builds, read by bake itself (`docker buildx bake --print`: no engine
is asked, nothing is built): its defaults (the alpine flavor, the newest supported Python), tags and
labels, and its refusals; and Dockerfile lint. The builds these describe are in tests/e2e."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from support import MUSL_PYTHON_IMAGE, REPO, bake_print, run, supported_versions

HADOLINT = shutil.which("hadolint") or str(REPO / ".venv" / "bin" / "hadolint")




def test_default_base_is_the_newest_python_on_the_maintained_alpine() -> None:
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


def test_supported_versions_are_3_12_to_3_15() -> None:
    assert supported_versions() == ["3.12", "3.13", "3.14", "3.15"]


def test_default_group_is_base() -> None:
    assert bake_print()["group"]["default"]["targets"] == ["base"]


def test_a_release_tag_adds_the_immutable_tag_and_owners_are_lower_cased() -> None:
    targets = bake_print("release", TAG="2026.11.0", IMAGE="ghcr.io/ACME/wheelhouse", PYTHON_VERSION="3.14")["target"]
    assert targets["base"]["tags"] == ["ghcr.io/acme/wheelhouse:py3.14-alpine", "ghcr.io/acme/wheelhouse:2026.11.0-py3.14-alpine"]
    assert targets["runtime"]["tags"] == ["ghcr.io/acme/wheelhouse:py3.14-alpine-runtime",
                                          "ghcr.io/acme/wheelhouse:2026.11.0-py3.14-alpine-runtime"]


def test_labels_depend_on_inputs_only() -> None:
    """The release name is a tag, never a label: a weekly publish that changes nothing keeps its digests."""
    one = bake_print("release", TAG="2026.11.0", REVISION="abc", SOURCE_DATE_EPOCH="1700000000")["target"]
    two = bake_print("release", TAG="2026.12.7", REVISION="abc", SOURCE_DATE_EPOCH="1700000000")["target"]
    for name in ("base", "runtime"):
        assert one[name]["labels"] == two[name]["labels"] and one[name]["args"] == two[name]["args"]
        assert one[name]["labels"]["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"


def test_debian_flavor_and_platforms() -> None:
    target = bake_print("base", FLAVOR="debian", PYTHON_VERSION="3.14", PLATFORMS="linux/amd64,linux/arm64")["target"]["base"]
    assert target["args"]["PYTHON_IMAGE"] == "python:3.14-slim-trixie"
    assert (target["args"]["DISTRIBUTION"], target["args"]["LIBC"]) == ("debian", "glibc")
    assert target["platforms"] == ["linux/amd64", "linux/arm64"]


def test_the_musl_stand_in_flavor_needs_its_image_named() -> None:
    target = bake_print("base", FLAVOR="debian-musl", PYTHON_VERSION="3.13",
                        PYTHON_IMAGE=MUSL_PYTHON_IMAGE)["target"]["base"]
    assert (target["args"]["DISTRIBUTION"], target["args"]["LIBC"]) == ("debian", "musl")
    done = run("docker", "buildx", "bake", "--print", "base", cwd=REPO, env={"FLAVOR": "debian-musl"}, check=False)
    assert done.returncode != 0
    assert "FLAVOR=debian-musl has no official Python image; set PYTHON_IMAGE" in done.stderr


def test_lock_exports_into_base_image() -> None:
    target = bake_print("lock")["target"]["lock"]
    assert target["output"] == ["type=local,dest=base-image"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FLAVOR", "ubuntu", "FLAVOR=ubuntu is not supported; use one of: alpine, debian, debian-musl"),
        ("PYTHON_VERSION", "2.7", "PYTHON_VERSION=2.7 is not supported; use one of: 3.12, 3.13, 3.14, 3.15"),
    ],
)
def test_unsupported_values_fail_with_a_clear_message(variable: str, value: str, message: str) -> None:
    done = run("docker", "buildx", "bake", "--print", "base", cwd=REPO, env={variable: value}, check=False)
    assert done.returncode != 0
    assert message in done.stderr


def dockerfiles() -> list[Path]:
    return [REPO / "base-image" / "Dockerfile", REPO / ".ci" / "standins" / "python.Dockerfile"]


@pytest.mark.parametrize("dockerfile", dockerfiles(), ids=lambda p: str(p.relative_to(REPO)))
def test_hadolint_is_clean(dockerfile: Path) -> None:
    done = subprocess.run([HADOLINT, "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
