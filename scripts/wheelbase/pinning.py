"""`wheelbase pin`: point every consumer at the registry's current digests for a wheelhouse tag.

The wheelhouse (`BASE_IMAGE`), the runtime published with it (`RUNTIME_IMAGE`, the same tag
with -runtime) and the Python image it was built on (`PYTHON_IMAGE`, from its labels) move
together, so a service never mixes releases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import engine
from .errors import CompatibilityError, StalePinError, UsageError
from .files import replace_all
from .pins import BASE_ARG, PYTHON_ARG, RUNTIME_ARG, PinnedFile, discover
from .refs import ImageRef
from .wheelhouse import Wheelhouse

RUNTIME_SUFFIX = "-runtime"


@dataclass(frozen=True)
class Change:
    path: Path
    edits: tuple[tuple[str, str, str], ...]  # (setting, old value, new value)

    def describe(self) -> str:
        return f"{self.path}: " + "; ".join(f"{name} {old or '(empty)'} -> {new}" for name, old, new in self.edits)


@dataclass(frozen=True)
class Release:
    """What the registry says a wheelhouse tag is now: its pin, its runtime's pin, its Python image."""

    base: ImageRef
    runtime: ImageRef | None
    python_image: str
    python_version: str


Resolver = Callable[[ImageRef], Wheelhouse]


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


def runtime_ref(base: ImageRef) -> ImageRef:
    return ImageRef(base.repository, f"{base.tag}{RUNTIME_SUFFIX}")


def resolve_release(base: ImageRef, resolve: Resolver, with_runtime: bool) -> Release:
    wheelhouse = resolve(base)
    runtime = None
    if with_runtime:
        found = resolve(runtime_ref(base))
        if (found.flavor, found.python_version, found.python_image) != (
                wheelhouse.flavor, wheelhouse.python_version, wheelhouse.python_image):
            raise CompatibilityError(
                f"{runtime_ref(base).name} (Python {found.python_version}, {found.flavor}) was not built with "
                f"{base.name} (Python {wheelhouse.python_version}, {wheelhouse.flavor}); publish both with "
                "`docker buildx bake release --push`")
        runtime = runtime_ref(base).with_digest(found.image.digest)
    return Release(base.with_digest(wheelhouse.image.digest), runtime, wheelhouse.python_image, wheelhouse.python_version)


def plan(paths: list[Path], base: str | None, resolve: Resolver = resolve_wheelhouse) -> tuple[list[Change], dict[Path, str]]:
    """Reads and checks everything, asks the registry, and returns the changes without writing."""
    files = discover(paths)
    release = resolve_release(_choose_base(files, base), resolve, any(f.runtime is not None for f in files))
    changes, texts = [], {}
    for file in files:
        new_text = file.rewritten(release.base, release.runtime, release.python_image)
        if new_text == file.text:
            continue
        wanted = ((BASE_ARG, file.base, str(release.base)),
                  (RUNTIME_ARG, file.runtime, str(release.runtime) if release.runtime else ""),
                  (PYTHON_ARG, file.python, release.python_image))
        edits = tuple((name, setting.value, value) for name, setting, value in wanted
                      if setting is not None and value and setting.value != value)
        changes.append(Change(file.path, edits))
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
