"""The one seam to the Docker CLI, buildx and registries: every call the CLI makes goes through here.

Registry access uses `docker buildx imagetools`, so authentication follows Docker's own
configuration (~/.docker/config.json, credential helpers) and nothing here handles secrets.
A registry failure is classified by the HTTP status buildx reports, after every name and URL
has been taken out of its message: a repository called `unauthorized` is not a 401.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import EngineError, RegistryError, UsageError
from .image_ref import ImageRef

DEFAULT_REGISTRY_TIMEOUT = 30.0
_STATUS = re.compile(r":\s(?P<code>[1-5][0-9]{2})\s[A-Z][A-Za-z ]*$")
_URL = re.compile(r"\"?[a-z][a-z0-9+.-]*://[^\s\"]*[^\s\":]\"?")


@dataclass(frozen=True)
class RemoteImage:
    """What the registry holds for a reference: its digest and each platform's image labels."""

    ref: ImageRef
    digest: str
    labels_by_platform: Mapping[str, Mapping[str, str]]


def docker() -> str:
    """The docker CLI ($WHEELBASE_DOCKER, else `docker` on PATH)."""
    wanted = os.environ.get("WHEELBASE_DOCKER", "docker")
    found = shutil.which(wanted)
    if not found:
        raise EngineError(f"the docker CLI {wanted!r} was not found; install Docker Engine 26+ with the buildx plugin"
                          + (" or correct WHEELBASE_DOCKER" if "WHEELBASE_DOCKER" in os.environ else ""))
    return found


def registry_timeout() -> float:
    raw = os.environ.get("WHEELBASE_REGISTRY_TIMEOUT", "")
    if not raw:
        return DEFAULT_REGISTRY_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise UsageError(f"WHEELBASE_REGISTRY_TIMEOUT={raw!r} is not a number of seconds from 1 to 3600")
    return seconds


# What is kept of a command's output: stdout whole up to this (more is refused: no answer wheelbase
# reads is that large), stderr's last lines up to this (the reason of a failure is at its end).
MAX_STDOUT = 16 << 20
MAX_STDERR_TAIL = 256 << 10


def _read(stream: IO[str], keep: list[str], limit: int, *, tail: bool, on_line: Callable[[str], None] | None,
          overflow: list[bool]) -> None:
    size = 0
    for line in stream:
        if on_line is not None:
            on_line(line.rstrip("\n"))
        keep.append(line)
        size += len(line)
        while size > limit and keep:
            if not tail:
                overflow.append(True)
                keep.clear()
                return drain(stream)
            size -= len(keep.pop(0))


def drain(stream: IO[str]) -> None:
    for _ in stream:
        pass


