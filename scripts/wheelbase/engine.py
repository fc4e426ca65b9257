"""The one seam to the Docker engine, buildx and registries: every call goes through here.

Registry access uses `docker buildx imagetools`, so authentication follows Docker's own
configuration (~/.docker/config.json, credential helpers) and nothing here handles secrets.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .errors import EngineError, RegistryError
from .refs import ImageRef

REGISTRY_TIMEOUT = float(os.environ.get("WHEELBASE_REGISTRY_TIMEOUT", "30"))

# What the registry said, mapped to what the user should do about it.
_REGISTRY_FAILURES = (
    ("not found", "{ref} does not exist in the registry; check the tag, or publish it with `docker buildx bake base --push`"),
    ("manifest unknown", "{ref} does not exist in the registry; check the tag, or publish it with `docker buildx bake base --push`"),
    ("connection refused", "the registry for {ref} refused the connection; is it running and is the address right?"),
    ("no such host", "the registry host of {ref} cannot be resolved; check the address"),
    ("no basic auth credentials", "the registry for {ref} requires a login (401) and Docker has none for it; run `docker login {host}`"),
    ("authorization failed", "the registry refused the credentials for {ref} (401); run `docker login {host}` again"),
    ("unauthorized", "the registry refused {ref} as unauthorized (401); run `docker login {host}`"),
    ("authentication required", "the registry refused {ref} as unauthorized (401); run `docker login {host}`"),
    ("denied", "the registry denied access to {ref}; check `docker login` and the repository's permissions"),
    ("timeout", "the registry for {ref} did not answer in time; check the address and the network"),
    ("server gave http response to https client", "the registry for {ref} speaks plain HTTP; list it in the engine's insecure-registries"),
)


@dataclass(frozen=True)
class RemoteImage:
    """What the registry holds for a tag: its digest and, per platform, the image labels."""

    ref: ImageRef
    digest: str
    labels: Mapping[str, str]
    platforms: tuple[str, ...] = field(default=())


def _docker() -> str:
    found = shutil.which(os.environ.get("WHEELBASE_DOCKER", "docker"))
    if not found:
        raise EngineError("the docker CLI is not on PATH; install Docker Engine 26+ with the buildx plugin")
    return found


def run(
    args: Sequence[str],
    *,
    timeout: float | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Runs `docker ARGS...`; raises EngineError on a missing CLI, a timeout or a non-zero exit."""
    full_env = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(
            [_docker(), *args], cwd=cwd, env=full_env, text=True, timeout=timeout,
            stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None,
        )
    except subprocess.TimeoutExpired as exc:
        raise EngineError(f"`docker {' '.join(args[:3])}` did not finish in {timeout:.0f} s", timed_out=True) from exc
    if done.returncode:
        detail = (done.stderr or "").strip().splitlines()
        last = detail[-1] if detail else f"exit code {done.returncode}"
        raise EngineError(f"`docker {' '.join(args[:3])}` failed: {last}", output=done.stderr or "")
    return done


def _registry_error(ref: ImageRef, detail: str) -> RegistryError:
    lowered = detail.lower()
    first = ref.repository.split("/", 1)[0]
    host = first if "/" in ref.repository and ("." in first or ":" in first or first == "localhost") else "docker.io"
    for needle, message in _REGISTRY_FAILURES:
        if needle in lowered:
            return RegistryError(message.format(ref=ref.name, host=host))
    return RegistryError(f"the registry could not resolve {ref.name}: {detail}")


def inspect_remote(ref: ImageRef, timeout: float = REGISTRY_TIMEOUT) -> RemoteImage:
    """Asks the registry for the current digest and labels of a tag (or digest)."""
    try:
        done = run(["buildx", "imagetools", "inspect", str(ref), "--format", "{{json .}}"], timeout=timeout)
    except EngineError as exc:
        if exc.timed_out:
            raise RegistryError(f"the registry for {ref.name} did not answer within {timeout:.0f} s; "
                                "check the address and the network") from exc
        raise _registry_error(ref, str(exc)) from exc
    data = json.loads(done.stdout)
    manifest, image = data.get("manifest") or {}, data.get("image") or {}
    digest = manifest.get("digest")
    if not digest:
        raise RegistryError(f"the registry returned no digest for {ref.name}")
    if "config" in image or "architecture" in image:
        configs = {f"{image.get('os')}/{image.get('architecture')}": image}
    else:
        configs = dict(image)
    labels: dict[str, str] = {}
    for config in configs.values():
        labels.update((config.get("config") or {}).get("Labels") or {})
    return RemoteImage(ref=ref, digest=digest, labels=labels, platforms=tuple(sorted(configs)))


