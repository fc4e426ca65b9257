from pathlib import Path

import pytest

from wheelbase.errors import FileError
from wheelbase.files import read_text, replace_all


def test_replaces_atomically_and_keeps_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("old\n")
    path.chmod(0o640)
    replace_all({path: "new\n"})
    assert path.read_text() == "new\n"
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def test_a_read_only_file_stops_every_write(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text("a\n")
    second.write_text("b\n")
    second.chmod(0o444)
    with pytest.raises(FileError, match="read-only"):
        replace_all({first: "A\n", second: "B\n"})
    assert (first.read_text(), second.read_text()) == ("a\n", "b\n")


def test_non_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM \xff\n")
    with pytest.raises(FileError, match="not UTF-8"):
        read_text(path)


def test_unreadable_path_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="cannot read"):
        read_text(tmp_path / "missing")


def test_owner_read_only_mode_is_respected_even_for_root(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("x\n")
    path.chmod(0o400)
    with pytest.raises(FileError, match="read-only"):
        replace_all({path: "y\n"})
