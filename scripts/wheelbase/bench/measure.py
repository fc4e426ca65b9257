"""What every measurement shares: a published stack to measure on, timing, and the loopback probes."""

from __future__ import annotations

import os
import shutil
import socket
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..layout import BASE_IMAGE_DIR, REPO
from . import docker as engine

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
UV_VERSION = "0.13.9"


@dataclass
class Stack:
    """A published wheelhouse and runtime, a service made on them, and the plain way beside it.
    `suffix` marks its rows ("" for the standard stack, "m" for the musl stand-in)."""

    suffix: str
    label: str
    env: dict[str, str]  # bake variables: FLAVOR, PYTHON_VERSION, PYTHON_IMAGE, IMAGE, ...
    workdir: Path
    runs: int
    base: str = ""  # the wheelhouse's moving tag
    runtime: str = ""
    service: Path = Path()
    plain: Path = Path()
    images: dict[str, str] = field(default_factory=dict)

    @property
    def python_image(self) -> str:
        return self.env["PYTHON_IMAGE"]

    @property
    def secrets(self) -> list[str]:
        cert = os.environ.get("PIP_CERT")
        return [f"id=pip_cert,src={cert}"] if cert else []

    def tag(self, name: str) -> str:
        return f"wheelbase-bench/{name}{'-' + self.suffix if self.suffix else ''}"


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answer(port: int, path: str = "/") -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as response:
            return response.read().decode() if response.status == 200 else None
    except OSError:
        return None


def first_ok(port: int, path: str, deadline: float) -> bool:
    """Polls 127.0.0.1:port/path every 5 ms until it answers 200 or the deadline passes."""
    while time.perf_counter() < deadline:
        if answer(port, path) is not None:
            return True
        time.sleep(0.005)
    return False


def container_name() -> str:
    return f"wheelbase-bench-{uuid.uuid4().hex[:8]}"


def publish(stack: Stack) -> None:
    """`docker buildx bake release --push` for the stack, then a service on it and the plain way."""
    from ..new import new
    from ..release import release_tags

    engine.bake(["release"], cwd=REPO, env=stack.env, extra=["--push"])
    saved = {k: os.environ.get(k) for k in stack.env}
    os.environ.update(stack.env)
    try:
        stack.base, stack.runtime = release_tags()
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    folder = stack.workdir / f"stack{stack.suffix}"
    folder.mkdir()
    stack.service = new("Bench Service", folder, stack.base, template=f"file://{REPO}")
    stack.plain = folder / "plain"
    stack.plain.mkdir()
    shutil.copytree(stack.service / "app", stack.plain / "app")
    extras = (stack.service / "requirements.txt").read_text()
    (stack.plain / "requirements.txt").write_text((BASE_IMAGE_DIR / "requirements.txt").read_text() + extras)
