"""A service from the template, the way a user makes and ships one: `wheelbase new` or plain
cookiecutter, `wheelbase pin` against the real registry, `docker buildx bake test` and
`image`, and the container answering real HTTP requests on loopback."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from support import (
    OTHER_PYTHON_IMAGE,
    PYTHON_IMAGE,
    REPO,
    RUN_ID,
    Published,
    free_port,
    image_files,
    publish_wheelhouse,
    run,
    tree_digest,
    wheelbase,
)

pytestmark = pytest.mark.e2e
COOKIECUTTER = str(REPO / ".venv" / "bin" / "cookiecutter")
HADOLINT = str(REPO / ".venv" / "bin" / "hadolint")


def bake(service: Path, *targets: str, check: bool = True, **env: str):  # type: ignore[no-untyped-def]
    return run("docker", "buildx", "bake", "--progress", "plain", *targets, cwd=service, env=env, check=check)


def get(port: int, path: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.status, response.read()


def wait_for(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            get(port, "/healthz")
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)



@pytest.fixture(scope="module")
def served(service_image: str) -> Iterator[tuple[int, str]]:
    """The session's deploy image running on a free loopback port: (port, container name)."""
    port, name = free_port(), f"orders-{RUN_ID}"
    run("docker", "run", "-d", "--name", name, "--network", "host", "-e", f"PORT={port}", service_image)
    try:
        wait_for(port)
        yield port, name
    finally:
        run("docker", "rm", "-f", name, check=False)


def test_plain_cookiecutter_makes_a_service_that_wheelbase_pin_pins(wheelhouse: Published, tmp_path: Path) -> None:
    run(COOKIECUTTER, "--no-input", "--output-dir", str(tmp_path), str(REPO / "consumer-template"), "service_name=Orders API")
    service = tmp_path / "orders-api"
    assert "@sha256:" not in (service / "Dockerfile").read_text()
    pinned = wheelbase("pin", str(service), "--base", wheelhouse.ref)
    assert "BASE_IMAGE" in pinned.stdout and wheelhouse.digest in pinned.stdout
    assert f"ARG BASE_IMAGE={wheelhouse.pinned}\n" in (service / "Dockerfile").read_text()
    assert wheelbase("pin", str(service)).stdout.strip() == "nothing to change: every pin is current"


def test_the_test_stage_runs_pytest_pylint_and_bandit(made_service: Path) -> None:
    tested = bake(made_service, "test", "--no-cache")  # run the tests, not a cached verdict
    assert re.search(r"\d+ passed", tested.stderr)
    assert "rated at 10.00/10" in tested.stderr


def test_the_image_answers_on_loopback(served: tuple[int, str]) -> None:
    port, _ = served
    assert get(port, "/") == (200, b'"FastAPI Working"')
    assert get(port, "/healthz")[0] == 200


def test_the_server_runs_as_uid_10001(served: tuple[int, str]) -> None:
    assert run("docker", "exec", served[1], "id", "-u").stdout.strip() == "10001"


def test_the_server_process_has_loaded_uvloop_and_httptools(served: tuple[int, str]) -> None:
    maps = run("docker", "exec", served[1], "cat", "/proc/1/maps").stdout
    assert re.search(r"/uvloop/loop\.cpython-\d+.*\.so", maps), "the server process has not loaded uvloop"
    assert re.search(r"/httptools/parser/parser\.cpython-\d+.*\.so", maps), "the server process has not loaded httptools"


def test_the_start_command_is_the_runtimes_wheelbase_serve(served: tuple[int, str], service_image: str) -> None:
    """PID 1 is the runtime's serving command, from /opt/venv: nothing of it is in the service."""
    cmdline = run("docker", "exec", served[1], "cat", "/proc/1/cmdline").stdout.split("\0")
    assert cmdline[:2] == ["/opt/venv/bin/python", "/opt/venv/bin/wheelbase-serve"]
    config = json.loads(run("docker", "image", "inspect", "--format", "{{json .Config}}", service_image).stdout)
    assert config["Cmd"] == ["wheelbase-serve"] and config["Healthcheck"]["Test"] == ["CMD", "wheelbase-health"]


