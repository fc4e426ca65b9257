"""The musl half of the Alpine path, on the musl stand-in (CPython built against musl from Debian's
sources, flavor debian-musl): musllinux wheels fetched for the right tags, stripped and hash-locked,
installed offline and serving through uvloop and httptools; the runtime built; a service from the
template built and run on it; and what its toolchain can build from sources: a C extension with
musl-gcc, repaired to a musllinux tag, and a service's sdist-only extra. apk is never called: the
stand-in's package manager is apt."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from support import (
    MUSL_PYTHON_IMAGE,
    REPO,
    RUN_ID,
    WHEELBASE,
    Published,
    bake_env,
    copy_from_image,
    publish_wheelhouse,
    run,
    start_container,
    wheelbase,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
MUSL_IMAGE = MUSL_PYTHON_IMAGE


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


def test_httptools_compiled_with_musl_gcc_is_repaired_to_musllinux_and_serves(registry: str, tmp_path: Path) -> None:
    """NO_BINARY=httptools on the musl flavor: the toolchain's musl-gcc, musl's libc under its Alpine
    name, auditwheel's musllinux policy, and the test stage serving through the wheel built here
    (the build passes only then)."""
    env = bake_env(f"{registry}/wheelbase-e2e-{RUN_ID}/musl-compiled", FLAVOR="debian-musl", PYTHON_IMAGE=MUSL_IMAGE,
                   NO_BINARY="httptools")
    done = run("docker", "buildx", "bake", "base", "--progress", "plain", "--no-cache",
               "--set", f"base.output=type=local,dest={tmp_path}", cwd=REPO, env=env)
    assert re.search(r"apt-get install .*musl-tools", done.stderr), "the toolchain did not install musl-gcc"
    # Linked against musl (glibc's would be libc.so.6), renamed as Alpine names it, then repaired.
    assert re.search(r"wheels: httptools-\S+-linux_x86_64\.whl links libc\.so, .* renamed libc\.musl-x86_64\.so\.1", done.stderr)
    assert re.search(r"wheels: repairing httptools-\S+-linux_x86_64\.whl", done.stderr)
    (wheel,) = (tmp_path / "wheels").glob("httptools-*.whl")
    assert re.search(r"-cp313-cp313-musllinux_1_\d_x86_64\.whl$", wheel.name), wheel.name
    built = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert f"--hash=sha256:{built}" in (tmp_path / "wheels" / "requirements.txt").read_text()
    assert built not in (REPO / "base-image" / "requirements.txt").read_text()


def test_sdist_only_extras_pure_and_c_build_into_a_musl_service(musl_wheelhouse: Published, tmp_path: Path) -> None:
    """docopt (pure Python) and crcmod (a C extension) publish sdists only: the service's
    extras-wheels stage compiles crcmod with musl-gcc and repairs it to musllinux."""
    wheelbase("new", "Musl Sdists", "--output-dir", str(tmp_path), "--base", musl_wheelhouse.ref)
    service = tmp_path / "musl-sdists"
    (service / "requirements.in").write_text("docopt\ncrcmod\n")
    run(WHEELBASE, "lock", str(service))
    built = run("docker", "buildx", "bake", "--progress", "plain", "image", "--no-cache", cwd=service,
                env={"IMAGE": f"musl-sdists-{RUN_ID}"})
    assert re.search(r"wheels: repairing crcmod-\S+-linux_x86_64\.whl", built.stderr)
    done = run("docker", "run", "--rm", "--network", "none", "--user", "10001:10001", f"musl-sdists-{RUN_ID}:dev",
               "python", "-c", "import crcmod._crcfunext as c, docopt, sys; "
               "print(docopt.__version__, c.__file__, sys.implementation._multiarch)")
    version, module, multiarch = done.stdout.split()  # crcmod's C module itself, not its pure fallback
    assert f"docopt=={version} " in (service / "requirements.txt").read_text()
    assert module.endswith("-x86_64-linux-musl.so") and multiarch == "x86_64-linux-musl"
    image = f"musl-sdists-{RUN_ID}:dev"
    found = run("docker", "run", "--rm", "--entrypoint", "sh", image, "-c",
                "command -v gcc cc apt-get apk pip; find / -xdev -name '*.whl' 2>/dev/null; true").stdout
    assert found.strip() == "", found


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
