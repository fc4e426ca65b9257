"""Figures of a developer's loops: locking a real application's extras (cold, warm, and uv on the
same input), and `docker compose up --watch` from a saved edit to the edit being served."""

from __future__ import annotations

import os
import re
import shutil
import signal
import statistics
import subprocess
import time
from pathlib import Path

from ..lock import lock
from . import docker as engine
from .figures import Figure
from .measure import RESOURCES, UV_VERSION, Stack, answer, free_port, timed

APPLICATION = RESOURCES / "bench-backend.in"
ONE_MORE = "python-slugify\n"  # the dependency a developer adds between a cold and a warm lock


def uv_image(stack: Stack) -> str:
    """The Python image with uv from PyPI: the yardstick locks on the same image as pip-tools."""
    tag = stack.tag("uv-tool")
    context = stack.workdir / "uv-tool"
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text(
        "ARG PYTHON_IMAGE\nFROM ${PYTHON_IMAGE}\nARG UV_VERSION\n"
        "RUN --mount=type=secret,id=pip_cert,target=/run/secrets/pip_cert,required=false "
        "if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi; "
        'python -m pip install --no-cache-dir "uv==${UV_VERSION}"\n')
    engine.build(context, tag=tag, secrets=stack.secrets, build_args={"PYTHON_IMAGE": stack.python_image,
                                                                      "UV_VERSION": UV_VERSION})
    return tag


def uv_compile(stack: Stack, image: str, service: Path) -> float:
    """uv pip compile --generate-hashes of both locks, no cache, in a container on the stack's Python."""
    wheels = service.parent / "uv-wheels"
    if not wheels.exists():
        created = engine.run(["create", stack.base, "/none"]).stdout.strip()
        engine.run(["cp", f"{created}:/wheels", str(wheels)])
        engine.run(["rm", created])
    cert = os.environ.get("PIP_CERT")
    env = ["-e", "SSL_CERT_FILE=/run/secrets/pip_cert", "-v", f"{cert}:/run/secrets/pip_cert:ro"] if cert else []
    script = " && ".join(f"uv pip compile --quiet --no-cache --generate-hashes --constraint /wheels/constraints.txt "
                         f"--output-file /tmp/{name}.txt /src/{name}.in" for name in ("requirements", "requirements-test"))
    cmd = ["run", "--rm", *env, "-v", f"{service}:/src:ro", "-v", f"{wheels}:/wheels:ro", image, "sh", "-c", script]
    return timed(lambda: engine.run(cmd))


def locks(stack: Stack) -> list[Figure]:
    service = stack.workdir / "lock-app"
    shutil.copytree(stack.service, service)
    uv = uv_image(stack)
    cold, warm, pins = [], [], 0
    # The locks run before any uv yardstick, and round 0 is run and discarded. Measured side by side
    # on this project's CI machine, whose PyPI traffic passes a caching proxy: the same cold lock took
    # 19 s alone and 66 s right after `uv pip compile` (its burst of parallel fetches), and a first
    # fetch of files was several times slower than the next. So every kept lock round meets the network
    # in one state, while its local caches (build cache, cache mounts) are still empty.
    for run in range(stack.runs + 1):
        (service / "requirements.in").write_text(APPLICATION.read_text())
        for old in ("requirements.txt", "requirements-test.txt"):
            (service / old).write_text("")  # no lock to start from
        engine.prune_cache_mounts()
        cold_seconds = timed(lambda: lock(service, no_cache=True))
        pins = len(re.findall(r"^[A-Za-z0-9]", (service / "requirements.txt").read_text(), re.MULTILINE))
        with (service / "requirements.in").open("a") as extras:
            # An edit this builder has not seen (the run's own comment), as a developer's is: the
            # previous run's warm lock would otherwise be a layer-cache hit, and no lock at all.
            extras.write(f"# added in bench run {run}\n{ONE_MORE}")
        warm_seconds = timed(lambda: lock(service))
        if run:
            cold.append(cold_seconds)
            warm.append(warm_seconds)
    (service / "requirements.in").write_text(APPLICATION.read_text())
    yardstick = [uv_compile(stack, uv, service) for _ in range(stack.runs)]
    direct = len([line for line in APPLICATION.read_text().splitlines() if line and not line.startswith("#")])
    note = (f"{stack.label}; {direct} direct extras, {pins} pins with hashes, and the test lock; "
            f"cold: no lock file, no build cache, empty cache mounts, after one discarded round, before uv")
    return [
        Figure("8", "wheelbase lock of a real application's extras, cold", "s", cold, yardstick,
               f"uv {UV_VERSION} pip compile, same input, no cache", "<= 60 s", "value<=", 60.0, note),
        Figure("8b", "wheelbase lock after adding one dependency (warm: pins, hashes and caches kept)", "s", warm, yardstick,
               f"uv {UV_VERSION} pip compile, same input, no cache", "<= 20 s", "value<=", 20.0, stack.label),
    ]


def edit_to_served(stack: Stack) -> list[Figure]:
    """`docker compose up` then `docker compose watch`: seconds from saving app/main.py to serving it."""
    service = stack.service
    override = stack.workdir / "host-network.yaml"
    override.write_text(f"services:\n  {service.name}:\n    network_mode: host\n    ports: !reset []\n")
    project = f"bench-{service.name}"
    compose = ["docker", "compose", "--project-name", project, "-f", str(service / "compose.yaml"), "-f", str(override)]
    env = {**os.environ, "PORT": str(free_port())}
    port = int(env["PORT"])
    subprocess.run([*compose, "up", "--detach", "--build", "--wait"], cwd=service, env=env, check=True, capture_output=True)
    log = stack.workdir / "watch.log"
    with log.open("w") as out:
        watch = subprocess.Popen([*compose, "watch"], cwd=service, env=env, stdout=out, stderr=subprocess.STDOUT)
    times = []
    try:
        deadline = time.perf_counter() + 120
        while "Watch enabled" not in log.read_text() or answer(port, "/healthz") is None:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"docker compose watch did not start: {log.read_text()[-500:]}")
            time.sleep(0.1)
        main = service / "app" / "main.py"
        for edit in range(max(stack.runs, 5)):
            greeting = f"Edit {edit} served"
            main.write_text(re.sub(r'return "[^"]*"', f'return "{greeting}"', main.read_text(), count=1))
            saved = time.perf_counter()
            while answer(port) != f'"{greeting}"':
                if time.perf_counter() - saved > 30:
                    raise RuntimeError("compose watch did not serve an edit within 30 s")
                time.sleep(0.02)
            times.append(time.perf_counter() - saved)
    finally:
        watch.send_signal(signal.SIGINT)
        watch.wait(timeout=30)
        subprocess.run([*compose, "down", "--remove-orphans"], cwd=service, env=env, capture_output=True)
    return [Figure("9", "edit to served with docker compose up --watch (sync, then uvicorn's reload)", "s", times, None, "",
                   "<= 2 s median", "value<=", 2.0, f"{stack.label}; median of {len(times)} edits; "
                   f"spread {min(times):.2f}-{max(times):.2f} s (mean {statistics.mean(times):.2f})")]
