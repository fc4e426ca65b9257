"""The files that carry a service's pins, found and read without touching anything else.

A service Dockerfile declares `ARG BASE_IMAGE=<image>:<tag>@sha256:<digest>` before its first
FROM and builds a stage `FROM ${BASE_IMAGE} AS wheelhouse`; it may also declare RUNTIME_IMAGE and
PYTHON_IMAGE there. Every file beside it that a build of the service reads may set them again,
and wins over the Dockerfile's defaults: the bake files (docker-bake.hcl, docker-bake.json and
their .override) as variable defaults, and the compose files as a service's build args. All of
them are read here (dockerfile.py, bakefile.py, composefile.py), so `pin` moves every pin and
`pin --check` misses none. A value wheelbase cannot know (an interpolation, a heredoc, an arg
taken from the environment) is refused, naming the file and line: never skipped, never green.

A service deployed on its own Python image builds `FROM ${PYTHON_IMAGE} AS runtime`: that image is
the organisation's, not a pin of wheelbase's, wherever it is spelled (the Dockerfile, its bake
file, its compose file).

Walking a folder, wheelbase enters no folder in SKIP_DIRS, reads only regular files, and reports
every folder it could not list, every file named like one of these that is not a regular file
(a FIFO is never opened), and every symlink to nothing: one error naming them all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import bakefile, composefile, dockerfile
from .errors import FileError, PinError, UsageError
from .files import decode, kind, read_bytes, reason
from .image_ref import ImageRef
from .release import BASE_IMAGE, INTERFACE_ARG, PINS, PYTHON_IMAGE

WHEELHOUSE_STAGE = "wheelhouse"
RUNTIME_STAGE = "runtime"
BAKE_FILES = ("docker-bake.hcl", "docker-bake.override.hcl", "docker-bake.json", "docker-bake.override.json")
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox",
                       ".mypy_cache", ".pytest_cache", ".ruff_cache", "site-packages", ".cache"})


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
    pins: tuple[Pin, ...]
    base: ImageRef  # the wheelhouse tag this file's pins follow
    # A Dockerfile's `ARG WHEELBASE_INTERFACE=` (None: it declares none, so it was made before wheelhouses
    # shipped their build steps, and carries copies of them); None for a bake or compose file.
    interface: str | None = None
    is_dockerfile: bool = False
    own_python_image: bool = False  # deployed on its own Python image: PYTHON_IMAGE is no pin of ours

    @property
    def names(self) -> set[str]:
        return {pin.name for pin in self.pins}

    def rewritten(self, values: Mapping[str, str]) -> str:
        """The text with each pin the file has set to its new value; pins it lacks stay absent."""
        text = self.text
        for pin in sorted(self.pins, key=lambda p: -p.start):
            if values.get(pin.name):
                text = text[: pin.start] + values[pin.name] + text[pin.end:]
        return text


def _check_text(path: Path, text: str) -> None:
    if "\r\n" in text:
        raise PinError(f"{path} has CRLF line endings; convert it to LF (for example `sed -i 's/\\r$//' {path}`)")
    if "\x00" in text:
        raise PinError(f"{path} is not a text file")


def _checked(path: Path, pins: list[Pin]) -> list[Pin]:
    for pin in pins:
        if pin.value:
            try:
                ImageRef.parse(pin.value)
            except UsageError as exc:
                raise PinError(f"{path}:{pin.line}: {exc}") from exc
    return pins


def _one(path: Path, found: list[Pin], what: str) -> Pin | None:
    if len(found) > 1:
        raise PinError(f"{path} has {len(found)} candidate {what} lines (lines {', '.join(str(p.line) for p in found)}); "
                       "keep exactly one")
    return found[0] if found else None


def _read(path: Path, data: bytes | None = None) -> tuple[bytes, str]:
    original = read_bytes(path) if data is None else data
    text = decode(path, original)
    _check_text(path, text)
    return original, text


def parse_dockerfile(path: Path, text: str) -> dockerfile.Dockerfile:
    try:
        parsed = dockerfile.parse(text)
    except dockerfile.Unsure as exc:
        raise PinError(f"{path}:{exc.line or 1}: {exc}; wheelbase reads a Dockerfile only as BuildKit does") from exc
    return parsed


def is_service_dockerfile(parsed: dockerfile.Dockerfile) -> bool:
    return any(s.name == WHEELHOUSE_STAGE and s.image in ("$" + BASE_IMAGE, "${" + BASE_IMAGE + "}") for s in parsed.stages)


def owns_python_image(parsed: dockerfile.Dockerfile) -> bool:
    """A service deployed on its own Python image builds `FROM ${PYTHON_IMAGE} AS runtime`: that
    PYTHON_IMAGE is the organisation's, not the wheelhouse's, and no pin of ours."""
    return any(s.name == RUNTIME_STAGE and s.image in ("$" + PYTHON_IMAGE, "${" + PYTHON_IMAGE + "}") for s in parsed.stages)


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


def read_dockerfile(path: Path, data: bytes | None = None) -> PinnedFile:
    original, text = _read(path, data)
    parsed = parse_dockerfile(path, text)
    if not parsed.stages:
        raise PinError(f"{path} has no FROM instruction; it is not a Dockerfile")
    pins: list[Pin] = []
    names = [n for n in PINS if not (n == PYTHON_IMAGE and owns_python_image(parsed))]
    for name in names:
        args = [a for a in parsed.global_args(name) if a.value is not None]
        for arg in args:
            if not arg.literal:
                raise PinError(f"{path}:{arg.line}: the default of ARG {name} is not a literal image reference "
                               "(it has quotes inside, an escape, a variable or a line break); write IMAGE:TAG@DIGEST as it is")
        pin = _one(path, [Pin(name, a.value or "", a.start, a.end, a.line) for a in args], f"`ARG {name}=`")
        if pin is not None:
            pins.append(pin)
    base = next((p for p in pins if p.name == BASE_IMAGE), None)
    if base is None:
        inside = [a for a in parsed.stage_args(BASE_IMAGE) if a.value is not None]
        if inside:
            raise PinError(f"{path}:{inside[0].line}: ARG {BASE_IMAGE} is declared inside a stage, where FROM cannot "
                           f"see it; move it above the first FROM")
        raise PinError(f"{path} has no `ARG {BASE_IMAGE}=<image>:<tag>@sha256:<digest>` line; add one before "
                       f"`FROM ${{{BASE_IMAGE}}} AS {WHEELHOUSE_STAGE}` (see consumer-template/)")
    if not is_service_dockerfile(parsed):
        raise PinError(f"{path} declares {BASE_IMAGE} but no stage is `FROM ${{{BASE_IMAGE}}} AS {WHEELHOUSE_STAGE}`; "
                       "it is not a service built on a wheelhouse")
    _checked(path, pins)
    if not base.value:
        raise PinError(f"{path}:{base.line}: {BASE_IMAGE} is empty; set it to the wheelhouse's IMAGE:TAG and run `wheelbase pin`")
    return PinnedFile(path, original, text, tuple(pins), ImageRef.parse(base.value), _interface(path, parsed), is_dockerfile=True,
                      own_python_image=owns_python_image(parsed))


def _companion(path: Path, pins: list[Pin], base: ImageRef | None, original: bytes, text: str) -> PinnedFile | None:
    """A bake or compose file's pins, following the wheelhouse tag it sets or, else, its Dockerfile's."""
    _checked(path, pins)
    own = next((p for p in pins if p.name == BASE_IMAGE and p.value), None)
    if own is not None:
        base = ImageRef.parse(own.value)
    if not pins:
        return None
    if base is None:
        raise PinError(f"{path} sets {', '.join(sorted({p.name for p in pins}))} but no {BASE_IMAGE}, and no service "
                       f"Dockerfile beside it says which wheelhouse it follows; pin it with its folder")
    return PinnedFile(path, original, text, tuple(pins), base)


def read_bakefile(path: Path, base: ImageRef | None = None, names: tuple[str, ...] = PINS) -> PinnedFile | None:
    """A bake file's pin variables; None when it sets none (it defers to the Dockerfile)."""
    original, text = _read(path)
    try:
        found = bakefile.variables(text, json_file=path.suffix == ".json")
    except bakefile.Unsure as exc:
        raise PinError(f"{path}:{exc.line or 1}: {exc}; wheelbase reads a bake file only as bake does") from exc
    pins: list[Pin] = []
    for name in names:
        variables = found.get(name, [])
        if len(variables) > 1:
            raise PinError(f"{path} defines {name} {len(variables)} times (lines {', '.join(str(v.line) for v in variables)}); "
                           "keep exactly one")
        for variable in variables:
            if variable.value is None and variable.kind not in ("null", "none"):
                raise PinError(f"{path}:{variable.line}: the default of {name} is {variable.kind}, whose value wheelbase "
                               "cannot know; write IMAGE:TAG@DIGEST as a plain string, or \"\" to use the Dockerfile's")
            if variable.value:
                pins.append(Pin(name, variable.value, variable.start, variable.end, variable.line))
    return _companion(path, pins, base, original, text)


