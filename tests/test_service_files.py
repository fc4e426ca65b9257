from pathlib import Path

import pytest

from wheelbase.errors import FileError, PinError, UsageError
from wheelbase.image_ref import ImageRef
from wheelbase.service_files import discover, read_bakefile, read_dockerfile

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
VALUES = {"BASE_IMAGE": f"localhost:5000/w/wheelhouse:py3.13-debian@{NEW}",
          "RUNTIME_IMAGE": f"localhost:5000/w/wheelhouse:py3.13-debian-runtime@{NEW}",
          "PYTHON_IMAGE": "python:3.13-slim-trixie"}


def write(folder: Path, text: str | bytes, name: str = "Dockerfile") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    return path


def test_reads_the_three_pins(tmp_path: Path) -> None:
    pinned = read_dockerfile(write(tmp_path, DOCKERFILE))
    assert pinned.base == ImageRef.parse(f"localhost:5000/w/wheelhouse:py3.13-debian@{OLD}")
    assert {pin.name: pin.value for pin in pinned.pins} == {
        "BASE_IMAGE": f"localhost:5000/w/wheelhouse:py3.13-debian@{OLD}",
        "RUNTIME_IMAGE": f"localhost:5000/w/wheelhouse:py3.13-debian-runtime@{OLD}",
        "PYTHON_IMAGE": "localhost/python:3.13-slim-trixie"}


def test_rewrites_only_the_values(tmp_path: Path) -> None:
    pinned = read_dockerfile(write(tmp_path, DOCKERFILE))
    assert pinned.rewritten(VALUES) == DOCKERFILE.replace(OLD, NEW).replace("localhost/python", "python")


@pytest.mark.parametrize("variant", [
    lambda t: "\ufeff" + t,  # a byte order mark
    lambda t: t.replace(f"ARG BASE_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian@{OLD}",
                        f'ARG BASE_IMAGE="localhost:5000/w/wheelhouse:py3.13-debian@{OLD}"'),  # quoted
    lambda t: t.replace("\nARG RUNTIME_IMAGE=", " RUNTIME_IMAGE="),  # two ARGs on one line
    lambda t: "ARG base_image=debian:bookworm\n" + t,  # another ARG that only differs in case
    lambda t: t.replace("FROM ${BASE_IMAGE} AS wheelhouse", "from $BASE_IMAGE as WheelHouse"),
])
def test_valid_dockerfiles_in_any_spelling_are_read_and_rewritten(tmp_path: Path, variant) -> None:  # type: ignore[no-untyped-def]
    text = variant(DOCKERFILE)
    pinned = read_dockerfile(write(tmp_path, text))
    assert pinned.base.digest == OLD
    assert pinned.names == {"BASE_IMAGE", "RUNTIME_IMAGE", "PYTHON_IMAGE"}
    new = pinned.rewritten(VALUES)
    assert new == text.replace(OLD, NEW).replace("localhost/python", "python")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DOCKERFILE.replace("\n", "\r\n"), "CRLF line endings"),
        ("ARG BASE_IMAGE=x:y\n", "no FROM instruction"),
        (DOCKERFILE.replace("ARG BASE_IMAGE", "ARG OTHER"), "no `ARG BASE_IMAGE="),
        (DOCKERFILE.replace("ARG BASE_IMAGE", "ARG base_image"), "no `ARG BASE_IMAGE="),
        (DOCKERFILE.replace("ARG BASE_IMAGE=", "ARG OTHER=", 1) + f"ARG BASE_IMAGE=localhost:5000/w/wheelhouse:t@{OLD}\n",
         "inside a stage"),
        ("ARG BASE_IMAGE=a:b\n" + DOCKERFILE, "2 candidate"),
        (DOCKERFILE.replace("ARG PYTHON_IMAGE", "ARG RUNTIME_IMAGE=x:y PYTHON_IMAGE"), "2 candidate `ARG RUNTIME_IMAGE="),
        (DOCKERFILE.replace("FROM ${BASE_IMAGE} AS wheelhouse", "FROM scratch AS wheelhouse"), "no stage is `FROM"),
        (DOCKERFILE.replace(OLD, "sha256:nothex"), "malformed digest"),
        (DOCKERFILE.replace("py3.13-debian@", "bad!tag@"), "malformed tag"),
        (DOCKERFILE.replace("ARG BASE_IMAGE=", "ARG BASE_IMAGE=${R}"), "not a literal"),
    ],
)
def test_refuses_what_it_cannot_pin(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PinError, match=message):
        read_dockerfile(write(tmp_path, text))


