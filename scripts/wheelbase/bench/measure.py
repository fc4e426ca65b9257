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

from .. import engine
from ..layout import BASE_IMAGE_DIR, REPO
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
        Figure("5b", "wheelhouse build stage alone (pip wheel + strip)", "s", stage, floor,
               "pip download of the same set", "(context)", "ratio<=", float("inf")),
    ]


def make_service(bench: Bench) -> None:
    from ..scaffold import new

    bench.service = new("Bench Service", bench.workdir, bench.wheelhouse_tag)
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
    runtime = engine.image_size(bench.python_image)
    engine.build(bench.service, tag="wheelbase-bench/service-nopyc", target="deploy", build_args={"BYTECODE": "false"})
    added = (engine.image_size("wheelbase-bench/service") - runtime) / 1e6
    no_pyc = (engine.image_size("wheelbase-bench/service-nopyc") - runtime) / 1e6
    naive = (engine.image_size("wheelbase-bench/plain") - runtime) / 1e6
    return [
        Figure("3", "bytes the service image adds to its Python image", "MB", [added], [naive],
               "plain venv with pip", "<= 15 MB", "value<=", 15.0, "with precompiled bytecode (the default)"),
        Figure("3b", "the same without precompiled bytecode (BYTECODE=false)", "MB", [no_pyc], [naive],
               "plain venv with pip", "(context)", "value<=", float("inf")),
    ]


def start_to_first_ok(bench: Bench, image: str) -> float:
    port, name = free_port(), f"wheelbase-bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    try:
        engine.start(image, name=name, env={"PORT": str(port)})
        if not first_ok(port, "/healthz", started + 30):
            raise RuntimeError(f"{image} did not answer /healthz within 30 s")
        return time.perf_counter() - started
    finally:
        engine.remove(name)


def startup(bench: Bench) -> list[Figure]:
    with_pyc, without = [], []
    for _ in range(max(bench.runs, 3)):
        with_pyc.append(start_to_first_ok(bench, "wheelbase-bench/service"))
        without.append(start_to_first_ok(bench, "wheelbase-bench/service-nopyc"))
    return [Figure("7", "docker run to the first 200 from /healthz", "s", with_pyc, without,
                   "same image without bytecode", "<= 1.0 s median", "value<=", 1.0)]


def wrk_rps(image: str, command: list[str], seconds: int) -> float:
    port, name = free_port(), f"wheelbase-bench-{uuid.uuid4().hex[:8]}"
    try:
        engine.start(image, name=name, env={"PORT": str(port)}, command=command)
        if not first_ok(port, "/healthz", time.perf_counter() + 30):
            raise RuntimeError(f"{image} did not answer /healthz within 30 s")
        done = subprocess.run(["wrk", "-t1", "-c64", f"-d{seconds}s", "--timeout", "5s", f"http://127.0.0.1:{port}/"],
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
    for _ in range(bench.runs):
        fast.append(wrk_rps("wheelbase-bench/service", ["sh", "-c", f"exec {' '.join(base)} $PORT --loop uvloop --http httptools"],
                            seconds))
        slow.append(wrk_rps("wheelbase-bench/service", ["sh", "-c", f"exec {' '.join(base)} $PORT --loop asyncio --http h11"],
                            seconds))
    return [Figure("6", "requests/s, uvloop+httptools (wrk, 64 connections, loopback)", "req/s", fast, slow,
                   "--loop asyncio --http h11", ">= 1.3x", "ratio>=", 1.3, f"{seconds} s per run")]
