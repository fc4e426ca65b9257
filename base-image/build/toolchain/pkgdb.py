"""The package manager taken out of an image as its own database describes it, and the database
left telling the truth: every package it lists is whole, so a vulnerability scanner reports what
the image holds (no apk-tools whose binary is gone, no dpkg without its programs).

    python pkgdb.py remove PACKAGE...   deletes each package's files (directories only once empty)
                                        and its entry; PACKAGE? is removed where it is installed
    python pkgdb.py prune               takes out every package that has lost a file (pip's, where
                                        the Python image has it from its distribution), naming it

dpkg (/var/lib/dpkg/status and info/<package>.list) and apk (/lib/apk/db/installed) are read as
their tools write them. A path dpkg was told not to install (path-exclude in dpkg.cfg.d, as the
slim images' docs and man pages are) or has diverted is not a missing file. Runs on the Python
image's own interpreter: standard library only. PKGDB_ROOT names another root (tests).
"""

from __future__ import annotations

import fnmatch
import os
import sys
from pathlib import Path


def _dpkg_filters(root: Path) -> list[tuple[str, str]]:
    """dpkg's path-exclude and path-include options, in order (the last that matches wins)."""
    filters = []
    config = root / "etc" / "dpkg" / "dpkg.cfg.d"
    for file in sorted(config.iterdir()) if config.is_dir() else []:
        for line in file.read_text(errors="replace").splitlines():
            words = line.split(None, 1)
            if len(words) == 2 and words[0] in ("path-exclude", "path-include"):
                filters.append((words[0], words[1].strip()))
    return filters


def _excluded(path: str, filters: list[tuple[str, str]]) -> bool:
    excluded = False
    for kind, pattern in filters:
        if fnmatch.fnmatchcase(path, pattern):
            excluded = kind == "path-exclude"
    return excluded


def _diversions(root: Path) -> dict[str, str]:
    file = root / "var" / "lib" / "dpkg" / "diversions"
    lines = file.read_text().splitlines() if file.exists() else []
    return {lines[i]: lines[i + 1] for i in range(0, len(lines) - 2, 3)}


def _present(root: Path, path: str) -> bool:
    return os.path.lexists(root / path.lstrip("/"))


def prune_dpkg(root: Path) -> list[str]:
    status = root / "var" / "lib" / "dpkg" / "status"
    info = root / "var" / "lib" / "dpkg" / "info"
    filters, diverted = _dpkg_filters(root), _diversions(root)
    kept, gone = [], []
    for stanza in status.read_text().split("\n\n"):
        fields = dict(line.split(":", 1) for line in stanza.splitlines() if line[:1] not in (" ", "\t", "") and ":" in line)
        name, arch = fields.get("Package", "").strip(), fields.get("Architecture", "").strip()
        lists = [info / f"{name}:{arch}.list", info / f"{name}.list"]
        listed = next((f for f in lists if f.exists()), None)
        if name and listed is not None:
            missing = [p for p in listed.read_text().splitlines()
                       if p not in ("", "/.") and not _excluded(p, filters)
                       and not _present(root, p) and not (p in diverted and _present(root, diverted[p]))]
            if missing:
                gone.append(name)
                for file in info.glob(f"{name}.*"):
                    file.unlink()
                for file in info.glob(f"{name}:{arch}.*"):
                    file.unlink()
                continue
        if stanza.strip():
            kept.append(stanza.strip("\n"))
    if gone:
        status.write_text("\n\n".join(kept) + "\n\n")
    return gone


def prune_apk(root: Path) -> list[str]:
    installed = root / "lib" / "apk" / "db" / "installed"
    kept, gone = [], []
    for stanza in installed.read_text().split("\n\n"):
        name, folder, missing = "", "", False
        for line in stanza.splitlines():
            key, _, value = line.partition(":")
            if key == "P":
                name = value
            elif key == "F":
                folder = value
            elif key == "R" and not _present(root, f"{folder}/{value}"):
                missing = True
        if missing:
            gone.append(name)
        elif stanza.strip():
            kept.append(stanza.strip("\n"))
    if gone:
        installed.write_text("\n\n".join(kept) + "\n\n")
    return gone


