"""Fixtures for the end-to-end tests: the real engine, the real registry on 127.0.0.1:5000, one
debian release (wheelhouse and runtime) built with `docker buildx bake release --push`, one service
made from it with `wheelbase new`, and that service's deploy image, each made once per session and
shared by every test that only reads it; a test that changes the service gets a copy of its own.
When the engine or the registry is missing the tests fail; `.ci/provision` sets them up.

The slow tier runs last. Its stand-ins (arm64 under QEMU, the musl CPython compile) take minutes
on a new machine, so `.ci/provision tests` starts in the background as the session begins, while
the engine tier's tests run, and the first slow test waits for it (seconds where it has run before)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import PYTHON_IMAGE, REGISTRY, REPO, RUN_ID, Published, publish_wheelhouse, run, wheelbase

SLOW_PROVISION = pytest.StashKey[tuple[subprocess.Popen[bytes], Path]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow = [item for item in items if item.get_closest_marker("slow")]
    # Under pytest-xdist every worker collects: provisioning there would run once per worker.
    if not slow or os.environ.get("PYTEST_XDIST_WORKER") or config.option.collectonly:
        return
    items[:] = [item for item in items if not item.get_closest_marker("slow")] + slow
    log = Path(tempfile.mkstemp(prefix="wheelbase-provision-tests-", suffix=".log")[1])
    with log.open("wb") as out:
        process = subprocess.Popen(["bash", str(REPO / ".ci" / "provision"), "tests"], stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    config.stash[SLOW_PROVISION] = (process, log)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"slow tier: .ci/provision tests runs in the background, log in {log}; its "
                            f"{len(slow)} tests run last")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if not item.get_closest_marker("slow") or SLOW_PROVISION not in item.config.stash:
        return
    process, log = item.config.stash[SLOW_PROVISION]
    if process.wait() != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        pytest.fail(f".ci/provision tests failed (exit {process.returncode}), so the slow tier's stand-ins are "
                    f"missing; the end of {log}:\n{tail}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A session that ends before its slow tier (-x, an interrupt) stops the provision it started."""
    if SLOW_PROVISION in session.config.stash:
        process, _ = session.config.stash[SLOW_PROVISION]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()


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
