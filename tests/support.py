"""Helpers the tests share: running commands, and publishing a wheelhouse the way a user does."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import tarfile
import time
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wheelbase.layout import standins

REPO = Path(__file__).resolve().parents[1]
REGISTRY = os.environ.get("WHEELBASE_TEST_REGISTRY", "localhost:5000")
STANDINS = standins()  # .ci/standins.env: the images .ci/provision builds
PYTHON_VERSION = STANDINS["STANDIN_PYTHON_VERSION"]
PYTHON_IMAGE = os.environ.get("WHEELBASE_TEST_PYTHON_IMAGE", STANDINS["STANDIN_PYTHON_IMAGE"])
OTHER_PYTHON_IMAGE = os.environ.get("WHEELBASE_TEST_OTHER_PYTHON_IMAGE", STANDINS["STANDIN_OTHER_PYTHON_IMAGE"])
MUSL_PYTHON_IMAGE = STANDINS["STANDIN_MUSL_PYTHON_IMAGE"]
MULTI_PYTHON_IMAGE = STANDINS["STANDIN_MULTI_PYTHON_IMAGE"]
WHEELBASE = str(REPO / ".venv" / "bin" / "wheelbase") if (REPO / ".venv" / "bin" / "wheelbase").exists() else "wheelbase"
RUN_ID = uuid.uuid4().hex[:8]


# What `make test` exports for the wheelhouse's build. Bake files read them, a service's too (its
# PYTHON_IMAGE would replace the pinned image), so each command gets only what its test gives it,
# as in a developer's shell.
BUILD_VARIABLES = ("FLAVOR", "PYTHON_IMAGE", "IMAGE", "PYTHON_VERSION", "REVISION", "TAG", "PLATFORMS")


def run(*args: str, cwd: Path | None = None, env: Mapping[str, str | None] | None = None, check: bool = True,
        timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Runs a command without the build variables of the calling shell; env adds variables, and a
    None value removes one."""
    inherited = {key: value for key, value in os.environ.items() if key not in BUILD_VARIABLES}
    merged = {**inherited, **(env or {})}
    full_env = {key: value for key, value in merged.items() if value is not None}
    done = subprocess.run(list(args), cwd=cwd, env=full_env, text=True,
                          capture_output=True, timeout=timeout)
    if check and done.returncode:
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}\n--- stdout\n{done.stdout[-4000:]}"
                             f"\n--- stderr\n{done.stderr[-6000:]}")
    return done


# `wheelbase new` records where the template comes from; in tests that is this checkout, as a file:// URL.
TEMPLATE_URL = f"file://{REPO}"


