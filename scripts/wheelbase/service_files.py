"""The files of a service that carry its pins, found and read without touching anything else.

A service Dockerfile declares `ARG BASE_IMAGE=<image>:<tag>@sha256:<digest>` before its first
FROM and builds a stage `FROM ${BASE_IMAGE} AS wheelhouse`; it may also declare RUNTIME_IMAGE
and PYTHON_IMAGE there. A bake file next to it (docker-bake.hcl, docker-bake.override.hcl) may
repeat them as variable defaults. Any other file, however it is named or encoded, is left alone:
in a monorepo an `ARG BASE_IMAGE=debian:...` that feeds no wheelhouse stage is not ours.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import bakefile, dockerfile
from .errors import PinError, UsageError
from .files import decode, read_bytes
from .image_ref import ImageRef
from .release import BASE_IMAGE, INTERFACE_ARG, PINS, PYTHON_IMAGE

WHEELHOUSE_STAGE = "wheelhouse"
RUNTIME_STAGE = "runtime"
BAKE_FILES = ("docker-bake.hcl", "docker-bake.override.hcl")
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox",
                       ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages", ".cache"})
_USES_BASE = re.compile(rb"FROM[ \t]+(?:--\S+[ \t]+)*\$\{?BASE_IMAGE\}?[ \t]+AS[ \t]+wheelhouse\b", re.IGNORECASE)


@dataclass(frozen=True)
class Pin:
    """One pin's value in a file, and where it sits."""

    name: str
    value: str
    start: int
    end: int
    line: int


@dataclass(frozen=True)
class PinnedFile:
    path: Path
    original: bytes
    text: str
    pins: Mapping[str, Pin]  # by ARG name; BASE_IMAGE is always there
    base: ImageRef
    # A Dockerfile's `ARG WHEELBASE_INTERFACE=` (None: it declares none, so it was made before wheelhouses
    # shipped their build steps, and carries copies of them); None for a bake file.
    interface: str | None = None
    is_dockerfile: bool = False

    def rewritten(self, values: Mapping[str, str]) -> str:
        """The text with each pin the file has set to its new value; pins it lacks stay absent."""
        text = self.text
        for pin in sorted(self.pins.values(), key=lambda p: -p.start):
            if values.get(pin.name):
                text = text[: pin.start] + values[pin.name] + text[pin.end:]
        return text


def _check_text(path: Path, text: str) -> None:
    if "\r\n" in text:
        raise PinError(f"{path} has CRLF line endings; convert it to LF (for example `sed -i 's/\\r$//' {path}`)")
    if "\x00" in text:
        raise PinError(f"{path} is not a text file")


def _pinned(path: Path, original: bytes, text: str, pins: dict[str, Pin], interface: str | None = None,
            is_dockerfile: bool = False) -> PinnedFile:
    base = pins[BASE_IMAGE]
    for pin in pins.values():
        if pin.value:
            try:
                ImageRef.parse(pin.value)
            except UsageError as exc:
                raise PinError(f"{path}:{pin.line}: {exc}") from exc
    if not base.value:
        raise PinError(f"{path}:{base.line}: {BASE_IMAGE} is empty; set it to the wheelhouse's IMAGE:TAG and run `wheelbase pin`")
    return PinnedFile(path, original, text, pins, ImageRef.parse(base.value), interface, is_dockerfile)


def _one(path: Path, found: list[Pin], what: str) -> Pin | None:
    if len(found) > 1:
        raise PinError(f"{path} has {len(found)} candidate {what} lines (lines {', '.join(str(p.line) for p in found)}); "
                       "keep exactly one")
    return found[0] if found else None


def is_service_dockerfile(parsed: dockerfile.Dockerfile) -> bool:
    return any(s.name == WHEELHOUSE_STAGE and s.image in ("$" + BASE_IMAGE, "${" + BASE_IMAGE + "}") for s in parsed.stages)


def read_dockerfile(path: Path, data: bytes | None = None) -> PinnedFile:
    original = read_bytes(path) if data is None else data
    text = decode(path, original)
    _check_text(path, text)
    parsed = dockerfile.parse(text)
    if not parsed.stages:
        raise PinError(f"{path} has no FROM instruction; it is not a Dockerfile")
    pins: dict[str, Pin] = {}
    for name in PINS:
        args = [a for a in parsed.global_args(name) if a.value is not None]
        for arg in args:
            if not arg.literal:
                raise PinError(f"{path}:{arg.line}: the default of ARG {name} is not a literal image reference "
                               "(it has quotes inside, an escape or a variable); write IMAGE:TAG@DIGEST as it is")
        pin = _one(path, [Pin(name, a.value or "", a.start, a.end, a.line) for a in args], f"`ARG {name}=`")
        if pin is not None:
            pins[name] = pin
    if BASE_IMAGE not in pins:
        inside = [a for a in parsed.stage_args(BASE_IMAGE) if a.value is not None]
        if inside:
            raise PinError(f"{path}:{inside[0].line}: ARG {BASE_IMAGE} is declared inside a stage, where FROM cannot "
                           f"see it; move it above the first FROM")
        raise PinError(f"{path} has no `ARG {BASE_IMAGE}=<image>:<tag>@sha256:<digest>` line; add one before "
                       f"`FROM ${{{BASE_IMAGE}}} AS {WHEELHOUSE_STAGE}` (see consumer-template/)")
    if not is_service_dockerfile(parsed):
        raise PinError(f"{path} declares {BASE_IMAGE} but no stage is `FROM ${{{BASE_IMAGE}}} AS {WHEELHOUSE_STAGE}`; "
                       "it is not a service built on a wheelhouse")
    if owns_python_image(parsed):
        pins.pop(PYTHON_IMAGE, None)
    return _pinned(path, original, text, pins, _interface(path, parsed), is_dockerfile=True)


