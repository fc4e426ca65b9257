"""Finding and rewriting a service's wheelhouse pin.

A consumer Dockerfile carries exactly one `ARG BASE_IMAGE=<image>:<tag>@sha256:<digest>` (the
line Renovate also reads) used by `FROM ${BASE_IMAGE} AS wheelhouse`; `ARG RUNTIME_IMAGE=` for
the shared runtime published with it (same tag with -runtime); and `ARG PYTHON_IMAGE=` for the
image the wheelhouse was built on. A bake file may repeat them as variable defaults; those are
rewritten too when present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import PinError, UsageError
from .files import read_text
from .refs import ImageRef

BASE_ARG = "BASE_IMAGE"
RUNTIME_ARG = "RUNTIME_IMAGE"
PYTHON_ARG = "PYTHON_IMAGE"
SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__", ".tox"})

_ARG = r"^(?P<lead>[ \t]*ARG[ \t]+{name}=)(?P<quote>\"?)(?P<value>[^\"\n]*?)(?P=quote)[ \t]*$"
_VARIABLE = r"(?P<lead>variable[ \t]+\"{name}\"[ \t]*\{{\s*default[ \t]*=[ \t]*\")(?P<value>[^\"]*)(?P<quote>)\""
_FROM_BASE = re.compile(r"^[ \t]*FROM[ \t]+(--platform=\S+[ \t]+)?\$\{?BASE_IMAGE\}?([ \t]+AS[ \t]+\S+)?[ \t]*$",
                        re.IGNORECASE | re.MULTILINE)
_ANY_FROM = re.compile(r"^[ \t]*FROM[ \t]+\S", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Setting:
    """One `name=value` occurrence in a file, with where its value sits."""

    name: str
    value: str
    start: int
    end: int
    line: int


@dataclass(frozen=True)
class PinnedFile:
    path: Path
    kind: str  # "dockerfile" or "bake"
    text: str
    base: Setting | None
    runtime: Setting | None
    python: Setting | None

    @property
    def base_ref(self) -> ImageRef | None:
        if self.base is None or not self.base.value:
            return None
        try:
            return ImageRef.parse(self.base.value)
        except UsageError as exc:
            raise PinError(f"{self.path}:{self.base.line}: {exc}") from exc

    def rewritten(self, base: ImageRef, runtime: ImageRef | None, python: str | None) -> str:
        """The file's text with the pins replaced; a setting the file does not have stays absent."""
        edits = [(self.base, str(base)), (self.runtime, str(runtime) if runtime else None), (self.python, python)]
        text = self.text
        for setting, value in sorted(((s, v) for s, v in edits if s is not None and v), key=lambda e: -e[0].start):
            text = text[: setting.start] + value + text[setting.end:]
        return text


def _settings(text: str, pattern: str, name: str, flags: int = 0) -> list[Setting]:
    found = []
    for match in re.finditer(pattern.format(name=name), text, flags | re.MULTILINE):
        line = text.count("\n", 0, match.start()) + 1
        found.append(Setting(name, match["value"], match.start("value"), match.end("value"), line))
    return found


def _one(path: Path, settings: list[Setting], what: str) -> Setting | None:
    if len(settings) > 1:
        lines = ", ".join(str(s.line) for s in settings)
        raise PinError(f"{path} has {len(settings)} candidate {what} lines (lines {lines}); keep exactly one")
    return settings[0] if settings else None


def _check_text(path: Path, text: str) -> None:
    if "\r\n" in text:
        raise PinError(f"{path} has CRLF line endings; convert it to LF (for example `sed -i 's/\\r$//' {path}`)")
    if "\x00" in text:
        raise PinError(f"{path} is not a text file")


def read_dockerfile(path: Path) -> PinnedFile:
    text = read_text(path)
    _check_text(path, text)
    if not _ANY_FROM.search(text):
        raise PinError(f"{path} has no FROM instruction; it is not a Dockerfile")
    base = _one(path, _settings(text, _ARG, BASE_ARG, re.IGNORECASE), f"`ARG {BASE_ARG}=`")
    if base is None:
        raise PinError(
            f"{path} has no `ARG {BASE_ARG}=<image>:<tag>@sha256:<digest>` line; add one before "
            f"`FROM ${{{BASE_ARG}}} AS wheelhouse` (see consumer-template/)"
        )
    if not _FROM_BASE.search(text):
        raise PinError(f"{path} declares {BASE_ARG} but no stage is `FROM ${{{BASE_ARG}}}`; add `FROM ${{{BASE_ARG}}} AS wheelhouse`")
    runtime = _one(path, _settings(text, _ARG, RUNTIME_ARG, re.IGNORECASE), f"`ARG {RUNTIME_ARG}=`")
    python = _one(path, _settings(text, _ARG, PYTHON_ARG, re.IGNORECASE), f"`ARG {PYTHON_ARG}=`")
    pinned = PinnedFile(path, "dockerfile", text, base, runtime, python)
    pinned.base_ref  # noqa: B018 - parse now so a malformed pin fails before anything is written
    return pinned


def read_bakefile(path: Path) -> PinnedFile | None:
    """A bake file's pin variables, or None when it sets no non-empty BASE_IMAGE default."""
    text = read_text(path)
    _check_text(path, text)
    base = _one(path, _settings(text, _VARIABLE, BASE_ARG), f'`variable "{BASE_ARG}"`')
    if base is None or not base.value:
        return None
    runtime = _one(path, _settings(text, _VARIABLE, RUNTIME_ARG), f'`variable "{RUNTIME_ARG}"`')
    python = _one(path, _settings(text, _VARIABLE, PYTHON_ARG), f'`variable "{PYTHON_ARG}"`')
    pinned = PinnedFile(path, "bake", text, base, runtime, python)
    pinned.base_ref  # noqa: B018
    return pinned


def _is_dockerfile(path: Path) -> bool:
    return path.name == "Dockerfile" or path.name.endswith(".Dockerfile") or path.name.startswith("Dockerfile.")


def discover(paths: list[Path]) -> list[PinnedFile]:
    """Pinned files under the paths: a named Dockerfile must carry a pin; in folders, those that do."""
    found: list[PinnedFile] = []
    for root in paths:
        if not root.exists():
            raise UsageError(f"{root} does not exist")
        if root.is_file():
            pinned = read_bakefile(root) if root.suffix == ".hcl" else read_dockerfile(root)
            if pinned is None:
                raise PinError(f"{root} sets no {BASE_ARG} default to pin")
            found.append(pinned)
            continue
        candidates = sorted(p for p in root.rglob("*") if p.is_file() and not SKIP_DIRS & set(p.relative_to(root).parts))
        dockerfiles = [p for p in candidates if _is_dockerfile(p)]
        consumers = [p for p in dockerfiles if "BASE_IMAGE" in read_text(p)]
        if not consumers:
            raise PinError(f"no Dockerfile under {root} declares `ARG {BASE_ARG}=`; is this a service made from the template?")
        found += [read_dockerfile(p) for p in consumers]
        found += [b for b in (read_bakefile(p) for p in candidates if p.name.endswith(".hcl")) if b is not None]
    return found
