"""Reading and writing the user's files: every file or none.

`replace_all` stages every new content in a temporary file next to its target (same mode and
owner), then, with SIGINT, SIGTERM and SIGHUP held back, checks that no target changed since it
was read and renames each staged file over its target. A symlink stays a symlink (its target is
replaced), a read-only file is refused before anything is staged, and a failed rename puts back
the files already replaced. Staged files never outlive the call.
"""

from __future__ import annotations

import os
import secrets
import signal
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import FileError

HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


@dataclass(frozen=True)
class Edit:
    """A file's new text, with the bytes it was read as (it is replaced only if it still holds them)."""

    path: Path
    original: bytes
    text: str


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror}") from exc


def decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(f"{path} is not UTF-8 text; save it as UTF-8 and run again") from exc


def read_text(path: Path) -> str:
    return decode(path, read_bytes(path))


def ensure_writable(path: Path) -> None:
    """Refuses files without write permission even for root, so a read-only file stays as it is."""
    real = path.resolve()
    try:
        mode = real.stat().st_mode
    except OSError as exc:
        raise FileError(f"cannot read {path}: {exc.strerror}") from exc
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(real, os.W_OK):
        raise FileError(f"{path} is read-only; make it writable (chmod u+w) and run again")
    if not os.access(real.parent, os.W_OK | os.X_OK):
        raise FileError(f"cannot write in {real.parent}; check its permissions")


@contextmanager
def signals_held() -> Iterator[None]:
    """Delays SIGINT, SIGTERM and SIGHUP until the block is done, so it is never cut in half."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_finish_once_committed = False


def finish_once_committed() -> None:
    """For a command-line process: once a change is made, it finishes, so its exit status says
    whether the change was made; a signal pending then or arriving later is ignored."""
    global _finish_once_committed
    _finish_once_committed = True


def past_the_point_of_no_return() -> None:
    """Called with the signals held, right after the change is made. POSIX discards a pending
    signal whose action becomes SIG_IGN, and Python's shutdown keeps SIG_IGN in place."""
    if _finish_once_committed:
        for signum in HELD_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)


def _stage(real: Path, data: bytes, token: str) -> Path:
    """A temporary file in the target's folder with the new bytes, the target's mode and owner."""
    info = real.stat()
    handle, name = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=f".{token}.wheelbase")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), stat.S_IMODE(info.st_mode))
            if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.fchown(out.fileno(), info.st_uid, info.st_gid)
                except PermissionError as exc:
                    raise FileError(f"cannot keep the owner of {real} (uid {info.st_uid}); run as that user") from exc
            os.fsync(out.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def replace_all(edits: list[Edit] | Mapping[Path, str]) -> None:
    """Writes every file or none; see the module's description."""
    if isinstance(edits, Mapping):
        edits = [Edit(path, read_bytes(path), text) for path, text in edits.items()]
    for edit in edits:
        ensure_writable(edit.path)
    staged: list[tuple[Edit, Path, Path]] = []  # (edit, real target, staged file)
    token = secrets.token_hex(6)  # names this call's staged files, so none outlives it even if a signal cuts in
    folders = {edit.path.resolve().parent for edit in edits}
    try:
        for edit in edits:
            real = edit.path.resolve()
            staged.append((edit, real, _stage(real, edit.text.encode("utf-8"), token)))
        with signals_held():
            for edit, real, _ in staged:
                if read_bytes(real) != edit.original:
                    raise FileError(f"{edit.path} changed while wheelbase was running; no file was changed, run it again")
            done: list[tuple[Edit, Path]] = []
            try:
                for edit, real, temporary in staged:
                    os.replace(temporary, real)
                    done.append((edit, real))
            except OSError as exc:
                for edit, real in done:  # put back what was already replaced
                    os.replace(_stage(real, edit.original, token), real)
                raise FileError(f"could not write {exc.filename}: {exc.strerror}; no file was changed") from exc
            past_the_point_of_no_return()
            for folder in folders:
                descriptor = os.open(folder, os.O_RDONLY)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
    finally:
        with signals_held():
            for folder in folders:
                for temporary in folder.glob(f".*.{token}.wheelbase"):
                    temporary.unlink(missing_ok=True)