def _delete(root: Path, paths: list[str]) -> None:
    """Files and links to files first; then directories, deepest first, only those left empty. A
    link to a directory is a directory to a package list (/bin, /sbin and /lib on a merged /usr)
    and is never removed."""
    folders = []
    for path in paths:
        target = root / path.lstrip("/")
        if target.is_dir():
            if not target.is_symlink():
                folders.append(target)
        elif os.path.lexists(target):
            target.unlink()
    for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()


def remove_dpkg(root: Path, names: list[str]) -> list[str]:
    info = root / "var" / "lib" / "dpkg" / "info"
    removed = []
    for name in names:
        listed = sorted(info.glob(f"{name}.list")) + sorted(info.glob(f"{name}:*.list"))
        if not listed:
            continue
        _delete(root, [p for p in listed[0].read_text().splitlines() if p not in ("", "/.")])
        removed.append(name)
    status = root / "var" / "lib" / "dpkg" / "status"
    stanzas = [s for s in status.read_text().split("\n\n") if s.strip()]
    keep = [s.strip("\n") for s in stanzas if not any(line == f"Package: {n}" for n in removed for line in s.splitlines())]
    status.write_text("\n\n".join(keep) + "\n\n")
    for name in removed:
        for file in [*info.glob(f"{name}.*"), *info.glob(f"{name}:*.*")]:
            file.unlink()
    return removed


def remove_apk(root: Path, names: list[str]) -> list[str]:
    installed = root / "lib" / "apk" / "db" / "installed"
    kept, removed = [], []
    for stanza in (s for s in installed.read_text().split("\n\n") if s.strip()):
        lines = stanza.splitlines()
        name = next((line[2:] for line in lines if line.startswith("P:")), "")
        if name not in names:
            kept.append(stanza.strip("\n"))
            continue
        folder, paths = "", []
        for line in lines:
            if line.startswith("F:"):
                folder = line[2:]
                paths.append(folder)
            elif line.startswith("R:"):
                paths.append(f"{folder}/{line[2:]}")
        _delete(root, paths)
        removed.append(name)
    installed.write_text("\n\n".join(kept) + "\n\n")
    return removed


def remove(root: Path, wanted: list[str]) -> list[str]:
    """Removes the packages named (NAME? where installed); an absent NAME without ? is an error."""
    names = [w.rstrip("?") for w in wanted]
    removed = []
    if (root / "var" / "lib" / "dpkg" / "status").exists():
        removed += remove_dpkg(root, names)
    if (root / "lib" / "apk" / "db" / "installed").exists():
        removed += remove_apk(root, names)
    absent = [w for w in wanted if not w.endswith("?") and w not in removed]
    if absent:
        raise SystemExit(f"error: {', '.join(absent)} not installed under {root}; nothing was removed for them")
    return removed


def prune(root: Path) -> list[str]:
    databases = [(root / "var" / "lib" / "dpkg" / "status", prune_dpkg), (root / "lib" / "apk" / "db" / "installed", prune_apk)]
    found = [(path, how) for path, how in databases if path.exists()]
    if not found:
        raise SystemExit(f"error: no package database under {root} (neither dpkg's nor apk's)")
    return [name for _, how in found for name in how(root)]


def main(argv: list[str]) -> None:
    root = Path(os.environ.get("PKGDB_ROOT", "/"))
    if argv[:1] == ["remove"] and len(argv) > 1:
        for package in remove(root, argv[1:]):
            print(f"removed, files and database entry: {package}")
    elif argv == ["prune"]:
        for package in prune(root):
            print(f"taken out of the package database (its files are gone): {package}")
    else:
        raise SystemExit("usage: pkgdb.py remove PACKAGE[?]... | prune")


if __name__ == "__main__":
    main(sys.argv[1:])