def _interface(path: Path, parsed: dockerfile.Dockerfile) -> str | None:
    """The interface a service Dockerfile declares it speaks, a plain number, or None."""
    declared = [a for a in parsed.global_args(INTERFACE_ARG) if a.value is not None]
    if not declared:
        return None
    arg = declared[-1]
    if not arg.literal or not arg.value or not arg.value.isdigit():
        raise PinError(f"{path}:{arg.line}: ARG {INTERFACE_ARG}={arg.value} is not a number; write the interface the "
                       "Dockerfile speaks, as the template does (ARG WHEELBASE_INTERFACE=1)")
    return arg.value


def owns_python_image(parsed: dockerfile.Dockerfile) -> bool:
    """A service deployed on its own Python image builds `FROM ${PYTHON_IMAGE} AS runtime`: that
    PYTHON_IMAGE is the organisation's, not the wheelhouse's, and no pin of ours."""
    return any(s.name == RUNTIME_STAGE and s.image in ("$" + PYTHON_IMAGE, "${" + PYTHON_IMAGE + "}") for s in parsed.stages)


def read_bakefile(path: Path) -> PinnedFile | None:
    """A bake file's pin variables, or None when it sets no BASE_IMAGE default (it defers to the Dockerfile)."""
    original = read_bytes(path)
    text = decode(path, original)
    _check_text(path, text)
    found = bakefile.variables(text)
    pins: dict[str, Pin] = {}
    for name in PINS:
        variables = found.get(name, [])
        for variable in variables:
            if variable.value is None and variable.line:
                raise PinError(f"{path}:{variable.line}: the default of variable \"{name}\" is not a plain string; "
                               "write IMAGE:TAG@DIGEST in quotes")
        pin = _one(path, [Pin(name, v.value or "", v.start, v.end, v.line) for v in variables if v.value is not None],
                   f'`variable "{name}"`')
        if pin is not None:
            pins[name] = pin
    if BASE_IMAGE not in pins or not pins[BASE_IMAGE].value:
        return None
    return _pinned(path, original, text, pins)


def _is_dockerfile(name: str) -> bool:
    return name == "Dockerfile" or name.endswith((".Dockerfile", ".dockerfile")) or name.startswith("Dockerfile.")


def _walk(root: Path) -> Iterator[Path]:
    """Files under root, never entering the folders in SKIP_DIRS (a node_modules is not even listed)."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if _is_dockerfile(name):
                yield Path(folder) / name


def _service_in(path: Path) -> PinnedFile | None:
    """A Dockerfile met while walking a folder: ours if it builds a wheelhouse stage from BASE_IMAGE."""
    try:
        data = path.read_bytes()
    except OSError:
        return None  # unreadable and not named: not ours to judge
    if b"BASE_IMAGE" not in data or not _USES_BASE.search(data):
        return None
    parsed = dockerfile.parse(decode(path, data))  # a service Dockerfile that is not UTF-8 is reported
    return read_dockerfile(path, data) if is_service_dockerfile(parsed) else None


def discover(paths: list[Path]) -> list[PinnedFile]:
    """The pinned files under the paths: a file named on the command line must carry a pin; in a
    folder, every service Dockerfile and the bake files next to it."""
    found: list[PinnedFile] = []
    for root in paths:
        if not root.exists():
            raise UsageError(f"{root} does not exist")
        if root.is_file():
            pinned = read_bakefile(root) if root.suffix == ".hcl" else read_dockerfile(root)
            if pinned is None:
                raise PinError(f"{root} sets no {BASE_IMAGE} default to pin")
            found.append(pinned)
            continue
        services = [s for s in map(_service_in, _walk(root)) if s is not None]
        if not services:
            raise PinError(f"no Dockerfile under {root} builds `FROM ${{{BASE_IMAGE}}} AS {WHEELHOUSE_STAGE}`; "
                           "is this a service made from the template?")
        found += services
        for folder in sorted({s.path.parent for s in services}):
            found += [b for b in (read_bakefile(folder / name) for name in BAKE_FILES if (folder / name).is_file())
                      if b is not None]
    unique: dict[Path, PinnedFile] = {}
    for pinned in found:
        unique.setdefault(pinned.path.resolve(), pinned)
    return list(unique.values())
