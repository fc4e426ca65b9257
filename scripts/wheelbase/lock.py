"""`wheelbase lock`: recompile a lock with pip-tools on the image it serves, through bake.

The bake target `lock` exports the new lock files into a scratch folder; only files whose
bytes changed are then written, by the one writer (every file or none, mode, owner and
symlinks kept), together with a service Dockerfile's `ARG EXTRAS=`, which says whether
requirements.txt lists anything to install. Every file the lock reads is read before it starts
and again after it: one edited meanwhile stops the write (the lock would no longer say what the
files ask). A failed lock changes nothing and says why in one line: the guard's sentence, the
build step's (what a compile lacked and the line to add to build-packages.txt, with the build's
own words), pip's resolver verdict, or else the failing step's last meaningful lines.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from . import dockerfile, engine
from .errors import CompatibilityError, EngineError, FileError, UsageError
from .files import Edit, decode, ensure_writable, read_bytes, replace_all

# The one line that says why, last first: the steps' `error: ...` (the guard's, or a compile's
# explanation), then pip's resolver verdict.
_REASONS = (
    re.compile(r"^#\d+ [\d.]+ (?:wheelbase: )?error: (?P<why>.+)$", re.MULTILINE),
    re.compile(r"^#\d+ [\d.]+ (?:ERROR: |pip\._internal\.exceptions\.\w+: )?"
               r"(?P<why>(?:Could not find a version|No matching distribution|Cannot install|ResolutionImpossible).+)$",
               re.MULTILINE),
)
_STEP_LINE = re.compile(r"^#(?P<step>\d+) [\d.]+ (?P<text>.*)$")
_FAILED_STEP = re.compile(r"^#(?P<step>\d+) ERROR: ", re.MULTILINE)
_NOISE = re.compile(r"^(\s*File \"|Traceback|\s*[\^~]|\s*$|\s{4}|The above exception|During handling)")
_PROGRESS = re.compile(r"^#\d+ [\d.]+ (lock: .+)$")
# What a lock reads besides its lock files: a change to one of these while it runs makes its result stale.
_INPUTS = ("requirements.in", "requirements-test.in", "requirements-build.in", "build-packages.txt", "Dockerfile",
           "build-requirements.in", "docker-bake.hcl")


def lock_files(folder: Path) -> list[Path]:
    """The lock files `bake lock` writes in a folder: the base's, or a service's two."""
    stems: tuple[str, ...] = ("requirements", "requirements-test", "requirements-build")
    if (folder / "base-image" / "requirements.in").is_file():
        folder, stems = folder / "base-image", ("requirements", "build-requirements")
    return [folder / f"{stem}.txt" for stem in stems if (folder / f"{stem}.in").is_file()]


def _extras_switch(folder: Path, new_requirements: list[str], dockerfile_bytes: bytes | None) -> list[Edit]:
    """A service Dockerfile's `ARG EXTRAS=` set to whether requirements.txt lists any package."""
    dockerfile_path, requirements = folder / "Dockerfile", folder / "requirements.txt"
    if dockerfile_bytes is None or not (new_requirements or requirements.is_file()):
        return []
    text = new_requirements[0] if new_requirements else decode(requirements, read_bytes(requirements))
    wanted = "true" if any(re.match(r"[A-Za-z0-9]", line) for line in text.splitlines()) else "false"
    old = decode(dockerfile_path, dockerfile_bytes)
    try:
        current = [a for a in dockerfile.parse(old).global_args("EXTRAS") if a.value is not None]
    except dockerfile.Unsure as exc:
        raise FileError(f"{dockerfile_path}:{exc.line or 1}: {exc}; its EXTRAS could not be kept right") from exc
    if len(current) != 1 or current[0].value == wanted:
        return []
    arg = current[0]
    return [Edit(dockerfile_path, dockerfile_bytes, old[:arg.start] + wanted + old[arg.end:])]


