"""The in-image build script's pure parts: reading the lock and naming the target's wheel tags.
It runs under the build's tools venv, with the real `packaging`; so do these tests."""

import importlib.util
import platform
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "base-image" / "wheelhouse.py"
spec = importlib.util.spec_from_file_location("wheelhouse_script", SCRIPT)
assert spec and spec.loader
wheelhouse = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wheelhouse)

LOCK = """\
# comment
anyio==4.16.0 \\
    --hash=sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \\
    --hash=sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
    # via starlette
Typing_Extensions==4.16.0 \\
    --hash=sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
"""


def test_reads_each_pin_with_all_its_hashes(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text(LOCK)
    blocks = wheelhouse.pins(lock)
    assert [name for name, _ in blocks] == ["anyio", "typing-extensions"]
    assert blocks[0][1].count("--hash=sha256:") == 2 and "# via" not in blocks[0][1]


def test_a_lock_without_hashes_is_refused(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("anyio==4.16.0\n")
    with pytest.raises(SystemExit):
        wheelhouse.pins(lock)


def test_target_tags_are_this_interpreters_tags_for_the_other_machine() -> None:
    here = platform.machine()
    other = "aarch64" if here == "x86_64" else "x86_64"
    tags = wheelhouse.target_platform_tags(other)
    assert tags and all(tag.endswith(f"_{other}") for tag in tags)
    assert wheelhouse.target_platform_tags(here)[0].endswith(f"_{here}")


@pytest.mark.parametrize(("docker_platform", "machine"), [("linux/amd64", "x86_64"), ("linux/arm64", "aarch64")])
def test_docker_platforms_map_to_wheel_machines(docker_platform: str, machine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGETPLATFORM", docker_platform)
    assert wheelhouse.target_machine() == machine


def test_an_unknown_platform_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGETPLATFORM", "linux/s390x")
    with pytest.raises(SystemExit):
        wheelhouse.target_machine()


def test_settings_come_from_the_environment_not_flags() -> None:
    """The Dockerfile's ARGs are already the step's environment: the script takes no options."""
    dockerfile = (SCRIPT.parent / "Dockerfile").read_text()
    for line in dockerfile.splitlines():
        if "wheelhouse.py" in line and "python" in line:
            assert "--" not in line.split("wheelhouse.py", 1)[1], line
