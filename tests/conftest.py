"""Fixtures for the end-to-end tests: the real engine, the real registry on 127.0.0.1:5000, one
debian release (wheelhouse and runtime) built with `docker buildx bake release --push`, one service
made from it with `wheelbase new`, and that service's deploy image, each made once per session and
shared by every test that only reads it; a test that changes the service gets a copy of its own.
When the engine or the registry is missing the tests fail; `.ci/provision` sets them up.

The slow tier runs last. Its stand-ins (arm64 under QEMU, the musl CPython compile) take minutes
on a new machine, so `.ci/provision tests` starts in the background as the session begins, while
the engine tier's tests run, and the first slow test waits for it (seconds where it has run before).
Under pytest-xdist (`make test` runs the end-to-end tests on both cores) the first worker starts it
and every worker's first slow test waits for its exit status; each worker has its own run id, so its
own session fixtures, images and registry repositories."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import PYTHON_IMAGE, REGISTRY, REPO, RUN_ID, Published, publish_wheelhouse, run, wheelbase

SLOW_PROVISION = pytest.StashKey[tuple[Path, Path]]()
PROVISION_PROCESS = pytest.StashKey[subprocess.Popen[bytes]]()
# How long a slow test waits for a provision another worker started (a new machine takes ~12 min).
PROVISION_PATIENCE_S = 3600


def _provision_files(config: pytest.Config) -> tuple[Path, Path]:
    """The background provision's log and exit-status files: one pair per test run, which every
    pytest-xdist worker of that run names alike (xdist's run id), so all of them wait on one provision."""
    workerinput = getattr(config, "workerinput", None)
    run = workerinput["testrunuid"] if workerinput else f"{RUN_ID}-{os.getpid()}"
    stem = Path(tempfile.gettempdir()) / f"wheelbase-provision-tests-{run}"
    return stem.with_suffix(".log"), stem.with_suffix(".status")


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected: only the slow tests that will run count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow = [item for item in items if item.get_closest_marker("slow")]
    if not slow or config.option.collectonly:
        return
    # Every worker reorders alike (pytest-xdist checks that they collected the same list).
    items[:] = [item for item in items if not item.get_closest_marker("slow")] + slow
    log, status = _provision_files(config)
    config.stash[SLOW_PROVISION] = (log, status)
    if os.environ.get("PYTEST_XDIST_WORKER", "gw0") != "gw0":
        return  # the first worker (or the only process) starts it; the others wait on its status file
    with log.open("wb") as out:
        config.stash[PROVISION_PROCESS] = subprocess.Popen(
            ["bash", "-c", 'bash "$0" tests; echo $? > "$1.part" && mv "$1.part" "$1"', str(REPO / ".ci" / "provision"),
             str(status)], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and "PYTEST_XDIST_WORKER" not in os.environ:
        reporter.write_line(f"slow tier: .ci/provision tests runs in the background, log in {log}; its "
                            f"{len(slow)} tests run last")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if not item.get_closest_marker("slow") or SLOW_PROVISION not in item.config.stash:
        return
    log, status = item.config.stash[SLOW_PROVISION]
    process = item.config.stash.get(PROVISION_PROCESS, None)
    deadline = time.monotonic() + PROVISION_PATIENCE_S
    while not status.exists():
        if process is not None and process.poll() is not None and not status.exists():
            pytest.fail(f".ci/provision tests was stopped before it finished (exit {process.returncode}); see {log}",
                        pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f".ci/provision tests has not finished after {PROVISION_PATIENCE_S} s; see {log}", pytrace=False)
        time.sleep(1)
    code = int(status.read_text())
    if code:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        pytest.fail(f".ci/provision tests failed (exit {code}), so the slow tier's stand-ins are "
                    f"missing; the end of {log}:\n{tail}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A session stopped before its slow tier (-x, an interrupt) stops the provision it started; a
    pytest-xdist worker that simply ran out of tests lets it finish, for the others' slow tests."""
    process = session.config.stash.get(PROVISION_PROCESS, None)
    if process is None or process.poll() is not None:
        return
    if session.shouldfail or session.shouldstop or exitstatus == pytest.ExitCode.INTERRUPTED:
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
