from pathlib import Path

import pytest

from wheelbase.errors import PinError, UsageError
from wheelbase.pins import discover, read_bakefile, read_dockerfile
from wheelbase.refs import ImageRef

OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
DOCKERFILE = f"""\
ARG BASE_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian@{OLD}
ARG RUNTIME_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian-runtime@{OLD}
ARG PYTHON_IMAGE=localhost/python:3.13-slim-trixie
FROM ${{BASE_IMAGE}} AS wheelhouse
FROM ${{PYTHON_IMAGE}} AS python
RUN echo BASE_IMAGE
"""


def write(tmp_path: Path, text: str, name: str = "Dockerfile") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_the_pin_and_the_runtime(tmp_path: Path) -> None:
    pinned = read_dockerfile(write(tmp_path, DOCKERFILE))
    assert pinned.base_ref == ImageRef.parse(f"localhost:5000/w/wheelhouse:py3.13-debian@{OLD}")
    assert pinned.runtime is not None and pinned.runtime.value == f"localhost:5000/w/wheelhouse:py3.13-debian-runtime@{OLD}"
    assert pinned.python is not None and pinned.python.value == "localhost/python:3.13-slim-trixie"


def test_rewrites_only_the_values(tmp_path: Path) -> None:
    pinned = read_dockerfile(write(tmp_path, DOCKERFILE))
    new = pinned.rewritten(ImageRef.parse(f"localhost:5000/w/wheelhouse:py3.13-debian@{NEW}"),
                           ImageRef.parse(f"localhost:5000/w/wheelhouse:py3.13-debian-runtime@{NEW}"), "python:3.13-slim-trixie")
    assert new == DOCKERFILE.replace(OLD, NEW).replace("localhost/python:3.13-slim-trixie", "python:3.13-slim-trixie")


def test_accepts_a_quoted_pin(tmp_path: Path) -> None:
    text = DOCKERFILE.replace(f"ARG BASE_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian@{OLD}",
                              f'ARG BASE_IMAGE="localhost:5000/w/wheelhouse:py3.13-debian@{OLD}"')
    pinned = read_dockerfile(write(tmp_path, text))
    assert '"' in pinned.rewritten(ImageRef.parse(f"localhost:5000/w/wheelhouse:py3.13-debian@{NEW}"), None, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DOCKERFILE.replace("\n", "\r\n"), "CRLF line endings"),
        ("ARG BASE_IMAGE=x:y\n", "no FROM instruction"),
        (DOCKERFILE.replace("ARG BASE_IMAGE", "ARG OTHER"), "no `ARG BASE_IMAGE="),
        (DOCKERFILE + f"ARG BASE_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian@{OLD}\n", "2 candidate"),
        (DOCKERFILE + "ARG RUNTIME_IMAGE=x:y\n", "2 candidate `ARG RUNTIME_IMAGE="),
        (DOCKERFILE.replace("FROM ${BASE_IMAGE} AS wheelhouse", "FROM scratch AS wheelhouse"), "no stage is `FROM"),
        (DOCKERFILE.replace(OLD, "sha256:nothex"), "malformed digest"),
        (DOCKERFILE.replace("py3.13-debian", "Bad Tag"), "not a valid image reference|malformed"),
    ],
)
def test_refuses_what_it_cannot_pin(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PinError, match=message):
        read_dockerfile(write(tmp_path, text))


def test_bake_file_pins_are_found_when_set(tmp_path: Path) -> None:
    text = f'variable "BASE_IMAGE" {{\n  default = "localhost:5000/w/wheelhouse:py3.13-debian@{OLD}"\n}}\n'
    pinned = read_bakefile(write(tmp_path, text, "docker-bake.hcl"))
    assert pinned is not None and pinned.base_ref is not None and pinned.base_ref.digest == OLD


def test_empty_bake_defaults_defer_to_the_dockerfile(tmp_path: Path) -> None:
    assert read_bakefile(write(tmp_path, 'variable "BASE_IMAGE" {\n  default = ""\n}\n', "docker-bake.hcl")) is None


def test_discovers_consumers_and_skips_other_dockerfiles(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "tools").mkdir()
    write(tmp_path / "svc", DOCKERFILE)
    write(tmp_path / "tools", "FROM python:3.13\n")
    assert [p.path for p in discover([tmp_path])] == [tmp_path / "svc" / "Dockerfile"]


def test_a_folder_without_consumers_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "FROM python:3.13\n")
    with pytest.raises(PinError, match="no Dockerfile under"):
        discover([tmp_path])


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        discover([tmp_path / "nope"])