def _stop(process: subprocess.Popen[str]) -> None:
    """Ends a command and everything it started (docker runs plugins, buildx runs a build): its
    process group gets SIGTERM, then SIGKILL if it has not gone within five seconds."""
    for signum, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run(args: Sequence[str], *, timeout: float | None = None, cwd: Path | None = None,
        env: Mapping[str, str] | None = None, capture: bool = True,
        on_line: Callable[[str], None] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs `docker ARGS...`; raises EngineError on a timeout or a non-zero exit, with docker's last line.
    With on_line, each line docker writes to stderr is handed over as it comes (progress). The command
    runs in a process group of its own, which is ended with everything in it if this call is
    interrupted (a signal, a timeout): no build outlives the command that started it."""
    command = [docker(), *args]
    pipe = subprocess.PIPE if capture or on_line is not None else None
    process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})}, text=True, errors="replace",
                               stdout=pipe, stderr=pipe, stdin=subprocess.DEVNULL, start_new_session=True)
    out: list[str] = []
    err: list[str] = []
    overflow: list[bool] = []
    readers = []
    if pipe is not None:
        assert process.stdout is not None and process.stderr is not None
        readers = [threading.Thread(target=_read, args=(process.stdout, out, MAX_STDOUT), daemon=True,
                                    kwargs={"tail": False, "on_line": None, "overflow": overflow}),
                   threading.Thread(target=_read, args=(process.stderr, err, MAX_STDERR_TAIL), daemon=True,
                                    kwargs={"tail": True, "on_line": on_line, "overflow": overflow})]
        for reader in readers:
            reader.start()
    try:
        code = process.wait(timeout=timeout)
        for reader in readers:
            reader.join()
    except subprocess.TimeoutExpired as exc:
        _stop(process)
        raise EngineError(f"`docker {' '.join(args[:3])}` did not finish in {timeout:.0f} s", timed_out=True) from exc
    except BaseException:
        _stop(process)
        raise
    finally:
        for reader in readers:  # the command has ended (or was ended): its pipes are at their end
            reader.join(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    stdout, stderr = "".join(out), "".join(err)
    if overflow:
        raise EngineError(f"`docker {' '.join(args[:3])}` answered more than {MAX_STDOUT >> 20} MiB; wheelbase reads no "
                          "answer that large", output=stderr)
    if code:
        detail = stderr.strip().splitlines()
        last = detail[-1] if detail else f"exit code {code}"
        raise EngineError(f"`docker {' '.join(args[:3])}` failed: {last}", output=stderr)
    return subprocess.CompletedProcess(command, code, stdout, stderr)


def bake(targets: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None,
         overrides: Sequence[str] = (), extra: Sequence[str] = (), capture: bool = True,
         on_line: Callable[[str], None] | None = None) -> subprocess.CompletedProcess[str]:
    args = ["buildx", "bake"]
    for override in overrides:
        args += ["--set", override]
    return run([*args, *extra, *targets], cwd=cwd, env=env, capture=capture, on_line=on_line)


def bake_definition(targets: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The resolved bake definition (`docker buildx bake --print`): the bake file says what a build is."""
    return dict(json.loads(bake(targets, cwd=cwd, env=env, extra=["--print"]).stdout))


def registry_failure(ref: ImageRef, detail: str) -> RegistryError:
    """One sentence for what the registry answered, from its status (or buildx's own words), never from names."""
    text = detail.strip().splitlines()[-1] if detail.strip() else ""
    text = _URL.sub("<url>", text)
    for name in sorted({str(ref), ref.name, ref.repository, ref.host}, key=len, reverse=True):
        text = text.replace(name, "<ref>")
    found = _STATUS.search(text)
    code = int(found["code"]) if found else None
    lowered = text.lower()
    name, host = ref.name, ref.host
    if "failed to authorize" in lowered or ("failed to fetch" in lowered and "token" in lowered):
        # The registry sent buildx to a token service, and that service's answer (whatever its status) is the problem.
        status = f" ({found.group(0).lstrip(': ')})" if found else ""
        return RegistryError(f"the registry for {name} asked for a token, and its token service refused it{status}: this is a "
                             f"login problem, not a missing image; run `docker login {host}` or check the registry's "
                             "token service")
    if code == 404 or (code is None and lowered.endswith(": not found")):
        if ref.digest:
            return RegistryError(f"the registry has no image {ref.digest} in {ref.repository}; check the digest "
                                 f"(`wheelbase resolve {ref.name}` prints the current one)")
        return RegistryError(f"{name} does not exist in the registry; check the tag, or publish the release with "
                             "`docker buildx bake release --push`")
    if code == 401 or (code is None and "no basic auth credentials" in lowered):
        return RegistryError(f"the registry for {name} requires a login (401) and Docker has none that it accepts; "
                             f"run `docker login {host}`")
    if code == 403:
        return RegistryError(f"the registry denied access to {name} (403); check `docker login {host}` and the "
                             "repository's permissions")
    if code == 429:
        return RegistryError(f"the registry for {name} is rate-limiting requests (429); wait and run again")
    if code is not None:
        reason = found.group(0).lstrip(": ") if found else str(code)
        return RegistryError(f"the registry for {name} answered {reason}; it is failing, not this request: try again later")
    if "connection refused" in lowered:
        return RegistryError(f"the registry for {name} refused the connection; is it running and is the address right?")
    if "no such host" in lowered:
        return RegistryError(f"the registry host of {name} cannot be resolved; check the address")
    if "http response to https client" in lowered:
        return RegistryError(f"the registry for {name} speaks plain HTTP; list {host} in the engine's insecure-registries")
    if "timeout" in lowered or "deadline exceeded" in lowered:
        return RegistryError(f"the registry for {name} did not answer in time; check the address and the network")
    return RegistryError(f"the registry could not resolve {name}: {detail.strip().splitlines()[-1] if detail.strip() else 'no detail'}")


def inspect_remote(ref: ImageRef) -> RemoteImage:
    """Asks the registry for the digest and labels a tag (or digest) has now."""
    timeout = registry_timeout()
    docker()  # a missing CLI is the engine's failure, not the registry's
    try:
        done = run(["buildx", "imagetools", "inspect", str(ref), "--format", "{{json .}}"], timeout=timeout)
    except EngineError as exc:
        if exc.timed_out:
            raise RegistryError(f"the registry for {ref.name} did not answer within {timeout:.0f} s; "
                                "check the address and the network") from exc
        raise registry_failure(ref, exc.output or str(exc)) from exc
    data = json.loads(done.stdout)
    manifest, image = data.get("manifest") or {}, data.get("image") or {}
    digest = manifest.get("digest")
    if not isinstance(digest, str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise RegistryError(f"the registry returned no valid digest for {ref.name}")
    configs = {f"{image.get('os')}/{image.get('architecture')}": image} if "config" in image or "architecture" in image \
        else dict(image)
    labels = {platform: dict((config.get("config") or {}).get("Labels") or {}) for platform, config in configs.items()}
    return RemoteImage(ref=ref, digest=digest, labels_by_platform=labels)
