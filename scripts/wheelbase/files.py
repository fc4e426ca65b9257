"""Reading and writing the user's files: all checks first, then atomic replacement."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import FileError


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(f"{path} is not UTF-8 text; save it as UTF-8 and run again") from exc


def ensure_writable(path: Path) -> None:
    """Refuses files without write permission even for root, so a read-only file stays as it is."""
    mode = path.stat().st_mode
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK):
        raise FileError(f"{path} is read-only; make it writable (chmod u+w) and run again")
    if not os.access(path.parent, os.W_OK):
        raise FileError(f"cannot write in {path.parent}; check its permissions")


def replace_all(changes: Mapping[Path, str]) -> None:
    """Writes every file or none: each is checked first, then replaced atomically in turn."""
    for path in changes:
        ensure_writable(path)
    written: dict[Path, bytes] = {}
    try:
        for path, text in changes.items():
            original = path.read_bytes()
            _atomic_write(path, text)
            written[path] = original
    except OSError as exc:
        for path, original in written.items():
            _atomic_write(path, original.decode("utf-8"))
        raise FileError(f"could not write {exc.filename}: {exc.strerror}; no file was changed") from exc


def _atomic_write(path: Path, text: str) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
