"""`wheelbase lock`: recompile a lock with pip-tools on the image it serves, through bake.

The bake target `lock` exports the new lock files into a scratch folder; only files whose
bytes changed are then written, by the one writer (every file or none, mode, owner and
symlinks kept), together with a service Dockerfile's `ARG EXTRAS=`, which says whether
requirements.txt lists anything to install. A failed lock changes nothing and says why in one
line: the guard's sentence, or pip's own reason.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from . import dockerfile, engine
from .errors import CompatibilityError, EngineError, UsageError
from .files import Edit, ensure_writable, read_bytes, replace_all

# The one line that says why: our guard's `error: ...`, or pip's resolver verdict.
_REASONS = (
    re.compile(r"^#\d+ [\d.]+ error: (?P<why>.+)$", re.MULTILINE),
    re.compile(r"^#\d+ [\d.]+ (?:ERROR: |pip\._internal\.exceptions\.\w+: )?"
               r"(?P<why>(?:Could not find a version|No matching distribution|Cannot install|ResolutionImpossible).+)$",
               re.MULTILINE),
)


def lock_files(folder: Path) -> list[Path]:
    """The lock files `bake lock` writes in a folder: the base's, or a service's two."""
    stems: tuple[str, ...] = ("requirements", "requirements-test", "requirements-build")
    if (folder / "base-image" / "requirements.in").is_file():
        folder, stems = folder / "base-image", ("requirements", "build-requirements")
    return [folder / f"{stem}.txt" for stem in stems if (folder / f"{stem}.in").is_file()]


def _extras_switch(folder: Path, new_requirements: list[str]) -> list[Edit]:
    """A service Dockerfile's `ARG EXTRAS=` set to whether requirements.txt lists any package."""
    dockerfile_path, requirements = folder / "Dockerfile", folder / "requirements.txt"
    if not dockerfile_path.is_file() or not (new_requirements or requirements.is_file()):
        return []
    text = new_requirements[0] if new_requirements else read_bytes(requirements).decode()
    wanted = "true" if any(re.match(r"[A-Za-z0-9]", line) for line in text.splitlines()) else "false"
    original = read_bytes(dockerfile_path)
    current = [a for a in dockerfile.parse(original.decode()).global_args("EXTRAS") if a.value is not None]
    if len(current) != 1 or current[0].value == wanted:
        return []
    arg, old = current[0], original.decode()
    return [Edit(dockerfile_path, original, old[:arg.start] + wanted + old[arg.end:])]


_PROGRESS = re.compile(r"^#\d+ [\d.]+ (lock: .+)$")


def lock(path: Path, *, upgrade: bool = False, no_cache: bool = False,
         progress: Callable[[str], None] = lambda line: None) -> list[Path]:
    """Runs `docker buildx bake lock` in the repository root (the base) or a service folder; the
    lock stage's `lock:` lines (file, pins, seconds) are handed to progress as they come."""
    folder = path.resolve()
    if not (folder / "docker-bake.hcl").is_file():
        raise UsageError(f"{path} has no docker-bake.hcl; pass the repository root or a service folder")
    locks = lock_files(folder)
    if (folder / "Dockerfile").is_file() and locks and locks[0].parent == folder:
        ensure_writable(folder / "Dockerfile")
    for existing in locks:
        if existing.exists():
            ensure_writable(existing)
    before = {p: read_bytes(p) if p.exists() else b"" for p in locks}
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
            for reason in _REASONS:
                found = reason.search(exc.output)
                if found:
                    raise CompatibilityError(f"cannot lock {path}: {found['why'].strip()}") from exc
            raise
        edits = []
        for lock_file in locks:
            made = Path(scratch) / lock_file.name
            if not made.is_file():
                raise EngineError(f"`docker buildx bake lock` wrote no {lock_file.name}")
            text = made.read_text()
            if text.encode() != before[lock_file]:
                edits.append(Edit(lock_file, before[lock_file], text))
    edits += _extras_switch(folder, [e.text for e in edits if e.path.name == "requirements.txt"])
    new_files = [e for e in edits if not e.path.exists()]
    for edit in new_files:
        edit.path.write_text("")  # a first lock: the writer replaces an (empty) file like any other
    replace_all([Edit(e.path, b"", e.text) if e in new_files else e for e in edits])
    return [e.path for e in edits]
