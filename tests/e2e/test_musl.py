"""The musl half of the Alpine path, on the musl stand-in (CPython built against musl from Debian's
sources, flavor debian-musl): musllinux wheels fetched for the right tags, stripped and hash-locked,
installed offline and serving through uvloop and httptools; the runtime built; and a service from
the template built and run on it. apk is never called: the stand-in's package manager is apt."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from support import REPO, RUN_ID, Published, copy_from_image, publish_wheelhouse, run, start_container, wheelbase

pytestmark = pytest.mark.e2e
MUSL_IMAGE = "localhost/python:3.13-musl"


@pytest.fixture(scope="module")
def musl_wheelhouse(registry: str) -> Published:
    if run("docker", "image", "inspect", MUSL_IMAGE, check=False).returncode:
        pytest.fail(f"the musl stand-in {MUSL_IMAGE} is missing: run `.ci/provision tests`")
    return publish_wheelhouse(f"{registry}/wheelbase-e2e-{RUN_ID}/musl", FLAVOR="debian-musl", PYTHON_IMAGE=MUSL_IMAGE,
                              REVISION="musl-e2e")


def test_the_stand_in_is_a_musl_python_and_says_what_it_is(engine: None) -> None:
    first = run("docker", "run", "--rm", MUSL_IMAGE, "python", "-c",
                "from pip._vendor.packaging import tags; print(next(iter(tags.sys_tags())))").stdout.strip()
    assert re.fullmatch(r"cp313-cp313-musllinux_1_2_x86_64", first), first
    release = run("docker", "run", "--rm", MUSL_IMAGE, "cat", "/etc/os-release").stdout
    assert "ID=debian" in release and "VARIANT_ID=musl" in release and "alpine" not in release.lower()
    assert run("docker", "run", "--rm", MUSL_IMAGE, "sh", "-c", "command -v apk || echo none").stdout.strip() == "none"


def test_the_wheelhouse_holds_musllinux_wheels_that_install_offline_and_serve(
        musl_wheelhouse: Published, tmp_path: Path) -> None:
    """The image exists only because its test stage installed and served; here it is done once more."""
    wheels = copy_from_image(musl_wheelhouse.pinned, "/wheels", tmp_path)
    facts = json.loads((wheels / "wheelhouse.json").read_text())
    assert (facts["flavor"], facts["distribution"], facts["libc"]) == ("debian-musl", "debian", "musl")
    compiled = [p.name for p in wheels.glob("*.whl") if not p.name.endswith("-none-any.whl")]
    for package in ("uvloop", "httptools", "pydantic_core"):
        (wheel,) = [w for w in compiled if w.startswith(f"{package}-")]
        assert re.search(r"-cp313-cp313-musllinux_1_[12]_x86_64\.whl$", wheel), wheel
    probe = REPO / "base-image" / "probe.py"
    done = run("docker", "run", "--rm", "--network", "none", "-v", f"{wheels}:/wheels:ro", "-v", f"{probe}:/probe.py:ro",
               MUSL_IMAGE, "sh", "-c",
               "python -m venv /venv && /venv/bin/pip install --quiet --no-index --find-links /wheels --require-hashes "
               "--only-binary=:all: -r /wheels/requirements.txt && /venv/bin/python /probe.py")
    assert "probe: HTTP 200" in done.stdout and "'loop': 'uvloop.Loop'" in done.stdout



def test_a_service_on_the_musl_runtime_answers_as_uid_10001(musl_wheelhouse: Published, tmp_path: Path,
                                                           containers: list[str]) -> None:
    wheelbase("new", "Musl Orders", "--output-dir", str(tmp_path), "--base", musl_wheelhouse.ref)
    service = tmp_path / "musl-orders"
    built = run("docker", "buildx", "bake", "--progress", "plain", "test", "image", "--no-cache", cwd=service,
                env={"IMAGE": f"musl-orders-{RUN_ID}"})
    assert "this image matches the wheelhouse: Python 3.13, musl, x86_64" in built.stderr
    assert re.search(r"\d+ passed", built.stderr) and "rated at 10.00/10" in built.stderr
    start_container(f"musl-orders-{RUN_ID}:dev", containers)
    name = containers[-1]
    assert run("docker", "exec", name, "id", "-u").stdout.strip() == "10001"
    maps = run("docker", "exec", name, "cat", "/proc/1/maps").stdout
    assert "ld-musl-x86_64.so.1" in maps or "/usr/lib/x86_64-linux-musl/libc.so" in maps, "PID 1 is not on musl"
    assert re.search(r"/uvloop/loop\.cpython-313-x86_64-linux-musl\.so", maps), "uvloop's musl build is not loaded"
    assert re.search(r"/httptools/parser/parser\.cpython-313-x86_64-linux-musl\.so", maps)