def test_bake_file_pins_are_found_behind_comments(tmp_path: Path) -> None:
    text = f'variable "BASE_IMAGE" {{\n  # kept by wheelbase pin\n  default = "localhost:5000/w/wheelhouse:py3.13-debian@{OLD}"\n}}\n'
    pinned = read_bakefile(write(tmp_path, text, "docker-bake.hcl"))
    assert pinned is not None and pinned.base.digest == OLD


def test_empty_bake_defaults_defer_to_the_dockerfile(tmp_path: Path) -> None:
    assert read_bakefile(write(tmp_path, 'variable "BASE_IMAGE" {\n  default = ""\n}\n', "docker-bake.hcl")) is None


def test_a_monorepo_keeps_everything_that_is_not_a_service_as_it_is(tmp_path: Path) -> None:
    service = write(tmp_path / "svc", DOCKERFILE).parent
    write(service, f'variable "BASE_IMAGE" {{\n  default = "localhost:5000/w/wheelhouse:py3.13-debian@{OLD}"\n}}\n', "docker-bake.hcl")
    write(tmp_path / "tools", "ARG BASE_IMAGE=debian:bookworm\nFROM ${BASE_IMAGE}\n")  # not a wheelhouse stage
    write(tmp_path / "packer", 'variable "BASE_IMAGE" {\n  default = "debian:bookworm"\n}\n', "image.pkr.hcl")
    write(tmp_path / "tools", 'variable "BASE_IMAGE" {\n  default = "debian:bookworm"\n}\n', "docker-bake.hcl")
    write(tmp_path / "legacy", "ARG BASE_IMAGE=caf\xe9:1\nFROM ${BASE_IMAGE}\n".encode("latin-1"))
    write(tmp_path / "blobs", bytes(range(256)) * 8, "Dockerfile.bin")
    write(tmp_path / "blobs", b"\x1f\x8b\x08\x00" + bytes(64), "Dockerfile.tar.gz")
    found = discover([tmp_path])
    assert [p.path for p in found] == [service / "Dockerfile", service / "docker-bake.hcl"]


def test_skipped_folders_are_not_entered(tmp_path: Path) -> None:
    write(tmp_path / "svc", DOCKERFILE)
    # a broken service Dockerfile: reading it would fail the run
    write(tmp_path / "node_modules" / "pkg", "ARG BASE_IMAGE=Bad Ref\nFROM ${BASE_IMAGE} AS wheelhouse\n")
    write(tmp_path / ".venv" / "lib", "ARG BASE_IMAGE=Bad Ref\nFROM ${BASE_IMAGE} AS wheelhouse\n")
    assert [p.path for p in discover([tmp_path])] == [tmp_path / "svc" / "Dockerfile"]


def test_a_service_dockerfile_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "svc", DOCKERFILE.replace("RUN echo", "RUN \xe9cho").encode("latin-1"))
    with pytest.raises(FileError, match="not UTF-8"):
        discover([tmp_path])


def test_a_folder_without_services_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "FROM python:3.13\n")
    with pytest.raises(PinError, match="no Dockerfile under"):
        discover([tmp_path])


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        discover([tmp_path / "nope"])


def test_a_symlinked_dockerfile_is_found_once(tmp_path: Path) -> None:
    real = write(tmp_path / "svc", DOCKERFILE)
    (tmp_path / "svc" / "prod.Dockerfile").symlink_to(real)
    assert len(discover([tmp_path])) == 1
