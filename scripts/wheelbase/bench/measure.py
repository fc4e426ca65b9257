"""The measurements. Each pair is taken side by side in one run, on one machine and one Python image."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..layout import BASE_IMAGE_DIR, REPO
from . import docker as engine
from .figures import Figure

RESOURCES = Path(__file__).resolve().parents[1] / "resources"


@dataclass
class Bench:
    """Everything the measurements share: where to work, which images, how many runs."""

    workdir: Path
    runs: int
    python_image: str
    wheelhouse_tag: str
    env: dict[str, str]
    service: Path = Path()
    plain: Path = Path()

    @property
    def secrets(self) -> list[str]:
        cert = os.environ.get("PIP_CERT")
        return [f"id=pip_cert,src={cert}"] if cert else []


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def first_ok(port: int, path: str, deadline: float) -> bool:
    """Polls 127.0.0.1:port/path every 5 ms until it answers 200 or the deadline passes."""
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.005)
    return False


def publish_wheelhouse(bench: Bench, *, cold: bool) -> float:
    if cold:
        engine.prune_cache_mounts()
    extra = ["--push", "--no-cache"] if cold else ["--push"]
    return timed(lambda: engine.bake(["base"], cwd=REPO, env=bench.env, extra=extra))


def publish_runtime(bench: Bench) -> None:
    engine.bake(["runtime"], cwd=REPO, env=bench.env, extra=["--push"])


def pip_download_floor(bench: Bench) -> float:
    """`pip download` of the same locked set in the same Python image, no cache: the floor."""
    mounts = ["-v", f"{BASE_IMAGE_DIR / 'requirements.txt'}:/tmp/requirements.txt:ro"]
    cert = os.environ.get("PIP_CERT")
    env = []
    if cert:
        mounts += ["-v", f"{cert}:/run/secrets/pip_cert:ro"]
        env = ["-e", "PIP_CERT=/run/secrets/pip_cert"]
    cmd = ["run", "--rm", *mounts, *env, bench.python_image, "python", "-m", "pip", "download", "--quiet",
           "--no-cache-dir", "--require-hashes", "--only-binary=:all:", "-d", "/tmp/wheels", "-r", "/tmp/requirements.txt"]
    return timed(lambda: engine.run(cmd))


def wheelhouse_cold_build(bench: Bench) -> list[Figure]:
    ours, floor, stage = [], [], []
    for _ in range(bench.runs):
        floor.append(pip_download_floor(bench))
        engine.prune_cache_mounts()
        stage.append(timed(lambda: engine.bake(["base"], cwd=REPO, env=bench.env, extra=["--no-cache"],
                                               overrides=["base.target=build", "base.tags=", "base.output=type=cacheonly"])))
        ours.append(publish_wheelhouse(bench, cold=True))
    return [
        Figure("5", "wheelhouse cold build (bake base: wheels, strip, test, image)", "s", ours, floor,
               "pip download of the same set", "<= 1.5x pip download", "ratio<=", 1.5,
               "no layer cache and empty pip/apt cache mounts"),
        Figure("5b", "wheelhouse wheels alone (fetch, strip, assemble; no test stage, no image)", "s", stage, floor,
               "pip download of the same set", "(context)", "ratio<=", float("inf")),
    ]


def make_service(bench: Bench) -> None:
    from ..new import new

    publish_runtime(bench)
    bench.service = new("Bench Service", bench.workdir, bench.wheelhouse_tag, template=f"file://{REPO}")
    bench.plain = bench.workdir / "plain"
    bench.plain.mkdir()
    shutil.copytree(bench.service / "app", bench.plain / "app")
    shutil.copy(RESOURCES / "plain.Dockerfile", bench.plain / "Dockerfile")
    extras = (bench.service / "requirements.txt").read_text()
    (bench.plain / "requirements.txt").write_text((BASE_IMAGE_DIR / "requirements.txt").read_text() + extras)


def service_build(bench: Bench) -> list[Figure]:
    ours, plain = [], []
    for _ in range(bench.runs):
        plain.append(timed(lambda: engine.build(bench.plain, tag="wheelbase-bench/plain", no_cache=True,
                                                build_args={"PYTHON_IMAGE": bench.python_image}, secrets=bench.secrets)))
        ours.append(timed(lambda: engine.build(bench.service, tag="wheelbase-bench/service", target="deploy",
                                               no_cache=True, secrets=bench.secrets)))
    return [Figure("1", "service image build, no build cache", "s", ours, plain, "plain pip install -r",
                   "<= 0.25x plain", "ratio<=", 0.25)]


def rebuild_after_edit(bench: Bench) -> list[Figure]:
    main = bench.service / "app" / "main.py"
    engine.build(bench.service, tag="wheelbase-bench/service", target="deploy")
    times = []
    for run in range(max(bench.runs, 3)):
        main.write_text(main.read_text() + f"# edit {run}\n")
        times.append(timed(lambda: engine.build(bench.service, tag="wheelbase-bench/service", target="deploy")))
    return [Figure("2", "rebuild after a one-line change in app/", "s", times, None, "", "<= 1.0 s median", "value<=", 1.0)]


def sizes(bench: Bench) -> list[Figure]:
    python = engine.image_size(bench.python_image)
    runtime = engine.image_size(f"{bench.wheelhouse_tag}-runtime")
    added = (engine.image_size("wheelbase-bench/service") - runtime) / 1e6
    naive = (engine.image_size("wheelbase-bench/plain") - python) / 1e6
    return [
        Figure("3", "bytes the service image adds to its runtime image (standard stack, no extras)", "MB", [added], [naive],
               "plain venv with pip, on the Python image", "<= 15 MB", "value<=", 15.0),
        Figure("3b", "the shared runtime vs its Python image (paid once per node, not per service)", "MB",
               [(runtime - python) / 1e6], [naive], "plain venv with pip, on the Python image", "(context)", "value<=", float("inf"),
               "stack in /opt/venv, stripped; pip, bundled wheels and package manager removed"),
    ]


def start_to_first_ok(image: str, env: dict[str, str] | None = None) -> float:
    port, name = free_port(), f"wheelbase-bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    try:
        engine.start(image, name=name, env={"PORT": str(port), **(env or {})})
        if not first_ok(port, "/healthz", started + 30):
            raise RuntimeError(f"{image} did not answer /healthz within 30 s")
        return time.perf_counter() - started
    finally:
        engine.remove(name)


def startup(bench: Bench) -> list[Figure]:
    """With the shipped bytecode, and with Python sent to an empty bytecode folder (what not shipping it costs)."""
    ours, source_only = [], []
    for _ in range(max(bench.runs, 3)):
        ours.append(start_to_first_ok("wheelbase-bench/service"))
        source_only.append(start_to_first_ok("wheelbase-bench/service", {"PYTHONPYCACHEPREFIX": "/tmp/no-bytecode"}))
    pyc = engine.run(["run", "--rm", "--entrypoint", "sh", "wheelbase-bench/service", "-c",
                      "find /opt/venv -name '*.pyc' -exec cat {} + | wc -c"]).stdout.strip()
    return [Figure("7", "docker run to the first 200 from /healthz", "s", ours, source_only,
                   "same image ignoring its bytecode", "<= 1.0 s median", "value<=", 1.0,
                   f"shipped bytecode: {int(pyc) / 1e6:.1f} MB in the shared runtime")]


def cpu_split() -> tuple[list[str], list[str]]:
    """Server and load generator on a core each (docker's cpuset, taskset), so they do not take
    turns on one; with a single core both run unpinned."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return [], []
    return ["--cpuset-cpus", str(cores[0])], ["taskset", "--cpu-list", str(cores[1])]


def wrk_rps(image: str, command: list[str], seconds: int) -> float:
    port, name = free_port(), f"wheelbase-bench-{uuid.uuid4().hex[:8]}"
    server_cpus, client_cpus = cpu_split()
    try:
        engine.start(image, name=name, env={"PORT": str(port)}, command=command, options=server_cpus)
        if not first_ok(port, "/healthz", time.perf_counter() + 30):
            raise RuntimeError(f"{image} did not answer /healthz within 30 s")
        done = subprocess.run([*client_cpus, "wrk", "-t1", "-c64", f"-d{seconds}s", "--timeout", "5s", f"http://127.0.0.1:{port}/"],
                              capture_output=True, text=True, check=True, timeout=seconds + 30)
        found = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
        if not found or "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
            raise RuntimeError(f"wrk reported errors:\n{done.stdout}")
        return float(found.group(1))
    finally:
        engine.remove(name)


def throughput(bench: Bench, seconds: int) -> list[Figure]:
    base = ["uvicorn", "app.main:app", "--host", "127.0.0.1", "--port"]
    fast, slow = [], []
    for _ in range(bench.runs):  # alternated, so that drift on the machine touches both alike
        fast.append(wrk_rps("wheelbase-bench/service", ["sh", "-c", f"exec {' '.join(base)} $PORT --loop uvloop --http httptools"],
                            seconds))
        slow.append(wrk_rps("wheelbase-bench/service", ["sh", "-c", f"exec {' '.join(base)} $PORT --loop asyncio --http h11"],
                            seconds))
    pinned = "server and wrk on a core each" if cpu_split()[0] else "one core: server and wrk share it"
    return [Figure("6", "requests/s, uvloop+httptools (wrk, 64 connections, loopback)", "req/s", fast, slow,
                   "--loop asyncio --http h11", ">= 1.3x", "ratio>=", 1.3,
                   f"{seconds} s per run; {pinned}; the image's own settings, so no access log")]


MULTI_PYTHON_IMAGE = os.environ.get("WHEELBASE_MULTI_PYTHON_IMAGE", "localhost:5000/python:3.13-slim-trixie")


def wheelhouse_for(bench: Bench, target_platform: str, stage: str) -> float:
    """A cold `bake base` (or one stage of it) for one platform, on the multi-platform Python image."""
    env = {**bench.env, "PYTHON_IMAGE": MULTI_PYTHON_IMAGE}
    overrides = [f"base.platform={target_platform}", f"base.target={stage}", "base.tags=", "base.output=type=cacheonly"]
    engine.prune_cache_mounts()
    return timed(lambda: engine.bake(["base"], cwd=REPO, env=env, extra=["--no-cache"], overrides=overrides))


def emulated_pip_wheel() -> float:
    """What fetching natively avoids: pip wheel of the same lock inside an emulated arm64 container."""
    mounts = ["-v", f"{BASE_IMAGE_DIR / 'requirements.txt'}:/tmp/requirements.txt:ro"]
    cert = os.environ.get("PIP_CERT")
    env = ["-e", "PIP_CERT=/run/secrets/pip_cert", "-v", f"{cert}:/run/secrets/pip_cert:ro"] if cert else []
    cmd = ["run", "--rm", "--platform", "linux/arm64", *mounts, *env, MULTI_PYTHON_IMAGE, "python", "-m", "pip", "wheel",
           "--quiet", "--no-cache-dir", "--require-hashes", "-w", "/tmp/wheels", "-r", "/tmp/requirements.txt"]
    return timed(lambda: engine.run(cmd))


def multiplatform(bench: Bench) -> list[Figure]:
    amd, arm, amd_fetch, arm_fetch, emulated = [], [], [], [], []
    for _ in range(min(bench.runs, 3)):  # each arm64 bake spends about two minutes under QEMU
        amd.append(wheelhouse_for(bench, "linux/amd64", "wheelhouse"))
        arm.append(wheelhouse_for(bench, "linux/arm64", "wheelhouse"))
        amd_fetch.append(wheelhouse_for(bench, "linux/amd64", "build"))
        arm_fetch.append(wheelhouse_for(bench, "linux/arm64", "build"))
    for _ in range(min(bench.runs, 2)):
        emulated.append(emulated_pip_wheel())
    return [
        Figure("4", "arm64 wheelhouse on this amd64 builder (bake base incl. its emulated test stage)", "s", arm, amd,
               "amd64 wheelhouse", "<= 1.5x amd64", "ratio<=", 1.5, "no cache; the arm64 test stage installs and serves under QEMU"),
        Figure("4b", "arm64 wheels alone (fetch, strip, metadata: no emulated test)", "s", arm_fetch, amd_fetch,
               "amd64 wheels alone", "(context)", "ratio<=", float("inf")),
        Figure("4c", "pip wheel of the same lock under arm64 emulation", "s", emulated, amd_fetch,
               "amd64 wheels alone", "(context)", "ratio<=", float("inf")),
    ]
