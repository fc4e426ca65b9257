"""What can be checked of the alpine flavor without Alpine's mirrors or Docker Hub: the bake
definition, Dockerfile lint, and that the lock resolves to musllinux wheels on both machines."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from support import REPO, run

pytestmark = pytest.mark.e2e
HADOLINT = shutil.which("hadolint") or str(REPO / ".venv" / "bin" / "hadolint")
# The bake variables unset, so the file's own defaults are what is checked.
CLEAN_ENV: dict[str, str | None] = dict.fromkeys(["FLAVOR", "PYTHON_IMAGE", "IMAGE", "PYTHON_VERSION", "TAG", "PLATFORMS"])


def bake_print(*targets: str, **env: str) -> dict:  # type: ignore[type-arg]
    done = run("docker", "buildx", "bake", "--print", *targets, cwd=REPO, env={**CLEAN_ENV, **env})
    return json.loads(done.stdout)


def test_default_base_is_the_alpine_wheelhouse(engine: None) -> None:
    target = bake_print("base")["target"]["base"]
    assert target["args"]["FLAVOR"] == "alpine"
    assert target["args"]["PYTHON_IMAGE"].startswith("python:3.13-alpine")
    assert target["target"] == "wheelhouse"
    assert target["tags"] == ["localhost:5000/wheelbase/wheelhouse:py3.13-alpine"]


def test_default_group_is_base(engine: None) -> None:
    assert bake_print()["group"]["default"]["targets"] == ["base"]


def test_a_release_tag_adds_the_immutable_tag(engine: None) -> None:
    target = bake_print("base", TAG="2026.11.0", IMAGE="ghcr.io/acme/wheelhouse")["target"]["base"]
    assert target["tags"] == ["ghcr.io/acme/wheelhouse:py3.13-alpine", "ghcr.io/acme/wheelhouse:2026.11.0-py3.13-alpine"]
    assert target["args"]["VERSION"] == "2026.11.0"


def test_debian_flavor_and_platforms(engine: None) -> None:
    target = bake_print("base", FLAVOR="debian", PLATFORMS="linux/amd64,linux/arm64")["target"]["base"]
    assert target["args"]["PYTHON_IMAGE"] == "python:3.13-slim-trixie"
    assert target["platforms"] == ["linux/amd64", "linux/arm64"]


def test_lock_exports_into_base_image(engine: None) -> None:
    target = bake_print("lock")["target"]["lock"]
    assert target["output"] == ["type=local,dest=base-image"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FLAVOR", "ubuntu", "FLAVOR=ubuntu is not supported; use one of: alpine, debian"),
        ("PYTHON_VERSION", "2.7", "PYTHON_VERSION=2.7 is not supported; use one of: 3.12, 3.13"),
    ],
)
def test_unsupported_values_fail_with_a_clear_message(engine: None, variable: str, value: str, message: str) -> None:
    done = run("docker", "buildx", "bake", "--print", "base", cwd=REPO, env={**CLEAN_ENV, variable: value}, check=False)
    assert done.returncode != 0
    assert message in done.stderr


def dockerfiles() -> list[Path]:
    return [REPO / "base-image" / "Dockerfile"]


@pytest.mark.parametrize("dockerfile", dockerfiles(), ids=lambda p: str(p.relative_to(REPO)))
def test_hadolint_is_clean(dockerfile: Path) -> None:
    done = subprocess.run([HADOLINT, "--no-color", str(dockerfile)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_lock_resolves_to_musllinux_wheels(machine: str, tmp_path: Path) -> None:
    """Every locked package has a hash-matching binary wheel for Alpine (musl) on this machine."""
    done = run(
        str(REPO / ".venv" / "bin" / "pip"), "download", "--quiet", "--no-deps", "--require-hashes",
        "--only-binary=:all:", "--platform", f"musllinux_1_2_{machine}", "--platform", f"musllinux_1_1_{machine}",
        "--python-version", "3.13", "--implementation", "cp", "--abi", "cp313",
        "--dest", str(tmp_path), "-r", str(REPO / "base-image" / "requirements.txt"),
        env={"PIP_FIND_LINKS": ""},
    )
    assert done.returncode == 0
    wheels = sorted(p.name for p in tmp_path.glob("*.whl"))
    compiled = [w for w in wheels if not w.endswith("-none-any.whl")]
    assert {w.split("-")[0] for w in compiled} >= {"uvloop", "httptools", "pydantic_core"}
    assert all("musllinux_1_" in w and w.endswith(f"_{machine}.whl") for w in compiled), compiled
