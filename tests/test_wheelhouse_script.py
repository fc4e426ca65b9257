"""The in-image build script's pure parts: reading the lock and naming the target's wheel tags.
It runs under the build's tools venv, with the real `packaging`; so do these tests."""

import importlib.util
import platform
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "base-image" / "wheelhouse.py"
sys.path.insert(0, str(SCRIPT.parent))  # the script imports wheels.py, beside it, as it does in the image
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
    blocks = wheelhouse.wheels.pins(lock)
    assert [name for name, _ in blocks] == ["anyio", "typing-extensions"]
    assert blocks[0][1].count("--hash=sha256:") == 2 and "# via" not in blocks[0][1]


def test_a_lock_without_hashes_pins_nothing(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("anyio==4.16.0\n")
    assert wheelhouse.wheels.pins(lock) == []


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


@pytest.mark.parametrize(("output", "says"), [
    ("Building wheel for psycopg2 (pyproject.toml): started\nError: pg_config executable not found.\n",
     "compiling psycopg2 from source failed; it needs the program pg_config: add the system package that has it to build-packages.txt"),
    ("Building wheel for lxml\nsrc/lxml/etree.c:96:10: fatal error: libxml/xmlversion.h: No such file or directory\n",
     "compiling lxml from source failed; it needs the header libxml/xmlversion.h: add the system package"),
    ("Building wheel for fastnumbers\nModuleNotFoundError: No module named 'Cython'\n",
     "it needs the Python module Cython to build: add its package to requirements-build.in and lock again"),
])
def test_a_failed_compile_names_the_package_what_is_missing_and_where_to_add_it(output: str, says: str) -> None:
    message = wheelhouse.wheels.explain(output, "build-packages.txt", "requirements-build.in")
    assert says in message and "Its build said:" in message
