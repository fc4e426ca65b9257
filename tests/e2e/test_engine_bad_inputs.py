"""Every bad input that needs the engine: locks and builds of a service made with `wheelbase new` on
the session's wheelhouse, run as a user runs them. Each case: one actionable line, its exit code
(any non-zero for docker buildx), no traceback under `-W error` and a strict UTF-8 stdout, every
file as it was (hash, mode, owner, group), and no process of it left running. The table of
messages is docs/bad-inputs.md's engine section (see tests/bad_inputs.py); the cases that need no
engine are in tests/test_bad_inputs.py."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from bad_inputs import Case, World, check_row, run_case, table_rows, write_rows

from support import OTHER_PYTHON_IMAGE, WHEELBASE, Published

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("error")]


def wb(*args: str) -> Callable[[World], list[str]]:
    return lambda world: [WHEELBASE, *args]


def bake(*args: str) -> Callable[[World], list[str]]:
    return lambda world: ["docker", "buildx", "bake", "--progress", "plain", *args]


def edit(name: str, change: Callable[[str], str]) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        path = world.service / name
        path.write_text(change(path.read_text()))
    return prepare


def each(*steps: Callable[[World], None]) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        for step in steps:
            step(world)
    return prepare


PSYCOPG2 = edit("requirements.in", lambda text: text + "psycopg2==2.9.13\n")
# Extras whose resolution takes PyPI some seconds; the case acts once pip-compile runs in the lock's build.
# (Each case's own comment keeps BuildKit from answering it from the cache of another's.)
def a_lock_that_takes_a_while(case: str) -> Callable[[World], None]:
    return edit("requirements.in", lambda text: f"{text}boto3\nhttpx\nrich\npydantic-settings\nsqlalchemy\n# {case}\n")


RESOLVING = "pip_compile.py"

CASES = [
    Case("lock-unresolvable", "requirements.in that does not resolve", wb("lock", "."), 7,
         prepare=edit("requirements.in", lambda text: text + "wheelbase-no-such-package-anywhere==1.0\n")),
    Case("lock-conflict", "extra that conflicts with the wheelhouse's pins", wb("lock", "."), 7,
         prepare=edit("requirements.in", lambda text: text + "anyio<4\n")),
    Case("lock-sdist-without-its-system-package", "an extra built from its sdist (psycopg2) without libpq's headers",
         wb("lock", "."), 7, prepare=PSYCOPG2),
    Case("lock-read-only", "read-only lock file", wb("lock", "."), 8,
         prepare=lambda world: (world.service / "requirements.txt").chmod(0o444)),
    Case("lock-edited-meanwhile", "requirements.in edited while the lock runs", wb("lock", "."), 8,
         prepare=a_lock_that_takes_a_while("lock-edited-meanwhile"), may_change=("requirements.in",),
         during=(RESOLVING, edit("requirements.in", lambda text: text + "# edited while the lock ran\n"))),
    Case("lock-sigint", "SIGINT while the lock's build runs", wb("lock", "."), 128 + signal.SIGINT,
         prepare=a_lock_that_takes_a_while("lock-sigint"), during=(RESOLVING, signal.SIGINT)),
    Case("lock-sigterm", "SIGTERM while the lock's build runs", wb("lock", "."), 128 + signal.SIGTERM,
         prepare=a_lock_that_takes_a_while("lock-sigterm"), during=(RESOLVING, signal.SIGTERM)),
    Case("lock-sigquit", "SIGQUIT while the lock's build runs", wb("lock", "."), 128 + signal.SIGQUIT,
         prepare=a_lock_that_takes_a_while("lock-sigquit"), during=(RESOLVING, signal.SIGQUIT)),
    Case("build-conflict", "requirements.txt pinning a shared package to another version", bake("image"), None,
         prepare=each(edit("requirements.txt", lambda text: text + "anyio==3.7.1 \\\n    --hash=sha256:" + "0" * 64 + "\n"),
                      edit("Dockerfile", lambda text: text.replace("ARG EXTRAS=false\n", "ARG EXTRAS=true\n")))),
    Case("build-runtime-mismatch", "runtime image that does not match the wheelhouse", bake("image"), None,
         env=(("RUNTIME_IMAGE", OTHER_PYTHON_IMAGE),)),
    Case("build-other-interface", "Dockerfile that speaks another interface than its wheelhouse", bake("image"), None,
         prepare=edit("Dockerfile", lambda text: text.replace("ARG WHEELBASE_INTERFACE=1 ", "ARG WHEELBASE_INTERFACE=2 "))),
    Case("lock-python-mismatch", "Python image for the lock that does not match the wheelhouse", wb("lock", "."), 7,
         env=(("PYTHON_IMAGE", OTHER_PYTHON_IMAGE),)),
    Case("build-extras-switch-off", "requirements.txt listing an extra while the Dockerfile says EXTRAS=false", bake("image"), None,
         prepare=edit("requirements.txt", lambda text: text + "python-multipart==0.0.20 \\\n    --hash=sha256:" + "0" * 64 + "\n")),
]

RESULTS: dict[str, tuple[str, str, str]] = {}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_clearly_and_changes_nothing(case: Case, made_service: Path, wheelhouse: Published,
                                                     tmp_path: Path) -> None:
    root = tmp_path / "work"
    shutil.copytree(made_service.parent, root, symlinks=True)
    world = World(root, root / made_service.name, wheelhouse.ref)
    code, message = run_case(case, world)
    check_row("engine", case, code, message, RESULTS)


def test_the_table_lists_exactly_these_cases() -> None:
    if os.environ.get("WHEELBASE_WRITE_BAD_INPUTS"):
        write_rows("engine", [c for c in CASES if c.id in RESULTS], RESULTS)
    assert list(table_rows("engine")) == [c.id for c in CASES]
