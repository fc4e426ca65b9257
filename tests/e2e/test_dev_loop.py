"""A service's inner loop on the real engine: `docker compose up --watch` on the image that ships,
an edit to app/main.py served without a rebuild, a lock change rebuilding the image, the tests run
through Compose, and `docker compose down` leaving nothing running. Traffic stays on loopback:
the test's override puts the container on the host network, on a free port."""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import RUN_ID, Published, free_port, run, wheelbase

pytestmark = pytest.mark.e2e
HOST_NETWORK = "services:\n  {name}:\n    network_mode: host\n    ports: !reset []\n"
EDITS = 5


def body(port: int, path: str = "/") -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
            return response.read().decode()
    except OSError:
        return None


def wait_until(check, seconds: float) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.fixture
def compose(wheelhouse: Published, tmp_path: Path) -> Iterator[tuple[Path, list[str], dict[str, str]]]:
    wheelbase("new", "Loop Service", "--output-dir", str(tmp_path), "--base", wheelhouse.ref)
    service = tmp_path / "loop-service"
    (tmp_path / "host.yaml").write_text(HOST_NETWORK.format(name="loop-service"))
    project = f"loop-{RUN_ID}"
    command = ["docker", "compose", "--project-name", project, "-f", str(service / "compose.yaml"), "-f", str(tmp_path / "host.yaml")]
    env = {**os.environ, "PORT": str(free_port())}
    yield service, command, env
    subprocess.run([*command, "down", "--remove-orphans", "--rmi", "local"], cwd=service, env=env, capture_output=True)


def test_compose_watch_serves_edits_and_rebuilds_on_lock_changes(compose: tuple[Path, list[str], dict[str, str]]) -> None:
    service, command, env = compose
    port = int(env["PORT"])
    run(*command, "config", "--quiet", cwd=service, env=env)
    run(*command, "up", "--detach", "--build", "--wait", cwd=service, env=env, timeout=600)
    log = service.parent / "watch.log"
    with log.open("w") as out:
        watch = subprocess.Popen([*command, "watch"], cwd=service, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "Watch enabled" in log.read_text(), 120)  # watch first brings the service up to date
        wait_until(lambda: body(port, "/healthz") is not None, 30)
        main = service / "app" / "main.py"
        original = main.read_text()
        served = []
        for edit in range(EDITS):
            greeting = f"Edit {edit} served"
            main.write_text(re.sub(r'return "[^"]*"', f'return "{greeting}"', main.read_text(), count=1))
            served.append(wait_until(lambda greeting=greeting: body(port) == f'"{greeting}"', 20))
        print(f"edit to served: median {statistics.median(served):.2f} s of {EDITS} ({', '.join(f'{s:.2f}' for s in served)})")
        assert statistics.median(served) <= 5.0

        def image_id() -> str:
            return run("docker", "image", "inspect", "--format", "{{.Id}}", "loop-service:compose", check=False).stdout.strip()

        image = image_id()
        with (service / "requirements.txt").open("a") as lock:
            lock.write("# a change to a lock file rebuilds the image\n")
        wait_until(lambda: image_id() not in ("", image), 180)
        wait_until(lambda: body(port, "/healthz") is not None, 60)
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(timeout=30)

    main.write_text(original)  # the service's own tests expect its greeting
    tests = run(*command, "run", "--rm", "--build", "--no-deps", "loop-service", "pytest", "-q", "-p", "no:cacheprovider",
                cwd=service, env=env, timeout=300)
    assert re.search(r"\d+ passed", tests.stdout)
    run(*command, "down", cwd=service, env=env)
    running = run("docker", "ps", "--quiet", "--filter", f"label=com.docker.compose.project={command[3]}").stdout
    assert running.strip() == ""