def wheelbase(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(WHEELBASE, *args, cwd=cwd, check=check, env={"WHEELBASE_TEMPLATE": os.environ.get("WHEELBASE_TEMPLATE", TEMPLATE_URL)})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_container(image: str, names: list[str], *options: str) -> int:
    """`docker run -d --network host` of a service image on a free loopback port; waits for /healthz.
    The container's name is added to names, for the caller to remove."""
    port = free_port()
    name = f"wheelbase-e2e-{RUN_ID}-{port}"
    names.append(name)
    run("docker", "run", "-d", "--name", name, "--network", "host", "-e", f"PORT={port}", *options, image)
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return port
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{image} did not answer /healthz within 20 s")
        time.sleep(0.1)


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under root, to prove a failed command changed nothing."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@dataclass(frozen=True)
class Published:
    ref: str  # repository:tag
    digest: str
    env: dict[str, str]

    @property
    def pinned(self) -> str:
        return f"{self.ref}@{self.digest}"

    @property
    def runtime(self) -> str:
        """The runtime published with it, pinned by the digest the registry has now."""
        _, ref = release_tags(self.env)
        return f"{ref}@{digest_of(ref)}"


def bake_env(image: str, **extra: str) -> dict[str, str]:
    return {"IMAGE": image, "FLAVOR": "debian", "PYTHON_VERSION": PYTHON_VERSION, "PYTHON_IMAGE": PYTHON_IMAGE, **extra}


def release_tags(env: Mapping[str, str], checkout: Path = REPO) -> tuple[str, str]:
    """The moving tags of the wheelhouse and its runtime for these bake variables, from the bake file."""
    targets = json.loads(run("docker", "buildx", "bake", "--print", "release", cwd=checkout, env=env).stdout)["target"]
    return targets["base"]["tags"][0], targets["runtime"]["tags"][0]


def digest_of(ref: str) -> str:
    return str(json.loads(run("docker", "buildx", "imagetools", "inspect", ref, "--format", "{{json .Manifest}}").stdout)["digest"])


def publish_wheelhouse(image: str, checkout: Path = REPO, **extra: str) -> Published:
    """`docker buildx bake release --push` (wheelhouse and runtime) from a checkout, then the wheelhouse's digest."""
    env = bake_env(image, **extra)
    run("docker", "buildx", "bake", "release", "--push", cwd=checkout, env=env)
    ref, _ = release_tags(env, checkout)
    return Published(ref, digest_of(ref), env)


def image_files(image: str, workdir: Path) -> dict[str, list[str]]:
    """Every path in every layer of a local image, read from `docker save` (layer digest -> paths)."""
    archive = workdir / "image.tar"
    run("docker", "save", image, "--output", str(archive))
    layers: dict[str, list[str]] = {}
    with tarfile.open(archive) as saved:
        manifest = json.load(saved.extractfile("manifest.json"))  # type: ignore[arg-type]
        for layer in manifest[0]["Layers"]:
            with tarfile.open(fileobj=saved.extractfile(layer)) as content:
                layers[layer] = content.getnames()
    archive.unlink()
    return layers


def copy_from_image(image: str, path: str, dest: Path, platform: str | None = None) -> Path:
    """docker cp out of a created (never started) container: works for FROM scratch images too.
    With a platform, that machine's image of a multi-platform index (pulled if not local)."""
    dest.mkdir(parents=True, exist_ok=True)
    chosen = ("--platform", platform, "--pull", "missing") if platform else ()
    created = run("docker", "create", *chosen, image, "/none").stdout.strip()
    try:
        run("docker", "cp", f"{created}:{path}", str(dest))
    finally:
        run("docker", "rm", created)
    return dest / Path(path).name


def bake_action_argv(step: dict[str, Any], definition: dict[str, Any], private: bool) -> list[str]:
    """The bake call docker/bake-action v7.1.0 makes (src/context.ts getArgs): a local `source` is
    the working directory, then --file, --set, the metadata file, a default provenance --set for
    each target without a provenance attest (mode=min,inline-only on private repositories), --load
    or --push, the targets. (--allow fs=* is added only for buildx 0.18 and later.)"""
    inputs = step["with"]
    args = ["bake"]
    for file in [f for f in str(inputs.get("files", "")).splitlines() if f.strip()]:
        args += ["--file", file]
    for line in [s for s in str(inputs.get("set", "")).splitlines() if s.strip()]:
        args += ["--set", line]
    if not inputs.get("load"):
        for name, target in definition["target"].items():
            # actions-toolkit reads each attest entry into its fields (buildx 0.20+ prints them as objects)
            attests = [entry if isinstance(entry, dict) else dict(field.split("=", 1) for field in entry.split(","))
                       for entry in target.get("attest") or []]
            if not any(a.get("type") == "provenance" for a in attests):
                mode = "mode=min,inline-only=true" if private else "mode=max"
                args += ["--set", f"{name}.attest=type=provenance,{mode},builder-id=https://github.com/o/r/actions/runs/1"]
    if inputs.get("load"):
        args.append("--load")
    if inputs.get("push"):
        args.append("--push")
    return [*args, *str(inputs["targets"]).split(",")]


def expand(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: values[m[1]], text)



# run() leaves out the calling shell's build variables: the file's own defaults are what is checked.
def bake_print(*targets: str, **env: str) -> dict:  # type: ignore[type-arg]
    done = run("docker", "buildx", "bake", "--print", *targets, cwd=REPO, env=env)
    return json.loads(done.stdout)


CANDIDATE_VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "3.16"]


def supported_versions() -> list[str]:
    """The Python versions the bake file accepts: it is their one home."""
    accepted = [v for v in CANDIDATE_VERSIONS
                if run("docker", "buildx", "bake", "--print", "base", cwd=REPO, env={"PYTHON_VERSION": v},
                       check=False).returncode == 0]
    return accepted
