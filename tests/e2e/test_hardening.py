"""The service image, hardened and under load: read-only root, fixed UID, nothing to install or
compile with, graceful SIGTERM, a prompt HEALTHCHECK, and a bounded wrk run on loopback."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from support import RUN_ID, Published, free_port, run, wheelbase

pytestmark = pytest.mark.e2e
LOAD_SECONDS = int(os.environ.get("WHEELBASE_LOAD_SECONDS", "30"))
SLOW_ROUTE = '''

@app.get("/slow")
async def slow() -> str:
    """Answers after a second: an in-flight request for the shutdown test."""
    await asyncio.sleep(1)
    return "done"
'''


@pytest.fixture(scope="module")
def image(wheelhouse: Published, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A service from the template with one slow route added, built with `docker buildx bake image`."""
    out = tmp_path_factory.mktemp("hardening")
    wheelbase("new", "Hardened", "--output-dir", str(out), "--base", wheelhouse.ref)
    main = out / "hardened" / "app" / "main.py"
    main.write_text(main.read_text().replace("from fastapi import FastAPI", "import asyncio\n\nfrom fastapi import FastAPI")
                    + SLOW_ROUTE)
    run("docker", "buildx", "bake", "image", cwd=out / "hardened", env={"IMAGE": f"hardened-{RUN_ID}"})
    return f"hardened-{RUN_ID}:dev"


