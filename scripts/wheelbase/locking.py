"""`wheelbase lock`: recompile a lock on the image it serves, with pip-tools, through bake."""

from __future__ import annotations

import re
from pathlib import Path

from . import engine
from .errors import CompatibilityError, EngineError, UsageError
from .layout import REPO

# pip-compile's words for a pin that cannot be met, and the two versions involved.
_CONFLICT = re.compile(r"Cannot install (?P<want>[^\n]+?) because these package versions have conflicting dependencies")


def lock(path: Path) -> list[Path]:
    """Runs `docker buildx bake lock` for the repository root (the base) or a service folder."""
    folder = path.resolve()
    if not (folder / "docker-bake.hcl").is_file():
        raise UsageError(f"{path} has no docker-bake.hcl; pass the repository root or a service folder")
    locks = sorted(folder.glob("requirements*.txt")) + sorted((folder / "base-image").glob("requirements.txt"))
    before = {p: p.read_bytes() for p in locks}
    try:
        engine.bake(["lock"], cwd=folder, extra=["--progress", "plain"])
    except EngineError as exc:
        for lock_file, data in before.items():
            lock_file.write_bytes(data)
        text = str(exc)
        conflict = _CONFLICT.search(text)
        if conflict or "ResolutionImpossible" in text or "conflict" in text.lower():
            raise CompatibilityError(
                f"the requirements of {path} conflict with the wheelhouse's pins or with each other: {text}"
            ) from exc
        raise
    return [p for p in locks if p.exists() and before.get(p) != p.read_bytes()] or locks


def repo_root() -> Path:
    return REPO