def read_composefile(path: Path, dockerfile_path: Path, base: ImageRef | None = None,
                     names: tuple[str, ...] = PINS) -> PinnedFile | None:
    """A compose file's build args for the pins, of the services that build `dockerfile_path`."""
    original, text = _read(path)
    try:
        args = composefile.build_args(text)
    except composefile.Unsure as exc:
        raise PinError(f"{path}:{exc.line or 1}: {exc}; wheelbase reads a compose file only as Compose does") from exc
    pins: list[Pin] = []
    seen: set[int] = set()
    for arg in args:
        if arg.name not in names or (path.parent / arg.dockerfile).resolve() != dockerfile_path.resolve():
            continue
        if arg.value is None:
            raise PinError(f"{path}:{arg.line}: service {arg.service} sets the build arg {arg.name} by interpolation or from "
                           "the environment, whose value wheelbase cannot know; write IMAGE:TAG@DIGEST, or leave it to "
                           "the Dockerfile")
        if arg.node not in seen:  # one node, written once, however many services share it through an anchor
            seen.add(arg.node)
            pins.append(Pin(arg.name, arg.value, arg.start, arg.end, arg.line))
    return _companion(path, pins, base, original, text)


def _is_dockerfile(name: str) -> bool:
    return name == "Dockerfile" or name.endswith((".Dockerfile", ".dockerfile")) or name.startswith("Dockerfile.")


