"""`wheelbase pin`: point every consumer at the registry's current digest for a wheelhouse tag."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import engine
from .errors import StalePinError, UsageError
from .files import replace_all
from .pins import PinnedFile, discover
from .refs import ImageRef
from .wheelhouse import Wheelhouse


@dataclass(frozen=True)
class Change:
    path: Path
    old_base: str
    new_base: str
    old_runtime: str | None
    new_runtime: str | None

    def describe(self) -> str:
        parts = []
        if self.old_base != self.new_base:
            parts.append(f"BASE_IMAGE {self.old_base or '(empty)'} -> {self.new_base}")
        if self.new_runtime and self.old_runtime is not None and self.old_runtime != self.new_runtime:
            parts.append(f"PYTHON_IMAGE {self.old_runtime} -> {self.new_runtime}")
        return f"{self.path}: " + "; ".join(parts)


def _choose_base(files: list[PinnedFile], base: str | None) -> ImageRef:
    if base:
        ref = ImageRef.parse(base)
        if ref.digest:
            raise UsageError(f"--base takes IMAGE:TAG, not a digest ({base}); the digest is looked up in the registry")
        return ref if ref.tag else ImageRef(ref.repository, "latest")
    tags = {pinned.name for f in files if (pinned := f.base_ref) is not None}
    if len(tags) != 1:
        found = ", ".join(sorted(tags)) or "none"
        raise UsageError(f"the files pin different wheelhouse tags ({found}); pass --base IMAGE:TAG")
    return ImageRef.parse(tags.pop())


def resolve_wheelhouse(ref: ImageRef) -> Wheelhouse:
    return Wheelhouse.from_remote(engine.inspect_remote(ref))


def plan(paths: list[Path], base: str | None,
         resolve: Callable[[ImageRef], Wheelhouse] = resolve_wheelhouse) -> tuple[list[Change], dict[Path, str]]:
    """Reads and checks everything, asks the registry, and returns the changes without writing."""
    files = discover(paths)
    wanted = _choose_base(files, base)
    wheelhouse = resolve(wanted)
    pinned = wanted.with_digest(wheelhouse.image.digest)
    changes, texts = [], {}
    for file in files:
        new_text = file.rewritten(pinned, wheelhouse.python_image)
        if new_text != file.text:
            old_runtime = file.runtime.value if file.runtime else None
            changes.append(Change(file.path, file.base.value if file.base else "", str(pinned),
                                  old_runtime, wheelhouse.python_image))
            texts[file.path] = new_text
    return changes, texts


def pin(paths: list[Path], base: str | None, *, dry_run: bool = False, check: bool = False,
        out: Callable[[str], None] = print) -> int:
    changes, texts = plan(paths, base)
    for change in changes:
        out(("stale: " if check else "would change: " if dry_run else "pinned: ") + change.describe())
    if check:
        if changes:
            raise StalePinError(f"{len(changes)} file(s) are not pinned to the current wheelhouse; run `wheelbase pin`")
        out("all pins are current")
        return 0
    if not changes:
        out("nothing to change: every pin is current")
    elif not dry_run:
        replace_all(texts)
    return 0