def test_the_access_log_is_off_by_default(served: tuple[int, str]) -> None:
    port, name = served
    get(port, "/")
    quiet = run("docker", "logs", name)
    assert '"GET / HTTP/1.1" 200' not in quiet.stdout + quiet.stderr, "the access log is on by default"


def test_uvicorn_access_log_true_turns_the_access_log_on(service_image: str, containers: list[str]) -> None:
    port, name = free_port(), f"orders-logged-{RUN_ID}"
    containers.append(name)
    run("docker", "run", "-d", "--name", name, "--network", "host", "-e", f"PORT={port}",
        "-e", "UVICORN_ACCESS_LOG=true", service_image)
    wait_for(port)
    get(port, "/")
    logs = run("docker", "logs", name)
    assert '"GET / HTTP/1.1" 200' in logs.stdout + logs.stderr, "UVICORN_ACCESS_LOG=true did not turn the access log on"


def test_no_wheel_pip_or_package_manager_in_any_layer(service_image: str, wheelhouse: Published, tmp_path: Path) -> None:
    layers = image_files(service_image, tmp_path)
    everything = [name.removeprefix("./") for names in layers.values() for name in names]
    assert [n for n in everything if n.endswith(".whl")] == []
    assert any("site-packages/fastapi/" in n for n in everything)
    assert [n for n in everything if re.search(r"(^|/)site-packages/pip/__init__\.py$", n)] == []
    assert [n for n in everything if re.fullmatch(r"usr/(local/)?bin/(pip[0-9.]*|apt|apt-get|dpkg|gcc|cc)", n)] == []
    # The service adds its app (and extras) on top of the shared runtime, nothing more.
    runtime_layers = image_files(wheelhouse.runtime, tmp_path)
    added = [name.removeprefix("./") for layer, names in layers.items() if layer not in runtime_layers for name in names]
    mount_points = {"opt", "root", "run", "tmp"}  # RUN --mount targets leave their parent folders' entries
    assert "srv/app/main.py" in added
    assert [n for n in added if n not in mount_points and not n.startswith(("srv", "opt/wheelbase"))] == []


def test_no_extras_builds_with_the_network_cut(made_service: Path) -> None:
    """A service without extras needs nothing from the network, and pip never starts."""
    done = run("docker", "buildx", "build", "--progress", "plain", "--no-cache", "--network", "none",
               "--target", "deploy", "--tag", f"offline-{RUN_ID}", ".", cwd=made_service)
    assert "requirements.txt: nothing listed" in done.stderr
    assert "/pip install" not in done.stderr


def test_one_extra_is_the_only_download(service: Path) -> None:
    with (service / "requirements.in").open("a") as requirements:
        requirements.write("python-multipart\n")
    assert "ARG EXTRAS=false\n" in (service / "Dockerfile").read_text()
    locked = wheelbase("lock", str(service))
    assert "requirements.txt" in locked.stdout
    # wheelbase lock keeps the Dockerfile's switch right: now there is something to install.
    assert "ARG EXTRAS=true\n" in (service / "Dockerfile").read_text() and "Dockerfile" in locked.stdout
    assert re.search(r"^python-multipart==\S+ \\\n\s+--hash=sha256:", (service / "requirements.txt").read_text(), re.MULTILINE)
    bake(service, "image", IMAGE=f"extra-{RUN_ID}")
    image = f"extra-{RUN_ID}:dev"
    report = json.loads(run("docker", "run", "--rm", image, "cat", "/opt/wheelbase/extras-report.json").stdout)
    installed = {item["metadata"]["name"].lower(): item["download_info"]["url"] for item in report["install"]}
    assert list(installed) == ["python-multipart"]
    # Downloaded once in extras-wheels (the only stage with a network), installed offline from there.
    assert re.match(r"^file:///extras/python_multipart-[^/]+\.whl$", installed["python-multipart"]), installed
    listing = run("docker", "run", "--rm", image, "ls", "/opt/venv/lib/python3.13/site-packages").stdout
    assert "fastapi" in listing and "multipart" in listing