def bake(
    targets: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    overrides: Sequence[str] = (),
    extra: Sequence[str] = (),
    files: Sequence[str] = (),
    capture: bool = True,
) -> subprocess.CompletedProcess[str]:
    args = ["buildx", "bake"]
    for file in files:
        args += ["--file", file]
    for override in overrides:
        args += ["--set", override]
    return run([*args, *extra, *targets], cwd=cwd, env=env, capture=capture)


def bake_definition(targets: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None,
                    files: Sequence[str] = ()) -> dict[str, object]:
    """The resolved bake definition (`docker buildx bake --print`)."""
    done = bake(targets, cwd=cwd, env=env, files=files, extra=["--print"])
    return dict(json.loads(done.stdout))


def export_files(image: str, path: str, dest: Path) -> Path:
    """Copies a folder out of a local image (which may be FROM scratch) into dest."""
    created = run(["create", image, "/none"]).stdout.strip()
    try:
        run(["cp", f"{created}:{path}", str(dest)])
    finally:
        run(["rm", "-f", created])
    return dest / Path(path).name


def pull(ref: str) -> None:
    run(["pull", "--quiet", ref], timeout=REGISTRY_TIMEOUT * 4)


def build(context: Path, *, tag: str, target: str | None = None, no_cache: bool = False,
          build_args: Mapping[str, str] | None = None, network: str | None = None,
          secrets: Sequence[str] = ()) -> None:
    """`docker buildx build --load` of a Dockerfile in context."""
    args = ["buildx", "build", "--progress", "quiet", "--tag", tag]
    if target:
        args += ["--target", target]
    if no_cache:
        args.append("--no-cache")
    if network:
        args += ["--network", network]
    for key, value in (build_args or {}).items():
        args += ["--build-arg", f"{key}={value}"]
    for secret in secrets:
        args += ["--secret", secret]
    run([*args, str(context)])


def image_size(image: str) -> int:
    """Bytes of a local image's layers for the engine's machine, uncompressed, read from `docker save`.

    `docker image inspect`'s Size cannot be compared across images on the containerd image
    store: it counts built layers compressed and imported ones as they were loaded."""
    arch = run(["version", "--format", "{{.Server.Arch}}"]).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="wheelbase-size-") as scratch:
        archive = Path(scratch) / "image.tar"
        run(["save", image, "--output", str(archive)])
        with tarfile.open(archive) as saved:
            entries = json.load(_member(saved, "manifest.json"))
            ours = [e for e in entries if json.load(_member(saved, e["Config"])).get("architecture") == arch]
            if len(ours) != 1:
                raise EngineError(f"{image} holds {len(ours)} images for linux/{arch}; expected one")
            return sum(_uncompressed_size(_member(saved, layer)) for layer in ours[0]["Layers"])


def _member(saved: tarfile.TarFile, name: str) -> IO[bytes]:
    blob = saved.extractfile(name)
    if blob is None:
        raise EngineError(f"`docker save` wrote no file {name}")
    return blob


def _uncompressed_size(blob: IO[bytes]) -> int:
    head = blob.read(2)
    blob.seek(0)
    stream: IO[bytes] | gzip.GzipFile = gzip.GzipFile(fileobj=blob) if head == b"\x1f\x8b" else blob
    return sum(len(chunk) for chunk in iter(lambda: stream.read(1 << 20), b""))


def start(image: str, *, name: str, env: Mapping[str, str] | None = None, command: Sequence[str] = (),
          options: Sequence[str] = ()) -> str:
    """`docker run -d --network host`: tests and benchmarks reach containers on loopback only."""
    args = ["run", "-d", "--name", name, "--network", "host", *options]
    for key, value in (env or {}).items():
        args += ["-e", f"{key}={value}"]
    return run([*args, image, *command]).stdout.strip()


def remove(name: str) -> None:
    subprocess.run([_docker(), "rm", "-f", name], capture_output=True)


def prune_cache_mounts() -> None:
    """Empties BuildKit's cache mounts (pip and apt caches), for a truly cold build."""
    run(["builder", "prune", "--force", "--filter", "type=exec.cachemount"])


def versions() -> dict[str, str]:
    server = run(["version", "--format", "{{.Server.Version}}"]).stdout.strip()
    buildx = run(["buildx", "version"]).stdout.split()[1]
    return {"engine": server, "buildx": buildx}
