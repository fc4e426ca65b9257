"""The platform's code travels in the images a service pins. A pin bump moves a service's build
steps with its wheels; a Dockerfile of another interface stops at its first step, naming both; an
existing FastAPI package dropped into app/ is served by the runtime's own serving package; and a
service made before any of this still builds, and is told how to move (and the move works)."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from support import REPO, RUN_ID, Published, free_port, publish_wheelhouse, run, tree_digest, wheelbase
from wheelbase.interface import LAST_TEMPLATE_WITH_COPIES

pytestmark = pytest.mark.e2e
CRUFT = str(REPO / ".venv" / "bin" / "cruft")
GIT_ID = ["-c", "user.name=wheelbase tests", "-c", "user.email=tests@wheelbase.invalid"]
MATCHED = "this image matches the wheelhouse"


def bake(service: Path, *targets: str, check: bool = True, **env: str) -> subprocess.CompletedProcess[str]:
    return run("docker", "buildx", "bake", "--progress", "plain", *targets, cwd=service, env=env, check=check)


def serve(image: str, containers: list[str], *options: str) -> int:
    """Starts the image on a free loopback port and waits until Docker reports it healthy."""
    port, name = free_port(), f"platform-{RUN_ID}-{free_port()}"
    containers.append(name)
    run("docker", "run", "-d", "--name", name, "--network", "host", "-e", f"PORT={port}", *options, image)
    deadline = time.monotonic() + 30
    while (status := run("docker", "inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()) != "healthy":
        assert status != "unhealthy" and time.monotonic() < deadline, f"{image} is {status}: {run('docker', 'logs', name).stderr}"
        time.sleep(0.2)
    return port


def status_line(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with contextlib.suppress(OSError):  # answered and closed before the whole head was sent
            sock.sendall(head)
        return sock.recv(64).split(b"\r\n")[0]


def checkout_with_guard_message(tmp_path: Path, words: str) -> Path:
    """The base image's build files with the guard's success line changed: a release whose code differs
    visibly. Callers put the run's id in the words: BuildKit keys a step on the content of the /wheels it
    mounts, so a release whose files match another's would replay that one's cached guard step, silently."""
    checkout = tmp_path / words.replace(" ", "-")
    shutil.copytree(REPO / "base-image", checkout / "base-image", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "docker-bake.hcl", checkout)
    guard = checkout / "base-image" / "build" / "guard.py"
    text = guard.read_text()
    assert f'print(f"{MATCHED}: ' in text
    guard.write_text(text.replace(f'print(f"{MATCHED}: ', f'print(f"{MATCHED} ({words}): '))
    return checkout


def guard_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if MATCHED in line and "RUN" not in line]


def test_a_pin_bump_moves_a_services_build_steps_with_its_wheels(registry: str, tmp_path: Path) -> None:
    repository = f"{registry}/wheelbase-e2e-{RUN_ID}/releases"
    one, two = f"release one {RUN_ID}", f"release two {RUN_ID}"
    first = publish_wheelhouse(repository, checkout_with_guard_message(tmp_path, one), REVISION="release-1")
    wheelbase("new", "Billing", "--output-dir", str(tmp_path), "--base", first.ref)
    service = tmp_path / "billing"
    (line,) = guard_lines(bake(service, "image", IMAGE=f"billing-{RUN_ID}").stderr)
    assert f"{MATCHED} ({one}):" in line

    second = publish_wheelhouse(repository, checkout_with_guard_message(tmp_path, two), REVISION="release-2")
    assert second.digest != first.digest
    before = tree_digest(service)
    wheelbase("pin", str(service))
    after = tree_digest(service)
    assert [name for name in after if before.get(name) != after[name]] == ["Dockerfile"], "the pin is the only edit"
    (line,) = guard_lines(bake(service, "image", IMAGE=f"billing-{RUN_ID}").stderr)
    assert f"{MATCHED} ({two}):" in line, "the service ran the first release's code after the pin"


def test_a_dockerfile_of_another_interface_stops_the_first_step_naming_both(service: Path) -> None:
    dockerfile = service / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("ARG WHEELBASE_INTERFACE=1 ", "ARG WHEELBASE_INTERFACE=2 "))
    done = bake(service, "image", check=False)
    assert done.returncode != 0
    error = next(line for line in done.stderr.splitlines() if "error: this Dockerfile speaks" in line)
    assert ("error: this Dockerfile speaks wheelbase interface 2 (ARG WHEELBASE_INTERFACE), but the pinned wheelhouse "
            "speaks interface 1") in error and "run `cruft update`" in error
    steps = re.findall(r"^#\d+ \[(\S+) \d+/\d+\] RUN", done.stderr, re.MULTILINE)
    assert steps == ["runtime"], f"the first step is the one that fails, and nothing runs after it: {steps}"

    refused = wheelbase("pin", "--check", str(service), check=False)
    assert refused.returncode == 7
    assert "speaks wheelbase interface 2 (ARG WHEELBASE_INTERFACE), but" in refused.stderr and "speaks interface 1" in refused.stderr


def fastapis_bigger_application(tmp_path: Path) -> Path:
    """FastAPI's own example of an application package (docs_src/bigger_applications/app: app.main:app,
    routers, a dependency that wants ?token=jessica on every path), from the sdist of the FastAPI the
    wheelhouse pins, downloaded from PyPI: a real public app a team might already have."""
    version = re.search(r"^fastapi==(\S+)", (REPO / "base-image" / "requirements.txt").read_text(), re.MULTILINE)
    assert version
    run("python3", "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "--dest", str(tmp_path),
        f"fastapi=={version.group(1)}")
    (sdist,) = tmp_path.glob("fastapi-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    return next(tmp_path.glob("fastapi-*/docs_src/bigger_applications/app"))


def test_an_existing_fastapi_package_as_app_builds_serves_and_is_healthy(service: Path, tmp_path: Path,
                                                                         containers: list[str]) -> None:
    shutil.rmtree(service / "app")
    shutil.copytree(fastapis_bigger_application(tmp_path / "pypi"), service / "app")
    assert {"http_limits.py", "healthcheck.py"}.isdisjoint(p.name for p in (service / "app").rglob("*"))
    bake(service, "image", IMAGE=f"bigger-{RUN_ID}")
    port = serve(f"bigger-{RUN_ID}:dev", containers, "-e", "HEALTH_PATH=/users/?token=jessica")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /users/?token=jessica HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 OK") and json.loads(answer.split(b"\r\n\r\n", 1)[1]) == [
        {"username": "Rick"}, {"username": "Morty"}]
    past_the_bound = b"GET /users/?token=jessica HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    assert status_line(port, past_the_bound) == b"HTTP/1.1 431 Request Header Fields Too Large"


def test_a_service_made_before_the_change_still_builds_and_moves_with_cruft_update(
        wheelhouse: Published, tmp_path: Path, containers: list[str]) -> None:
    runtime = wheelhouse.runtime
    python_image = json.loads(run("docker", "buildx", "imagetools", "inspect", wheelhouse.pinned, "--format",
                                  "{{json .Image.Config.Labels}}").stdout)["dev.wheelbase.python.image"]
    context = {"service_name": "Legacy", "base_image": wheelhouse.pinned, "runtime_image": runtime, "python_image": python_image}
    run(CRUFT, "create", f"file://{REPO}", "--checkout", LAST_TEMPLATE_WITH_COPIES, "--directory", "consumer-template",
        "--no-input", "--output-dir", str(tmp_path), "--extra-context", json.dumps(context))
    service = tmp_path / "legacy"
    assert (service / "docker" / "guard.py").is_file() and (service / "app" / "http_limits.py").is_file()
    for args in (["init", "--quiet"], ["add", "-A"], ["commit", "--quiet", "-m", "made before the platform shipped its code"]):
        run("git", *GIT_ID, *args, cwd=service)

    told = wheelbase("pin", "--check", str(service))
    assert told.stdout.strip() == "all pins are current"
    assert told.stderr.count("\n") == 1 and "runs its own copies of the platform's build scripts" in told.stderr
    assert "run `cruft update`" in told.stderr
    bake(service, "image", IMAGE=f"legacy-{RUN_ID}")
    port = serve(f"legacy-{RUN_ID}:dev", containers)
    assert status_line(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == b"HTTP/1.1 200 OK"

    subprocess.run([CRUFT, "update", "--skip-apply-ask", "--allow-untracked-files"], cwd=service, check=True,
                   capture_output=True, text=True, input="y\n")
    assert not (service / "docker").exists() and sorted(p.name for p in (service / "app").iterdir()) == ["__init__.py", "main.py"]
    assert wheelbase("pin", "--check", str(service)).stderr == "", "moved: nothing left to tell"
    bake(service, "image", IMAGE=f"legacy-moved-{RUN_ID}")
    port = serve(f"legacy-moved-{RUN_ID}:dev", containers)
    assert status_line(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == b"HTTP/1.1 200 OK"
