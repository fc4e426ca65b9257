"""`wheelbase pin`: point every service at the registry's current digests for its wheelhouse tag.

The wheelhouse (BASE_IMAGE), the runtime published with it (RUNTIME_IMAGE) and the Python image
it was built on (PYTHON_IMAGE) move together, so a service never mixes releases, and with them the
build steps and serving commands those images carry: a Dockerfile is moved only to a release of
the interface it declares (interface.py). A series that is retiring, retired or past its end of
life is named in a warning with the tag to move to (lifecycle.py). Each file is
checked against its own tag unless --base names one for all; every file is read and checked and
every registry answer is in before anything is written, and then every file is written or none.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import engine
from .errors import StalePinError
from .files import Edit, replace_all
from .image_ref import tagged
from .interface import interface_note
from .lifecycle import series_note
from .release import RUNTIME_IMAGE, Inspect, Release, resolve_release
from .service_files import PinnedFile, discover


@dataclass(frozen=True)
class Change:
    file: PinnedFile
    text: str
    edits: tuple[tuple[str, str, str], ...]  # (pin, old value, new value)

    def describe(self) -> str:
        return f"{self.file.path}: " + "; ".join(f"{name} {old or '(empty)'} -> {new}" for name, old, new in self.edits)


def plan(paths: list[Path], base: str | None, inspect: Inspect = engine.inspect_remote,
         notes: list[str] | None = None) -> list[Change]:
    """Reads and checks every file, asks the registry once per tag, and returns the changes; notes
    for files that build but should move collect in `notes`."""
    files = discover(paths)
    chosen = tagged(base) if base else None
    groups: dict[str, list[PinnedFile]] = {}
    for file in files:
        groups.setdefault((chosen or file.base).name, []).append(file)
    releases: dict[str, Release] = {}
    for name, members in groups.items():
        ref = chosen or tagged(name, what=f"the pin in {members[0].path}")
        releases[name] = resolve_release(ref, with_runtime=any(RUNTIME_IMAGE in f.names for f in members), inspect=inspect)
    changes = []
    for name, members in groups.items():
        lifecycle = series_note(releases[name].wheelhouse)
        if lifecycle and notes is not None:
            notes.append(lifecycle)
        values = releases[name].pins
        for file in members:
            note = interface_note(file, releases[name])
            if note and notes is not None:
                notes.append(note)
            text = file.rewritten(values)
            if text != file.text:
                edits = tuple((pin.name, pin.value, values[pin.name]) for pin in file.pins
                              if values.get(pin.name) and pin.value != values[pin.name])
                changes.append(Change(file, text, edits))
    return changes


def pin(paths: list[Path], base: str | None, *, dry_run: bool = False, check: bool = False,
        inspect: Inspect = engine.inspect_remote, out: Callable[[str], None] = print,
        warn: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> int:
    notes: list[str] = []
    changes = plan(paths, base, inspect, notes)
    for note in notes:
        warn(f"wheelbase: {note}")
    if check:
        for change in changes:
            out(f"stale: {change.describe()}")
        if changes:
            raise StalePinError(f"{len(changes)} file(s) are not pinned to the current wheelhouse; run `wheelbase pin`")
        out("all pins are current")
    elif not changes:
        out("nothing to change: every pin is current")
    elif dry_run:
        for change in changes:
            out(f"would change: {change.describe()}")
    else:
        replace_all([Edit(c.file.path, c.file.original, c.text) for c in changes])
        for change in changes:
            out(f"pinned: {change.describe()}")
    return 0
