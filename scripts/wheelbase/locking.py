"""`wheelbase lock`: recompile a lock with pip-tools on the image it serves, through bake."""

from __future__ import annotations

import re
from pathlib import Path

from . import engine
from .errors import CompatibilityError, EngineError, UsageError

# The one line that says why: our guard's `error: ...`, or pip's resolver verdict.
_REASONS = (
    re.compile(r"^#\d+ [\d.]+ error: (?P<why>.+)$", re.MULTILINE),
    re.compile(r"^#\d+ [\d.]+ (?:ERROR: |pip\._internal\.exceptions\.\w+: )?"
               r"(?P<why>(?:Could not find a version|No matching distribution|Cannot install|ResolutionImpossible).+)$",
               re.MULTILINE),
)


def lock(path: Path) -> list[Path]:
    """Runs `docker buildx bake lock` in the repository root (the base) or a service folder."""
    folder = path.resolve()
    if not (folder / "docker-bake.hcl").is_file():
        raise UsageError(f"{path} has no docker-bake.hcl; pass the repository root or a service folder")
    locks = sorted([*folder.glob("requirements*.txt"), *(folder / "base-image").glob("requirements.txt")])
    before = {p: p.read_bytes() for p in locks}
    try:
        engine.bake(["lock"], cwd=folder, extra=["--progress", "plain"])
    except EngineError as exc:
        for reason in _REASONS:
            found = reason.search(exc.output)
            if found:
                raise CompatibilityError(f"cannot lock {path}: {found['why'].strip()}") from exc
        raise
    return [p for p in sorted([*folder.glob("requirements*.txt"), *(folder / "base-image").glob("requirements.txt")])
            if before.get(p) != p.read_bytes()]