def test_pin_check_fails_when_stale_and_passes_after_pin(registry: str, tmp_path: Path) -> None:
    repository = f"{registry}/wheelbase-e2e-{RUN_ID}/moving"
    first = publish_wheelhouse(repository, REVISION="first")
    wheelbase("new", "Billing", "--output-dir", str(tmp_path), "--base", first.ref)
    service = tmp_path / "billing"
    wheelbase("pin", "--check", str(service))
    second = publish_wheelhouse(repository, REVISION="second")
    assert second.digest != first.digest

    stale = wheelbase("pin", "--check", str(service), check=False)
    assert stale.returncode == 5
    assert "stale:" in stale.stdout and first.digest in stale.stdout and second.digest in stale.stdout
    # The service's own CI step, taken from its workflow, fails the same way.
    workflow = yaml.safe_load((service / ".github" / "workflows" / "ci.yml").read_text())
    step = next(s["run"] for s in workflow["jobs"]["current"]["steps"] if "pin --check" in s.get("run", ""))
    ci_step = run("sh", "-c", step, cwd=service, env={"PATH": f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}"}, check=False)
    assert ci_step.returncode == 5 and "stale:" in ci_step.stdout
    before = tree_digest(service)
    dry = wheelbase("pin", "--dry-run", str(service))
    assert "would change:" in dry.stdout and tree_digest(service) == before

    wheelbase("pin", str(service))
    assert f"ARG BASE_IMAGE={second.pinned}\n" in (service / "Dockerfile").read_text()
    assert wheelbase("pin", "--check", str(service)).returncode == 0


def one_line_error(done, code: int) -> str:  # type: ignore[no-untyped-def]
    assert done.returncode == code, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("wheelbase: error: ")
    return str(lines[0])


def test_pin_errors_are_one_line_and_change_nothing(service: Path, wheelhouse: Published) -> None:
    before = tree_digest(service)
    missing_tag = wheelbase("pin", str(service), "--base", f"{wheelhouse.ref}-nope", check=False)
    assert "does not exist in the registry" in one_line_error(missing_tag, 3)

    refused = wheelbase("pin", str(service), "--base", f"127.0.0.1:{free_port()}/w/wheelhouse:py3.13-debian", check=False)
    assert "refused the connection" in one_line_error(refused, 3)

    (service / "Dockerfile").write_text((service / "Dockerfile").read_text().replace("ARG BASE_IMAGE=", "ARG OTHER="))
    unpinned_before = tree_digest(service)
    no_pin = wheelbase("pin", str(service / "Dockerfile"), "--base", wheelhouse.ref, check=False)
    assert "has no `ARG BASE_IMAGE=" in one_line_error(no_pin, 4)
    assert tree_digest(service) == unpinned_before
    assert set(before) == set(unpinned_before)


@pytest.mark.parametrize(("variable", "target"), [("RUNTIME_IMAGE", "image"), ("PYTHON_IMAGE", "lock")])
def test_python_mismatch_fails_early_naming_both(service: Path, variable: str, target: str) -> None:
    """The runtime is checked on every build; the Python image only where it is used, the lock."""
    done = bake(service, target, check=False, **{variable: OTHER_PYTHON_IMAGE})
    assert done.returncode != 0
    message = next(line for line in done.stderr.splitlines() if "error: this image" in line)
    assert "Python 3.11" in message and "Python 3.13" in message
    assert PYTHON_IMAGE in message


def test_the_guards_run_again_only_when_their_inputs_change(service: Path) -> None:
    """The guard step is a cache hit after edits to the app, its tests or its test tools, and runs
    again when requirements.txt changes (whose lines it reads)."""
    def guard_step(output: str) -> str:
        number = re.search(r"^(#\d+) \[runtime \d/\d\] RUN .*step\.py check", output, re.MULTILINE)
        assert number, output
        return "\n".join(line for line in output.splitlines() if line.startswith(number.group(1) + " "))

    bake(service, "image", IMAGE=f"guard-cache-{RUN_ID}")
    for edited in ("app/main.py", "tests/test_main.py", "requirements-test.txt"):
        with (service / edited).open("a") as file:
            file.write("\n# an edit\n")
    after_edits = guard_step(bake(service, "image", IMAGE=f"guard-cache-{RUN_ID}").stderr)
    assert "CACHED" in after_edits, after_edits
    with (service / "requirements.txt").open("a") as file:
        # The run's id makes this file new to BuildKit's cache, which keys the step on its content and
        # outlives the session: the same comment on a machine that ran this before would hit.
        file.write(f"# a comment of test run {RUN_ID}: the file changed, so the guard reads it again\n")
    after_lock = guard_step(bake(service, "image", IMAGE=f"guard-cache-{RUN_ID}").stderr)
    assert "CACHED" not in after_lock and "requirements.txt: nothing listed" in after_lock, after_lock


def test_extra_conflicting_with_the_wheelhouse_fails_naming_both_versions(service: Path, wheelhouse: Published) -> None:
    shared = dict(re.findall(r"^([a-z0-9-]+)==(\S+)", (REPO / "base-image" / "requirements.txt").read_text(), re.MULTILINE))
    with (service / "requirements.txt").open("a") as lock:
        lock.write("anyio==3.7.1 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    (service / "Dockerfile").write_text((service / "Dockerfile").read_text().replace("ARG EXTRAS=false", "ARG EXTRAS=true"))
    done = bake(service, "image", check=False)
    assert done.returncode != 0
    assert f"anyio (wheelhouse {shared['anyio']}, requirements.txt ==3.7.1)" in done.stderr

    (service / "requirements.in").write_text("anyio<4\n")
    before = tree_digest(service)
    refused = wheelbase("lock", str(service), check=False)
    assert f"anyio (wheelhouse {shared['anyio']}, requirements.in <4)" in one_line_error(refused, 7)
    assert tree_digest(service) == before


def test_new_refuses_bad_names_and_existing_folders_before_writing(wheelhouse: Published, tmp_path: Path) -> None:
    bad = wheelbase("new", "orders; rm -rf /", "--output-dir", str(tmp_path), "--base", wheelhouse.ref, check=False)
    assert "is not allowed" in one_line_error(bad, 2)
    (tmp_path / "orders-api").mkdir()
    (tmp_path / "orders-api" / "keep.txt").write_text("mine\n")
    exists = wheelbase("new", "Orders API", "--output-dir", str(tmp_path), "--base", wheelhouse.ref, check=False)
    assert "already exists" in one_line_error(exists, 2)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["keep.txt", "orders-api"]


def test_cookiecutter_hook_refuses_a_bad_name_before_writing(tmp_path: Path) -> None:
    done = run(COOKIECUTTER, "--no-input", "--output-dir", str(tmp_path), str(REPO / "consumer-template"),
               "service_name=Tests", check=False)
    assert done.returncode != 0
    assert "reserved" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_generated_files_pass_hadolint_and_the_workflow_has_the_jobs(made_service: Path) -> None:
    service = made_service
    done = run(HADOLINT, "--no-color", str(service / "Dockerfile"), check=False)
    assert done.returncode == 0, done.stdout
    workflow = yaml.safe_load((service / ".github" / "workflows" / "ci.yml").read_text())
    assert {"test", "build", "current"} <= set(workflow["jobs"])
    steps = json.dumps(workflow["jobs"])
    assert "wheelbase pin --check" in steps
    assert workflow["jobs"]["test"]["steps"][-1]["with"]["targets"] == "test"
    assert workflow["jobs"]["build"]["steps"][-1]["with"]["targets"] == "image"
    assert json.loads((service / "renovate.json").read_text())["packageRules"]
