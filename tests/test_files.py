import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from wheelbase.errors import FileError
from wheelbase.files import Edit, read_text, replace_all


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


def test_a_symlink_stays_a_symlink_and_its_target_is_written(tmp_path: Path) -> None:
    target = tmp_path / "real" / "Dockerfile"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "Dockerfile"
    link.symlink_to(target)
    replace_all({link: "new\n"})
    assert link.is_symlink() and target.read_text() == "new\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_the_owner_is_kept_when_root_writes(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("old\n")
    os.chown(path, 10001, 10002)
    replace_all({path: "new\n"})
    assert (path.stat().st_uid, path.stat().st_gid) == (10001, 10002)


def test_a_file_edited_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text("a\n")
    second.write_text("b\n")
    edits = [Edit(first, b"a\n", "A\n"), Edit(second, b"b\n", "B\n")]
    second.write_text("edited by hand\n")
    with pytest.raises(FileError, match="changed while wheelbase was running"):
        replace_all(edits)
    assert (first.read_text(), second.read_text()) == ("a\n", "edited by hand\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


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


WRITER = textwrap.dedent("""
    import signal, sys
    from pathlib import Path
    from wheelbase.cli import _interrupt
    from wheelbase.files import replace_all
    # Ctrl-C as a terminal's foreground process gets it: a parent that left SIGINT ignored (a
    # shell's `&` does) would leave it ignored here too, as Python keeps an inherited SIG_IGN.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, _interrupt)
    folder = Path(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()  # the test's "go": it sends the signal right after, from a process already running
    replace_all({p: "new\\n" * 2000 for p in sorted(folder.iterdir())})
""")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT])
def test_a_signal_during_the_write_leaves_every_file_or_none(tmp_path: Path, signum: int) -> None:
    """150 files, a real process and a real signal at many moments, sooner and later until it has
    landed both before and after the files were written: never some of each, never a staged file left."""
    outcomes: set[bool] = set()
    delay, runs = 0.0, 0
    while outcomes != {True, False}:
        assert runs < 60, f"after {runs} runs up to {delay:.2f} s, the signal only ever landed {'before' if True in outcomes else 'after'}"
        folder = tmp_path / f"run-{runs}"
        folder.mkdir()
        for i in range(150):
            (folder / f"Dockerfile.{i:03}").write_text("old\n")
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(folder)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert writer.stdin is not None and writer.stdout is not None and writer.stdout.readline() == b"ready\n"
        # Waking from that read can take longer than the whole write when both cores are busy, so the
        # write starts on a word sent from here, and the signal follows it at `delay`.
        writer.stdin.write(b"go\n")
        writer.stdin.flush()
        time.sleep(delay)
        writer.send_signal(signum)
        writer.wait(timeout=30)
        contents = {p.read_text() for p in folder.iterdir()}
        assert contents in ({"old\n"}, {"new\n" * 2000}), f"mixed files after a signal at {delay:.3f} s"
        assert len(list(folder.iterdir())) == 150, "a staged file was left behind"
        outcomes.add(contents.pop() == "old\n")
        runs += 1
        delay = delay * 1.3 + 0.005 if outcomes == {True} else delay * 0.7  # later until it lands after, sooner until before


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="sets another owner: needs root (CI runs it as root)")


@needs_root
def test_owner_group_setuid_and_setgid_are_kept(tmp_path: Path) -> None:
    """chown clears setuid and setgid, so the writer chowns first, then sets the mode."""
    path = tmp_path / "Dockerfile"
    path.write_text("old\n")
    os.chown(path, 1234, 5678)
    path.chmod(0o6751)
    replace_all({path: "new\n"})
    info = path.stat()
    assert (info.st_uid, info.st_gid, oct(info.st_mode & 0o7777)) == (1234, 5678, oct(0o6751))


def test_extended_attributes_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("old\n")
    try:
        os.setxattr(path, "user.wheelbase-test", b"kept")
    except OSError as exc:
        pytest.skip(f"this file system takes no user extended attributes ({exc.strerror})")
    replace_all({path: "new\n"})
    assert os.getxattr(path, "user.wheelbase-test") == b"kept"


def test_a_file_with_another_hard_link_is_refused(tmp_path: Path) -> None:
    path, other = tmp_path / "Dockerfile", tmp_path / "copy"
    path.write_text("old\n")
    os.link(path, other)
    with pytest.raises(FileError, match="2 hard links"):
        replace_all({path: "new\n"})
    assert path.read_text() == other.read_text() == "old\n"


def test_a_fifo_is_refused_without_being_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "Dockerfile"
    os.mkfifo(fifo)
    with pytest.raises(FileError, match="is a FIFO"):
        read_text(fifo)


def test_a_file_larger_than_the_bound_is_refused(tmp_path: Path) -> None:
    from wheelbase.files import read_bytes

    path = tmp_path / "Dockerfile"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(FileError, match="at most 1,024 bytes"):
        read_bytes(path, limit=1024)