def _snapshot(paths: list[Path]) -> dict[Path, bytes | None]:
    """Each file's bytes (None: absent), read as the writer reads: regular files only, bounded."""
    found: dict[Path, bytes | None] = {}
    for path in paths:
        if os.path.islink(path) and not path.exists():
            raise FileError(f"{path} is a symlink to {os.readlink(path)}, which does not exist; point it at a file or "
                            "remove it, and run again")
        found[path] = read_bytes(path) if path.exists() else None
    return found


def why_it_failed(output: str) -> str | None:
    """The sentence that says why a lock build failed, from BuildKit's plain progress output."""
    for reason in _REASONS:
        matches = list(reason.finditer(output))
        if matches:
            return matches[-1]["why"].strip()
    failed = _FAILED_STEP.search(output)
    if failed:  # the failing step's own last meaningful lines, never BuildKit's line about the RUN
        lines = [m["text"] for m in map(_STEP_LINE.match, output.splitlines())
                 if m and m["step"] == failed["step"] and not _NOISE.match(m["text"])]
        if lines:
            return " | ".join(line.strip() for line in lines[-4:])
    return None


def lock(path: Path, *, upgrade: bool = False, no_cache: bool = False,
         progress: Callable[[str], None] = lambda line: None) -> list[Path]:
    """Runs `docker buildx bake lock` in the repository root (the base) or a service folder; the
    lock stage's `lock:` lines (file, pins, seconds) are handed to progress as they come."""
    folder = path.resolve()
    if not (folder / "docker-bake.hcl").is_file():
        raise UsageError(f"{path} has no docker-bake.hcl; pass the repository root or a service folder")
    locks = lock_files(folder)
    is_service = (folder / "Dockerfile").is_file() and bool(locks) and locks[0].parent == folder
    if is_service:
        ensure_writable(folder / "Dockerfile")
    before = _snapshot(locks)
    for existing, data in before.items():
        if data is not None:
            ensure_writable(existing)
    inputs = _snapshot([base / name for base in {folder, locks[0].parent if locks else folder} for name in _INPUTS])
    with tempfile.TemporaryDirectory(prefix="wheelbase-lock-") as scratch:
        overrides = [f"lock.output=type=local,dest={scratch}"]

        def relay(line: str) -> None:
            found = _PROGRESS.match(line)
            if found:
                progress(found.group(1))

        try:
            # UPGRADE is the bake file's variable: it also keeps the resolve step out of the layer cache.
            engine.bake(["lock"], cwd=folder, extra=["--progress", "plain", *(["--no-cache"] if no_cache else [])],
                        overrides=overrides, env={"UPGRADE": "true" if upgrade else "false"}, on_line=relay)
        except EngineError as exc:
            why = why_it_failed(exc.output)
            if why:
                raise CompatibilityError(f"cannot lock {path}: {why}") from exc
            raise
        edits = []
        for lock_file in locks:
            made = Path(scratch) / lock_file.name
            if not made.is_file():
                raise EngineError(f"`docker buildx bake lock` wrote no {lock_file.name}")
            text = decode(made, read_bytes(made))
            if text.encode() != (before[lock_file] or b""):
                edits.append(Edit(lock_file, before[lock_file] or b"", text))
    changed = [p for p, data in _snapshot(list(inputs)).items() if data != inputs[p]]
    if changed:
        raise FileError(f"{changed[0]} changed while the lock ran, so the new lock may not say what it asks; nothing "
                        "was written, run `wheelbase lock` again")
    edits += _extras_switch(folder, [e.text for e in edits if e.path.name == "requirements.txt"],
                            inputs.get(folder / "Dockerfile") if is_service else None)
    new_files = [e for e in edits if before.get(e.path, b"") is None]
    for edit in new_files:
        edit.path.write_text("")  # a first lock: the writer replaces an (empty) file like any other
    try:
        replace_all([Edit(e.path, b"", e.text) if e in new_files else e for e in edits])
    except BaseException:
        for edit in new_files:
            if edit.path.read_bytes() == b"":
                edit.path.unlink()
        raise
    return [e.path for e in edits]
