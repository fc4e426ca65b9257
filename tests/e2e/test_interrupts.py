"""A signal in the middle of `wheelbase new` or `wheelbase pin` leaves every file or none, and
nothing half-made: a real process, a real signal, at many moments."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from support import REPO, WHEELBASE, Published, tree_digest, wheelbase

pytestmark = pytest.mark.e2e
ENV = {**os.environ, "WHEELBASE_TEMPLATE": f"file://{REPO}"}


def interrupt_after(args: list[str], delay: float, signum: int, cwd: Path) -> int:
    process = subprocess.Popen(args, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(delay)
    process.send_signal(signum)
    process.wait(timeout=120)
    return process.returncode


def test_an_interrupted_new_leaves_nothing_and_the_next_run_works(wheelhouse: Published, tmp_path: Path) -> None:
    outcomes = set()
    for delay in (0.3, 0.6, 0.9, 1.2, 1.6, 2.0, 3.0):
        folder = tmp_path / f"after-{delay}"
        folder.mkdir()
        code = interrupt_after([WHEELBASE, "new", "Orders API", "--base", wheelhouse.ref], delay, signal.SIGTERM, folder)
        left = sorted(p.name for p in folder.iterdir())
        assert left in ([], ["orders-api"]), f"after a SIGTERM at {delay} s: {left}"
        if left:
            assert (folder / "orders-api" / ".cruft.json").is_file() and code == 0
        else:
            assert code == 128 + signal.SIGTERM
            wheelbase("new", "Orders API", "--base", wheelhouse.ref, "--output-dir", str(folder))
            assert (folder / "orders-api" / "Dockerfile").is_file()
        outcomes.add(bool(left))
    assert False in outcomes, "no run was interrupted: the delays are too long for this machine"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_pin_of_150_files_changes_all_or_none(wheelhouse: Published, tmp_path: Path, signum: int) -> None:
    stale = (f"ARG BASE_IMAGE={wheelhouse.ref}@sha256:{'0' * 64}\nARG PYTHON_IMAGE=python:3.13\n"
             "FROM ${BASE_IMAGE} AS wheelhouse\nFROM ${PYTHON_IMAGE}\n")
    outcomes = set()
    for delay in (0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.7, 2.5):
        root = tmp_path / f"{signum}-{delay}"
        for i in range(150):
            (root / f"svc-{i:03}").mkdir(parents=True)
            (root / f"svc-{i:03}" / "Dockerfile").write_text(stale)
        code = interrupt_after([WHEELBASE, "pin", "."], delay, signum, root)
        texts = {(root / f"svc-{i:03}" / "Dockerfile").read_text() for i in range(150)}
        assert len(texts) == 1, f"some files pinned and some not after a signal at {delay} s"
        assert len(tree_digest(root)) == 150 and not list(root.rglob(".*")), "a staged file was left behind"
        untouched = texts.pop() == stale
        # The exit status says which: a signal after the write no longer stops the command.
        assert code == (128 + signum if untouched else 0), f"exit {code} after a signal at {delay} s"
        outcomes.add(untouched)
    assert outcomes == {True, False}, "the signals should land both before and after the write"
