"""Figure 6: a service's requests per second under wrk, with uvloop and httptools against asyncio
and h11, on the same image; the server and the load generator on a core each."""

from __future__ import annotations

import os
import re
import subprocess
import time

from . import docker as engine
from .figures import Figure
from .measure import Stack, container_name, first_ok, free_port


def cpu_split() -> tuple[list[str], list[str]]:
    """Server and load generator on a core each (docker's cpuset, taskset); with one core both share it."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return [], []
    return ["--cpuset-cpus", str(cores[0])], ["taskset", "--cpu-list", str(cores[1])]


def wrk_rps(image: str, command: list[str], seconds: int) -> float:
    """Requests per second of the image run with `command` (empty: its own CMD), HOST and PORT set."""
    port, name = free_port(), container_name()
    server_cpus, client_cpus = cpu_split()
    try:
        engine.start(image, name=name, env={"PORT": str(port), "HOST": "127.0.0.1"}, command=command, options=server_cpus)
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


def throughput(stack: Stack, seconds: int) -> list[Figure]:
    fast, slow = [], []
    image = stack.tag("service")
    for _ in range(stack.runs):  # alternated, so that drift on the machine touches both alike
        fast.append(wrk_rps(image, [], seconds))  # the image's own start command: wheelbase-serve
        # The same app and settings on uvicorn's pure-Python loop and parser (no access log either).
        slow.append(wrk_rps(image, ["sh", "-c", "exec uvicorn app.main:app --host \"$HOST\" --port \"$PORT\" --no-access-log "
                                    "--loop asyncio --http h11"], seconds))
    pinned = "server and wrk on a core each" if cpu_split()[0] else "one core: server and wrk share it"
    return [Figure(f"6{stack.suffix}", "requests/s, uvloop+httptools (wrk, 64 connections, loopback)", "req/s", fast, slow,
                   "--loop asyncio --http h11", ">= 1.3x", "ratio>=", 1.3,
                   f"{stack.label}; {seconds} s per run; {pinned}; the image's own settings, so no access log")]
