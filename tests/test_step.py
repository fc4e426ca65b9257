"""The entry every service build calls (base-image/build/step.py, shipped as /wheels/build/step.py):
its interface check comes before any step, names both sides and says what to run; a step it does
not know, or one given the wrong arguments, is refused in one line. Each case runs step.py as a
service's RUN does, from a wheelhouse folder made here with build/ in it; the e2e tests run the
steps themselves inside real images."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BUILD = Path(__file__).resolve().parents[1] / "base-image" / "build"


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    """A wheelhouse of interface 1: build/ as it ships (with its INTERFACE) and the facts it names."""
    folder = tmp_path / "wheels"
    shutil.copytree(BUILD, folder / "build")
    (folder / "build" / "INTERFACE").write_text("1\n")
    (folder / "wheelhouse.json").write_text(json.dumps({"created": "2026-12-01T00:00:00Z", "revision": "abc123"}))
    return folder


def step(wheels: Path, *args: str, interface: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "WHEELBASE_INTERFACE"}
    if interface is not None:
        env["WHEELBASE_INTERFACE"] = interface
    return subprocess.run([sys.executable, str(wheels / "build" / "step.py"), *args], capture_output=True, text=True,
                          env=env, check=False)


def test_another_interface_stops_the_first_step_naming_both_and_what_to_run(wheels: Path) -> None:
    done = step(wheels, "check", "--image", interface="2")
    assert done.returncode == 1
    assert done.stderr == ("error: this Dockerfile speaks wheelbase interface 2 (ARG WHEELBASE_INTERFACE), but the pinned "
                           "wheelhouse speaks interface 1 (built 2026-12-01T00:00:00Z from revision abc123); run `cruft update` "
                           "to take the template's Dockerfile for interface 1, or pin a wheelhouse release of interface 2\n")
    assert done.stdout == "", "no step ran"


@pytest.mark.parametrize("name", ["extras", "install-stack", "lock-tools", "lock", "install-extras", "install-dev"])
def test_every_step_checks_the_interface_before_it_does_anything(wheels: Path, name: str) -> None:
    done = step(wheels, name, "a", "b", interface="7")
    assert done.returncode == 1
    assert done.stderr.startswith("error: this Dockerfile speaks wheelbase interface 7")


def test_a_stage_that_declares_no_interface_is_told_to(wheels: Path) -> None:
    done = step(wheels, "check", "--image", interface=None)
    assert done.returncode == 1
    assert done.stderr.startswith("error: this stage of the Dockerfile does not declare `ARG WHEELBASE_INTERFACE`")


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["extras"], ["install-dev", "requirements-test.txt"]])
def test_an_unknown_step_or_wrong_arguments_are_refused_in_one_line(wheels: Path, args: list[str]) -> None:
    done = step(wheels, *args, interface="1")
    assert done.returncode == 1
    assert done.stderr.startswith("error: usage: step.py STEP [ARGUMENT...], with STEP one of check, install-stack")
    assert done.stderr.count("\n") == 1


def test_install_dev_takes_a_numeric_uid(wheels: Path) -> None:
    done = step(wheels, "install-dev", "requirements-test.txt", "app", interface="1")
    assert done.returncode == 1
    assert done.stderr == "error: install-dev takes the user's numeric UID, not 'app'\n"
