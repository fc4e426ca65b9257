"""Fixtures for the end-to-end tests: the real engine, the real registry on 127.0.0.1:5000, one
debian release (wheelhouse and runtime) built with `docker buildx bake release --push`, one service
made from it with `wheelbase new`, and that service's deploy image, each made once per session and
shared by every test that only reads it; a test that changes the service gets a copy of its own.
When the engine or the registry is missing the tests fail; `.ci/provision` sets them up."""

from __future__ import annotations

import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import PYTHON_IMAGE, REGISTRY, RUN_ID, Published, publish_wheelhouse, run, wheelbase


@pytest.fixture(scope="session")
def engine() -> None:
    if shutil.which("docker") is None:
        pytest.fail("no docker CLI: run .ci/provision first")
    info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    if info.returncode:
        pytest.fail(f"the Docker engine does not answer ({info.stderr.strip()}); run .ci/provision first")
    if subprocess.run(["docker", "image", "inspect", PYTHON_IMAGE], capture_output=True).returncode:
        pytest.fail(f"the stand-in Python image {PYTHON_IMAGE} is missing; run .ci/provision first")


@pytest.fixture(scope="session", autouse=True)
def images_left_behind() -> Iterator[None]:
    """Removes the images this session tagged (their names carry its run id) when it ends."""
    yield
    listed = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True)
    ours = [name for name in listed.stdout.split() if RUN_ID in name]
    if ours:
        subprocess.run(["docker", "image", "rm", "--force", *ours], capture_output=True)


@pytest.fixture(scope="session")
def registry(engine: None) -> str:
    try:
        urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=5).close()
    except OSError as exc:
        pytest.fail(f"the registry at {REGISTRY} does not answer ({exc}); run .ci/provision first")
    return REGISTRY


@pytest.fixture(scope="session")
def wheelhouse(registry: str) -> Published:
    """The debian wheelhouse, built and pushed once per session under a repository of its own."""
    return publish_wheelhouse(f"{registry}/wheelbase-e2e-{RUN_ID}/wheelhouse", REVISION="e2e-1")


@pytest.fixture(scope="session")
def made_service(wheelhouse: Published, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service made with `wheelbase new`, pinned to the session's wheelhouse: read it, never change it."""
    out = tmp_path_factory.mktemp("made")
    wheelbase("new", "Orders API", "--output-dir", str(out), "--base", wheelhouse.ref)
    return out / "orders-api"


@pytest.fixture
def service(made_service: Path, tmp_path: Path) -> Path:
    """A copy of the session's service, for a test that changes it."""
    copy = tmp_path / made_service.name
    shutil.copytree(made_service, copy, symlinks=True)
    return copy


@pytest.fixture(scope="session")
def service_image(made_service: Path) -> str:
    """The session's service built with `docker buildx bake image` once: its deploy image's tag."""
    run("docker", "buildx", "bake", "image", cwd=made_service, env={"IMAGE": f"orders-api-{RUN_ID}"})
    return f"orders-api-{RUN_ID}:dev"


@pytest.fixture
def containers() -> Iterator[list[str]]:
    """Names of containers a test starts; removed afterwards whatever happens."""
    names: list[str] = []
    yield names
    for name in names:
        run("docker", "rm", "-f", name, check=False)
