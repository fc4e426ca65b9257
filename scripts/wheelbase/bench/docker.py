"""What only the benchmark asks of the engine: builds, containers, sizes, cache. Calls go through
the CLI's seam (`engine.run`)."""

from __future__ import annotations

import gzip
import json
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from ..engine import bake, bake_definition, docker, run

__all__ = ["bake", "bake_definition", "build", "filesystem_size", "image_size", "prune_cache_mounts", "remove", "run", "start",
           "versions"]
from ..errors import EngineError


def build(context: Path, *, tag: str, target: str | None = None, no_cache: bool = False,
          build_args: Mapping[str, str] | None = None, secrets: Sequence[str] = (),
          dockerfile: Path | None = None) -> None:
    """`docker buildx build --load` of a Dockerfile in context."""
    args = ["buildx", "build", "--progress", "quiet", "--tag", tag]
    if dockerfile:
        args += ["--file", str(dockerfile)]
    if target:
        args += ["--target", target]
    if no_cache:
        args.append("--no-cache")
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


def filesystem_size(image: str) -> int:
    """Bytes of an image's file system as one tree (`docker export` of a container of it): unlike
    the sum of its layers, files a later layer deletes do not count."""
    container = run(["create", image]).stdout.strip()
    try:
        export = subprocess.Popen([docker(), "export", container], stdout=subprocess.PIPE)
        stream = export.stdout
        assert stream is not None
        size = sum(len(chunk) for chunk in iter(lambda: stream.read(1 << 20), b""))
        if export.wait():
            raise EngineError(f"`docker export` of a container of {image} failed")
        return size
    finally:
        remove(container)


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
    subprocess.run([docker(), "rm", "-f", name], capture_output=True)


def prune_cache_mounts() -> None:
    """Empties BuildKit's cache mounts (pip and apt caches), for a truly cold build."""
    run(["builder", "prune", "--force", "--filter", "type=exec.cachemount"])


def versions() -> dict[str, str]:
    server = run(["version", "--format", "{{.Server.Version}}"]).stdout.strip()
    buildx = run(["buildx", "version"]).stdout.split()[1]
    return {"engine": server, "buildx": buildx}
