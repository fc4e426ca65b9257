"""Reading and writing the user's files: bounded reads of regular files, and every write or none.

`read_bytes` reads only a regular file (following a symlink), up to MAX_FILE_BYTES: a FIFO, a
device or a socket named like a Dockerfile is refused, never opened in a way that could block, and
a file too large to be one wheelbase reads is refused before it is read whole.

`replace_all` stages every new content in a temporary file next to its target, with the target's
owner, group, mode bits (setuid and setgid included) and extended attributes; a file with more
than one hard link is refused, since replacing it would cut the others off. Then, with SIGINT,
SIGTERM, SIGHUP and SIGQUIT held back, it checks that no target changed since it was read and
renames each staged file over its target. A symlink stays a symlink (its target is replaced), a
read-only file is refused before anything is staged, a failed rename puts back the files already
replaced, and staged files never outlive the call. Every failure is a FileError naming the file
and the reason (a full disk, a read-only file system, a name too long, a group you are not in).
"""

from __future__ import annotations

import errno
import grp
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

HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT}
# A Dockerfile, bake file, compose file or lock larger than this is not one wheelbase reads.
MAX_FILE_BYTES = 4 << 20
_KINDS = {stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFDIR: "a folder"}


@dataclass(frozen=True)
class Edit:
    """A file's new text, with the bytes it was read as (it is replaced only if it still holds them)."""

    path: Path
    original: bytes
    text: str


def reason(exc: OSError) -> str:
    """The operating system's reason, with what to do for the ones a user can act on."""
    hints = {errno.ENOSPC: "free some space and run again", errno.EROFS: "it is on a read-only file system",
             errno.ENAMETOOLONG: "shorten the path", errno.EDQUOT: "the disk quota is used up"}
    text = exc.strerror or str(exc)
    return f"{text} ({hints[exc.errno]})" if exc.errno in hints else text


def kind(mode: int) -> str | None:
    """What a file that is not a regular file is, for a sentence; None for a regular file."""
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """A regular file's bytes (through a symlink), at most `limit` of them; FileError otherwise."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENOENT and os.path.islink(path):
            raise FileError(f"{path} is a symlink to {os.readlink(path)}, which does not exist") from exc
        raise FileError(f"cannot read {path}: {reason(exc)}") from exc
    try:
        info = os.fstat(descriptor)
        what = kind(info.st_mode)
        if what:
            raise FileError(f"{path} is {what}, not a regular file; wheelbase reads only regular files")
        if info.st_size > limit:
            raise FileError(f"{path} is {info.st_size:,} bytes; wheelbase reads files of at most {limit:,} bytes")
        chunks, size = [], 0
        while chunk := os.read(descriptor, 1 << 16):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while being read
                raise FileError(f"{path} grew past {limit:,} bytes while it was read; wheelbase reads files of at most that")
        return b"".join(chunks)
    except OSError as exc:
        raise FileError(f"cannot read {path}: {reason(exc)}") from exc
    finally:
        os.close(descriptor)


def decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 and run again") from exc


def read_text(path: Path) -> str:
    return decode(path, read_bytes(path))


def ensure_writable(path: Path) -> None:
    """Refuses what cannot be replaced as it is: a file without write permission (even for root),
    one with other hard links, and a folder that cannot be written in."""
    real = path.resolve()
    try:
        info = real.stat()
    except OSError as exc:
        raise FileError(f"cannot read {path}: {reason(exc)}") from exc
    if not info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(real, os.W_OK):
        raise FileError(f"{path} is read-only; make it writable (chmod u+w) and run again")
    if info.st_nlink > 1:
        raise FileError(f"{path} has {info.st_nlink} hard links; writing it would replace it for this name only and leave "
                        "the others with the old text: make it a single file (or a symlink) and run again")
    folder = real.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        try:
            read_only = os.statvfs(folder).f_flag & os.ST_RDONLY
        except OSError:
            read_only = False
        raise FileError(f"cannot write in {folder}: " + ("it is on a read-only file system" if read_only else
                                                         "permission denied; check its permissions"))


@contextmanager
def signals_held() -> Iterator[None]:
    """Delays SIGINT, SIGTERM, SIGHUP and SIGQUIT until the block is done, so it is never cut in half."""
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


def _group(gid: int) -> str:
    try:
        return f"group {grp.getgrgid(gid).gr_name} (gid {gid})"
    except KeyError:
        return f"gid {gid}"


def _keep_attributes(descriptor: int, real: Path, info: os.stat_result) -> None:
    """The target's owner and group, then its mode (chown clears setuid and setgid), then its
    extended attributes (ACLs among them) on the staged file; FileError when one cannot be kept."""
    if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
        try:
            os.fchown(descriptor, info.st_uid, info.st_gid)
        except PermissionError as exc:
            if info.st_uid != os.geteuid():
                raise FileError(f"cannot keep the owner of {real} (uid {info.st_uid}); run as that user") from exc
            raise FileError(f"cannot keep the group of {real}, {_group(info.st_gid)}: you are not a member; run as a "
                            "member of that group, or change the file's group first") from exc
    os.fchmod(descriptor, stat.S_IMODE(info.st_mode))
    try:
        names = os.listxattr(real)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return
        raise FileError(f"cannot read the extended attributes of {real}: {reason(exc)}") from exc
    for name in names:
        try:
            os.setxattr(descriptor, name, os.getxattr(real, name))
        except OSError as exc:
            raise FileError(f"cannot keep the extended attribute {name} of {real}: {reason(exc)}; nothing was written") from exc


def _stage(real: Path, data: bytes, token: str) -> Path:
    """A temporary file in the target's folder with the new bytes and the target's attributes."""
    try:
        info = real.stat()
        handle, name = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name[:64]}.", suffix=f".{token}.wheelbase")
    except OSError as exc:
        raise FileError(f"cannot write in {real.parent}: {reason(exc)}; no file was changed") from exc
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            _keep_attributes(out.fileno(), real, info)
            os.fsync(out.fileno())
    except OSError as exc:
        Path(name).unlink(missing_ok=True)
        raise FileError(f"cannot write {real}: {reason(exc)}; no file was changed") from exc
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
                raise FileError(f"could not write {exc.filename}: {reason(exc)}; no file was changed") from exc
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
