"""The multi-platform wheelhouse, published by one command on this amd64 machine: the arm64 binary
wheels are fetched natively for the target (no emulation), then proven by installing and serving
in an emulated arm64 container, and both machines land under one tag as one image index."""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path

import pytest

from support import MULTI_PYTHON_IMAGE, REPO, RUN_ID, copy_from_image, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
MULTI_PYTHON = MULTI_PYTHON_IMAGE  # amd64 and arm64 stand-ins under one reference (.ci/provision)


@pytest.fixture(scope="module")
def multi_wheelhouse(registry: str) -> tuple[str, str]:
    """`PLATFORMS=linux/amd64,linux/arm64 docker buildx bake base --push`, as the README gives it
    (no cache, so that the log shows every step of both machines)."""
    if platform.machine() != "x86_64":
        pytest.fail("these tests build arm64 on an amd64 builder; this machine is not x86_64")
    image = f"{registry}/wheelbase-e2e-{RUN_ID}/multi"
    env = {"IMAGE": image, "FLAVOR": "debian", "PYTHON_VERSION": "3.13", "PYTHON_IMAGE": MULTI_PYTHON, "TAG": "multi",
           "PLATFORMS": "linux/amd64,linux/arm64"}
    done = run("docker", "buildx", "bake", "base", "--push", "--no-cache", "--progress", "plain", cwd=REPO, env=env)
    return f"{image}:multi-py3.13-debian", done.stderr


def test_one_bake_publishes_one_index_with_both_machines(multi_wheelhouse: tuple[str, str], tmp_path: Path) -> None:
    ref, _ = multi_wheelhouse
    index = json.loads(run("docker", "buildx", "imagetools", "inspect", ref, "--format", "{{json .Manifest}}").stdout)
    platforms = sorted(f"{m['platform']['os']}/{m['platform']['architecture']}" for m in index["manifests"]
                       if m["platform"]["os"] != "unknown")  # attestation manifests carry unknown/unknown
    assert platforms == ["linux/amd64", "linux/arm64"], index
    wheels = copy_from_image(ref, "/wheels", tmp_path, platform="linux/amd64")  # arm64's: the test below
    facts = json.loads((wheels / "wheelhouse.json").read_text())
    assert (facts["machine"], facts["docker_platform"]) == ("x86_64", "linux/amd64")


def test_binary_wheels_are_fetched_on_the_builder_and_nothing_is_compiled(multi_wheelhouse: tuple[str, str]) -> None:
    _, log = multi_wheelhouse
    assert "wheelhouse: fetching aarch64 wheels on x86_64" in log
    assert "wheelhouse: assembling the wheelhouse on aarch64" in log
    assert "no aarch64 wheel for" not in log, "a package was compiled under emulation"
    assert "+ apt-get install -y -qq --no-install-recommends gcc" not in log


def test_multi_wheelhouse_holds_aarch64_wheels_hashed_as_shipped(multi_wheelhouse: tuple[str, str], tmp_path: Path) -> None:
    ref, _ = multi_wheelhouse
    wheels = copy_from_image(ref, "/wheels", tmp_path, platform="linux/arm64")
    compiled = [w.name for w in wheels.glob("*.whl") if not w.name.endswith("-none-any.whl")]
    assert compiled and all(w.endswith("_aarch64.whl") for w in compiled), compiled
    facts = json.loads((wheels / "wheelhouse.json").read_text())
    assert facts["machine"] == "aarch64" and facts["docker_platform"] == "linux/arm64"


def test_multi_wheelhouse_installs_and_serves_in_an_emulated_arm64_container(multi_wheelhouse: tuple[str, str]) -> None:
    """The build's test stage is that container: BuildKit runs it on arm64 under QEMU, offline."""
    _, log = multi_wheelhouse
    steps = set(re.findall(r"^#(\d+) \[[^\]]*linux/arm64[^\]]* test \d+/\d+\] RUN ", log, re.MULTILINE))
    assert steps, "no arm64 test stage in the log"
    served = [line for line in log.splitlines() if line.split(" ", 1)[0].lstrip("#") in steps and "probe: HTTP 200" in line]
    assert served and "'loop': 'uvloop.Loop'" in served[0] and "httptools_impl" in served[0]