def _walk(root: Path, problems: list[str]) -> Iterator[Path]:
    """Dockerfiles under root, never entering the folders in SKIP_DIRS; folders that cannot be listed,
    and Dockerfile names that are not regular files, go to `problems`."""
    def unreadable(exc: OSError) -> None:
        problems.append(f"cannot list {exc.filename}: {reason(exc)}")

    for folder, dirs, files in os.walk(root, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if _is_dockerfile(name):
                yield Path(folder) / name


def _service_in(path: Path, problems: list[str]) -> PinnedFile | None:
    """A Dockerfile met while walking a folder: ours if BuildKit would build a wheelhouse stage from BASE_IMAGE."""
    try:
        data = read_bytes(path)
    except FileError as exc:
        problems.append(str(exc))
        return None
    if b"BASE_IMAGE" not in data or b"wheelhouse" not in data.lower():
        return None  # a service names both: the ARG and its stage
    # Whether it is a service does not depend on its encoding; a service that is not UTF-8 is refused below.
    text = data.decode("utf-8", "surrogateescape")
    if not is_service_dockerfile(parse_dockerfile(path, text)):
        return None  # for example a heredoc whose body mentions the stage: not an instruction, not ours
    return read_dockerfile(path, data)


def _companions(service: PinnedFile, problems: list[str]) -> list[PinnedFile]:
    """The bake and compose files beside a service Dockerfile, with the pins they set for it."""
    folder = service.path.parent
    names = tuple(n for n in PINS if n != PYTHON_IMAGE or not service.own_python_image)
    found: list[PinnedFile] = []
    for name in (*BAKE_FILES, *composefile.NAMES):
        path = folder / name
        if not os.path.lexists(path):
            continue
        try:
            info = path.stat()
        except OSError as exc:
            problems.append(f"{path} is a symlink to nothing" if path.is_symlink() else f"cannot read {path}: {reason(exc)}")
            continue
        what = kind(info.st_mode)
        if what:
            problems.append(f"{path} is {what}, not a regular file")
            continue
        companion = (read_bakefile(path, service.base, names) if name in BAKE_FILES
                     else read_composefile(path, service.path, service.base, names))
        if companion is not None:
            found.append(companion)
    return found


def discover(paths: list[Path]) -> list[PinnedFile]:
    """The pinned files under the paths: a file named on the command line must carry a pin; in a
    folder, every service Dockerfile and the bake and compose files beside it. Anything that could
    not be read is one error naming every such folder and file: nothing is checked halfway."""
    found: list[PinnedFile] = []
    problems: list[str] = []
    for root in paths:
        try:
            exists, is_dir = os.path.lexists(root), root.is_dir()
        except OSError as exc:
            raise UsageError(f"{root}: {reason(exc)}") from exc
        if not exists:
            raise UsageError(f"{root} does not exist")
        if not is_dir:
            found.append(_named_file(root))
            continue
        services = [s for s in (_service_in(p, problems) for p in _walk(root, problems)) if s is not None]
        if not services and not problems:
            raise PinError(f"no Dockerfile under {root} builds `FROM ${{{BASE_IMAGE}}} AS {WHEELHOUSE_STAGE}`; "
                           "is this a service made from the template?")
        for service in services:
            found += [service, *_companions(service, problems)]
    if problems:
        raise FileError(f"{len(problems)} problem(s) reading the files: " + "; ".join(problems)
                        + "; nothing was checked or written")
    unique: dict[Path, PinnedFile] = {}
    for pinned in found:
        unique.setdefault(pinned.path.resolve(), pinned)
    return list(unique.values())


def _named_file(path: Path) -> PinnedFile:
    """A file named on the command line: a Dockerfile, or a bake or compose file pinned with the
    service Dockerfile beside it (whose wheelhouse tag and own-image choice it follows)."""
    if path.name in BAKE_FILES or path.name in composefile.NAMES or path.suffix in (".hcl", ".json", ".yaml", ".yml"):
        beside = path.parent / "Dockerfile"
        service = read_dockerfile(beside) if os.path.lexists(beside) else None
        names = tuple(n for n in PINS if service is None or n != PYTHON_IMAGE or not service.own_python_image)
        if path.suffix in (".yaml", ".yml"):
            if service is None:
                raise PinError(f"{path}: a compose file is pinned with the service Dockerfile beside it, and {beside} does not exist")
            pinned = read_composefile(path, beside, service.base, names)
        else:
            pinned = read_bakefile(path, service.base if service else None, names)
        if pinned is None:
            raise PinError(f"{path} sets no {BASE_IMAGE}, RUNTIME_IMAGE or PYTHON_IMAGE to pin")
        return pinned
    return read_dockerfile(path)