class Container:
    def __init__(self, image: str, *options: str) -> None:
        self.port, self.name = free_port(), f"hardened-{RUN_ID}-{free_port()}"
        self.started = time.monotonic()
        run("docker", "run", "-d", "--name", self.name, "--network", "host", "-e", f"PORT={self.port}", *options, image)

    def get(self, path: str, timeout: float = 5) -> tuple[int, str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as response:
            return response.status, response.read().decode()

    def wait(self, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                self.get("/healthz", timeout=1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def inspect(self, template: str) -> str:
        return run("docker", "inspect", "--format", template, self.name).stdout.strip()

    def memory_bytes(self) -> float:
        usage = run("docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", self.name).stdout.split("/")[0].strip()
        number, unit = re.fullmatch(r"([\d.]+)\s*([KMG]?i?B)", usage).groups()  # type: ignore[union-attr]
        return float(number) * {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]


@pytest.fixture
def containers() -> Iterator[list[Container]]:
    started: list[Container] = []
    yield started
    for container in started:
        run("docker", "rm", "-f", container.name, check=False)


def test_runs_read_only_as_a_fixed_uid_without_privileges(image: str, containers: list[Container]) -> None:
    assert run("docker", "image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip() == "10001:10001"
    container = Container(image, "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges")
    containers.append(container)
    container.wait()
    assert container.get("/") == (200, '"FastAPI Working"')
    assert run("docker", "exec", container.name, "id", "-u").stdout.strip() == "10001"
    write = run("docker", "exec", container.name, "sh", "-c", "touch /srv/x", check=False)
    assert write.returncode != 0


def test_nothing_to_install_or_compile_with(image: str) -> None:
    found = run("docker", "run", "--rm", "--entrypoint", "sh", image, "-c",
                "for tool in apt apt-get dpkg apk pip pip3 gcc cc make; do command -v $tool; done; "
                "python -c 'import pip' 2>/dev/null && echo python-pip; true").stdout.split()
    assert found == []


def test_sigterm_finishes_the_in_flight_request_and_exits_within_2_s(image: str, containers: list[Container]) -> None:
    container = Container(image)
    containers.append(container)
    container.wait()
    answers: list[tuple[int, str]] = []
    request = threading.Thread(target=lambda: answers.append(container.get("/slow")))
    request.start()
    time.sleep(0.3)  # the request is in flight
    started = time.monotonic()
    run("docker", "stop", "--time", "2", container.name)  # SIGTERM, then SIGKILL after 2 s
    stopped_in = time.monotonic() - started
    request.join(timeout=10)
    assert answers == [(200, '"done"')]
    assert container.inspect("{{.State.ExitCode}}") == "0", "killed, not stopped cleanly"
    assert stopped_in < 2.0


def test_healthcheck_reports_healthy_within_5_s(image: str, containers: list[Container]) -> None:
    container = Container(image)
    containers.append(container)
    while container.inspect("{{.State.Health.Status}}") != "healthy":
        assert time.monotonic() - container.started < 5.0, "not healthy within 5 s"
        time.sleep(0.1)


def test_holds_a_bounded_load_without_errors_or_memory_growth_and_restarts(image: str, containers: list[Container]) -> None:
    container = Container(image)
    containers.append(container)
    container.wait()
    subprocess.run(["wrk", "-t1", "-c16", "-d2s", f"http://127.0.0.1:{container.port}/"], capture_output=True, check=True)
    warm = container.memory_bytes()
    done = subprocess.run(["wrk", "-t2", "-c64", f"-d{LOAD_SECONDS}s", "--timeout", "5s", f"http://127.0.0.1:{container.port}/"],
                          capture_output=True, text=True, check=True, timeout=LOAD_SECONDS + 60)
    requests = int(re.search(r"(\d+) requests in", done.stdout).group(1))  # type: ignore[union-attr]
    assert requests > 1000, done.stdout
    assert "Socket errors" not in done.stdout and "Non-2xx" not in done.stdout, done.stdout
    after = container.memory_bytes()
    assert after < warm * 1.5 + 16 * 1024**2, f"memory grew from {warm / 1e6:.1f} MB to {after / 1e6:.1f} MB"
    run("docker", "restart", "--time", "2", container.name)
    container.wait()
    assert container.get("/") == (200, '"FastAPI Working"')
    assert container.inspect("{{.RestartCount}}") == "0" and container.inspect("{{.State.Running}}") == "true"


def test_healthcheck_ignores_a_proxy_set_for_the_app(image: str, containers: list[Container]) -> None:
    """HTTP_PROXY pointing at a port where nothing listens: the probe still goes straight to loopback."""
    dead = f"http://127.0.0.1:{free_port()}"
    container = Container(image, "-e", f"HTTP_PROXY={dead}", "-e", f"http_proxy={dead}", "-e", "NO_PROXY=")
    containers.append(container)
    while container.inspect("{{.State.Health.Status}}") != "healthy":
        assert time.monotonic() - container.started < 5.0, "not healthy within 5 s behind an HTTP_PROXY"
        time.sleep(0.1)


def send_huge_header(port: int, megabytes: int) -> tuple[bytes, float]:
    """Streams one header of many megabytes; returns the answer's first bytes and the seconds until it came."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: ")
        try:
            for _ in range(megabytes * 16):
                sock.sendall(b"a" * 65536)
        except OSError:
            pass  # the server answered and closed: what a bounded server does
        try:
            return sock.recv(64), time.monotonic() - started
        except OSError:
            return b"", time.monotonic() - started


def test_a_huge_request_header_is_refused_early_and_starves_nothing(image: str, containers: list[Container]) -> None:
    """httptools buffers a request head until it is whole; the image bounds it (app/http_limits.py): 431, at once."""
    container = Container(image)
    containers.append(container)
    container.wait()
    warm = container.memory_bytes()
    results: list[tuple[bytes, float]] = []
    senders = [threading.Thread(target=lambda: results.append(send_huge_header(container.port, 96))) for _ in range(4)]
    for sender in senders:
        sender.start()
    health_started = time.monotonic()
    assert container.get("/healthz", timeout=2) == (200, '{"status":"ok"}')
    health_seconds = time.monotonic() - health_started
    for sender in senders:
        sender.join(timeout=60)
    assert len(results) == 4
    for answer, seconds in results:
        assert answer.startswith(b"HTTP/1.1 431 "), answer
        assert seconds < 2.0, f"the 431 took {seconds:.1f} s"
    assert health_seconds < 1.0
    assert container.memory_bytes() < warm + 16 * 1024**2
    assert container.get("/", timeout=2) == (200, '"FastAPI Working"')
    small = {"X-Normal": "b" * 8000}
    request = urllib.request.Request(f"http://127.0.0.1:{container.port}/", headers=small)
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
