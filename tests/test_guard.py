"""The guard every service build runs (base-image/build/guard.py, shipped as /wheels/build/guard.py
and run by `step.py check`): what --image and --extras decide, and that a build without extras
pays only for os and sys. Each case runs the step in a fresh interpreter (-I -S: nothing imported
that the step itself does not import) from a wheelhouse folder made here, with build/ in it as the
wheelhouse ships it; the e2e tests run it inside real images."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BUILD = Path(__file__).resolve().parents[1] / "base-image" / "build"
# What the guard may not load for --image and --extras on a matching image and an empty requirements.txt.
SLOW_MODULES = ("json", "re", "hashlib", "pathlib", "sysconfig", "platform")
SERIES = "{}.{}".format(*sys.version_info[:2])
LIBC = "musl" if getattr(sys.implementation, "_multiarch", "").endswith("musl") else "glibc"


def wheelhouse(folder: Path, *, series: str = SERIES, libc: str = LIBC, machine: str = platform.machine(),
               fits: bool = True) -> Path:
    """A /wheels with the facts guard.py reads: wheelhouse.json and, unless fits=False (a wheelhouse
    built before fits/ existed), its fits/ file."""
    shutil.copytree(BUILD, folder / "build")
    (folder / "build" / "INTERFACE").write_text("1\n")
    facts = {"python_series": series, "libc": libc, "machine": machine, "python_image": "python:x", "flavor": "debian"}
    (folder / "wheelhouse.json").write_text(json.dumps(facts))
    if fits:
        (folder / "fits").mkdir()
        (folder / "fits" / f"{series}-{libc}-{machine}").touch()
    return folder


def guard(wheels: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`step.py check ARGS` from the wheelhouse folder, as a service's Dockerfile runs it (its stage
    declares interface 1); prints the slow modules it loaded last."""
    build = str(wheels / "build")
    program = (f"import sys; sys.path.insert(0, {build!r}); import step\n"
               f"try:\n    step.main(['check', *{list(args)!r}])\n"
               f"finally:\n    print('loaded:', [m for m in {SLOW_MODULES!r} if m in sys.modules])")
    return subprocess.run([sys.executable, "-I", "-S", "-c", program], capture_output=True, text=True, check=False,
                          env={**os.environ, "WHEELBASE_INTERFACE": "1"})


def loaded(done: subprocess.CompletedProcess[str]) -> list[str]:
    return json.loads(done.stdout.rsplit("loaded: ", 1)[1].replace("'", '"'))


@pytest.fixture
def requirements(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("# no extras: the wheelhouse's stack is all this service needs\n")
    return path


def test_a_matching_image_without_extras_loads_nothing_but_os_and_sys(tmp_path: Path, requirements: Path) -> None:
    done = guard(wheelhouse(tmp_path / "wheels"), "--image", "--extras=false", str(requirements))
    assert done.returncode == 0, done.stderr
    assert f"this image matches the wheelhouse: Python {SERIES}, {LIBC}, {platform.machine()}" in done.stdout
    assert "requirements.txt: nothing listed" in done.stdout
    assert loaded(done) == []


def test_a_wheelhouse_without_fits_is_checked_from_its_json(tmp_path: Path, requirements: Path) -> None:
    done = guard(wheelhouse(tmp_path / "wheels", fits=False), "--image", "--extras=false", str(requirements))
    assert done.returncode == 0, done.stderr
    assert "this image matches the wheelhouse" in done.stdout
    assert "json" in loaded(done)


@pytest.mark.parametrize("fits", [True, False])
def test_another_python_series_fails_naming_both_sides(tmp_path: Path, requirements: Path, fits: bool) -> None:
    done = guard(wheelhouse(tmp_path / "wheels", series="3.99", fits=fits), "--image", "--extras=false", str(requirements))
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: this image (Python {SERIES}, {LIBC}, {platform.machine()}) does not match "
                                  f"the wheelhouse (Python 3.99, {LIBC}, {platform.machine()}, built on python:x, flavor debian)")
    assert "matches" not in done.stdout


def test_another_libc_fails(tmp_path: Path, requirements: Path) -> None:
    other = "glibc" if LIBC == "musl" else "musl"
    done = guard(wheelhouse(tmp_path / "wheels", libc=other), "--image", str(requirements))
    assert done.returncode == 1
    assert f"does not match the wheelhouse (Python {SERIES}, {other}," in done.stderr


def test_extras_listed_with_extras_false_fail_naming_them(tmp_path: Path, requirements: Path) -> None:
    requirements.write_text("docopt==0.6.2 \\\n    --hash=sha256:" + "0" * 64 + "\n    # via -r requirements.in\n")
    done = guard(wheelhouse(tmp_path / "wheels"), "--image", "--extras=false", str(requirements))
    assert done.returncode == 1
    assert done.stderr.startswith("error: requirements.txt lists extras (docopt) but the Dockerfile has EXTRAS=false")
