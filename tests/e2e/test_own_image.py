"""The seed's own pattern as a template choice: a service deployed on its organisation's own Python
image, with the stack installed into it from /wheels (offline, hash-checked, bytecode), guarded
like the runtime, and refused when that image does not fit the wheelhouse."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support import OTHER_PYTHON_IMAGE, PYTHON_IMAGE, RUN_ID, Published, image_files, run, start_container, wheelbase

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def organisation_image(registry: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Not the image the wheelhouse was built on, but compatible: the stand-in plus a layer of its own."""
    context = tmp_path_factory.mktemp("org-image")
    (context / "org-ca.crt").write_text("# the organisation's CA would be here\n")
    (context / "Dockerfile").write_text(f"FROM {PYTHON_IMAGE}\nCOPY org-ca.crt /usr/local/share/ca-certificates/org-ca.crt\n"
                                        "LABEL org.example.hardened=true\n")
    image = f"{registry}/wheelbase-e2e-{RUN_ID}/org-python:3.13"
    run("docker", "buildx", "build", "--quiet", "--provenance=false", "--tag", image, "--push", str(context))
    return image


@pytest.fixture
def own_service(wheelhouse: Published, organisation_image: str, tmp_path: Path) -> Path:
    wheelbase("new", "Own Image", "--output-dir", str(tmp_path), "--base", wheelhouse.ref, "--own-image", organisation_image)
    return tmp_path / "own-image"



def test_a_service_on_its_own_image_builds_tests_and_serves(own_service: Path, organisation_image: str,
                                                            wheelhouse: Published, containers: list[str], tmp_path: Path) -> None:
    dockerfile = (own_service / "Dockerfile").read_text()
    assert re.search(rf"^ARG PYTHON_IMAGE={re.escape(organisation_image)}@sha256:[0-9a-f]{{64}}$", dockerfile, re.MULTILINE)
    assert "RUNTIME_IMAGE" not in dockerfile and "FROM ${PYTHON_IMAGE} AS runtime" in dockerfile
    image = f"own-image-{RUN_ID}"
    built = run("docker", "buildx", "bake", "--progress", "plain", "test", "image", "--no-cache", cwd=own_service,
                env={"IMAGE": image})
    assert "this image matches the wheelhouse: Python 3.13, glibc, x86_64" in built.stderr
    assert re.search(r"\d+ passed", built.stderr)

    start_container(f"{image}:dev", containers)
    name = containers[-1]
    assert run("docker", "exec", name, "id", "-u").stdout.strip() == "10001"
    maps = run("docker", "exec", name, "cat", "/proc/1/maps").stdout
    assert re.search(r"/opt/venv/lib/python3\.13/site-packages/uvloop/loop\.cpython-\d+.*\.so", maps)
    assert re.search(r"/httptools/parser/parser\.cpython-\d+.*\.so", maps)
    # The same serving package as the shared runtime's, installed from the wheelhouse into the own image.
    cmdline = run("docker", "exec", name, "cat", "/proc/1/cmdline").stdout.split("\0")
    assert cmdline[:2] == ["/opt/venv/bin/python", "/opt/venv/bin/wheelbase-serve"]

    layers = image_files(f"{image}:dev", tmp_path)
    theirs = image_files(organisation_image, tmp_path)  # the organisation's own layers (Debian's bundled wheels among them)
    ours = [n.removeprefix("./") for layer, names in layers.items() if layer not in theirs for n in names]
    everything = [n.removeprefix("./") for names in layers.values() for n in names]
    assert ours and [n for n in ours if n.endswith(".whl") or n.startswith("wheels/") or "/.cache/pip" in n] == []
    assert any(n.endswith(".pyc") and "site-packages/fastapi/" in n for n in everything), "no bytecode for the stack"
    assert not any(re.search(r"^opt/venv/lib/python3\.13/site-packages/pip/", n) for n in everything), "pip in the venv"
    assert run("docker", "run", "--rm", f"{image}:dev", "cat", "/usr/local/share/ca-certificates/org-ca.crt").returncode == 0


def test_pin_moves_the_wheelhouse_and_leaves_the_own_image_alone(own_service: Path, organisation_image: str) -> None:
    before = next(line for line in (own_service / "Dockerfile").read_text().splitlines() if line.startswith("ARG PYTHON_IMAGE="))
    assert wheelbase("pin", "--check", str(own_service)).returncode == 0
    dockerfile = own_service / "Dockerfile"
    dockerfile.write_text(re.sub(r"(ARG BASE_IMAGE=\S+)@sha256:\w+", r"\1", dockerfile.read_text()))
    pinned = wheelbase("pin", str(own_service))
    assert "BASE_IMAGE" in pinned.stdout and "PYTHON_IMAGE" not in pinned.stdout
    assert before in dockerfile.read_text()


def test_an_own_image_that_does_not_fit_is_refused_naming_both(own_service: Path) -> None:
    done = run("docker", "buildx", "bake", "--progress", "plain", "image", cwd=own_service,
               env={"PYTHON_IMAGE": OTHER_PYTHON_IMAGE}, check=False)
    assert done.returncode != 0
    message = next(line for line in done.stderr.splitlines() if "error: this image" in line)
    assert "Python 3.11, glibc, x86_64" in message and "Python 3.13, glibc, x86_64" in message
