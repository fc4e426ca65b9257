"""pin's planning and reporting, with the registry answer given directly (the e2e tests ask a real one)."""

from pathlib import Path

import pytest

from wheelbase.engine import RemoteImage
from wheelbase.errors import CompatibilityError, StalePinError, UsageError
from wheelbase.pinning import plan
from wheelbase.refs import ImageRef
from wheelbase.wheelhouse import Wheelhouse

OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
LABELS = {"dev.wheelbase.flavor": "debian", "dev.wheelbase.python.version": "3.13",
          "dev.wheelbase.python.image": "python:3.13-slim-trixie"}
DOCKERFILE = f"""\
ARG BASE_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian@{OLD}
ARG RUNTIME_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian-runtime@{OLD}
ARG PYTHON_IMAGE=localhost/python:3.13-slim-trixie
FROM ${{BASE_IMAGE}} AS wheelhouse
"""


def answer(digest: str, labels: dict[str, str] = LABELS, runtime_labels: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """A registry's answer: the wheelhouse tag and its -runtime tag both at `digest`."""
    asked: list[ImageRef] = []

    def resolve(ref: ImageRef) -> Wheelhouse:
        asked.append(ref)
        is_runtime = ref.tag is not None and ref.tag.endswith("-runtime")
        return Wheelhouse.from_remote(RemoteImage(ref, digest, runtime_labels if is_runtime and runtime_labels else labels))

    return resolve, asked


def service(tmp_path: Path, text: str = DOCKERFILE) -> Path:
    (tmp_path / "Dockerfile").write_text(text)
    return tmp_path


def test_moves_pin_and_runtime_to_the_registry_answer(tmp_path: Path) -> None:
    resolve, asked = answer(NEW)
    changes, texts = plan([service(tmp_path)], None, resolve)
    assert [str(a) for a in asked] == ["localhost:5000/w/wheelhouse:py3.13-debian",
                                       "localhost:5000/w/wheelhouse:py3.13-debian-runtime"]
    assert len(changes) == 1
    assert [name for name, _, _ in changes[0].edits] == ["BASE_IMAGE", "RUNTIME_IMAGE", "PYTHON_IMAGE"]
    assert f"ARG RUNTIME_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian-runtime@{NEW}" in texts[tmp_path / "Dockerfile"]
    assert "@" + NEW in texts[tmp_path / "Dockerfile"]
    assert "ARG PYTHON_IMAGE=python:3.13-slim-trixie" in texts[tmp_path / "Dockerfile"]
    assert (tmp_path / "Dockerfile").read_text() == DOCKERFILE


def test_a_current_pin_plans_nothing(tmp_path: Path) -> None:
    text = DOCKERFILE.replace("localhost/python", "python")
    resolve, _ = answer(OLD)
    assert plan([service(tmp_path, text)], None, resolve) == ([], {})


def test_base_option_switches_the_tag(tmp_path: Path) -> None:
    resolve, asked = answer(NEW)
    _, texts = plan([service(tmp_path)], "localhost:5000/w/wheelhouse:2026.11.0-py3.13-debian", resolve)
    assert str(asked[0]) == "localhost:5000/w/wheelhouse:2026.11.0-py3.13-debian"
    assert f"wheelhouse:2026.11.0-py3.13-debian@{NEW}" in texts[tmp_path / "Dockerfile"]


def test_base_with_a_digest_is_refused(tmp_path: Path) -> None:
    resolve, _ = answer(NEW)
    with pytest.raises(UsageError, match="not a digest"):
        plan([service(tmp_path)], f"localhost:5000/w/wheelhouse:py3.13-debian@{NEW}", resolve)


def test_an_image_without_wheelhouse_labels_is_refused(tmp_path: Path) -> None:
    resolve, _ = answer(NEW, labels={"org.opencontainers.image.title": "something else"})
    with pytest.raises(CompatibilityError, match="is not a wheelhouse"):
        plan([service(tmp_path)], None, resolve)


def test_a_runtime_from_another_release_is_refused(tmp_path: Path) -> None:
    resolve, _ = answer(NEW, runtime_labels={**LABELS, "dev.wheelbase.python.version": "3.12"})
    with pytest.raises(CompatibilityError, match="was not built with"):
        plan([service(tmp_path)], None, resolve)


def test_a_file_without_runtime_pin_needs_no_runtime(tmp_path: Path) -> None:
    text = "\n".join(line for line in DOCKERFILE.splitlines() if "RUNTIME_IMAGE" not in line) + "\n"
    resolve, asked = answer(NEW)
    plan([service(tmp_path, text)], None, resolve)
    assert [str(a) for a in asked] == ["localhost:5000/w/wheelhouse:py3.13-debian"]


def test_an_unpinned_dockerfile_counts_as_a_change(tmp_path: Path) -> None:
    text = DOCKERFILE.replace(f"py3.13-debian@{OLD}", "py3.13-debian").replace("localhost/python", "python")
    resolve, _ = answer(OLD)
    changes, _ = plan([service(tmp_path, text)], None, resolve)
    assert "(empty)" not in changes[0].describe()
    assert f"-> localhost:5000/w/wheelhouse:py3.13-debian@{OLD}" in changes[0].describe()


def test_check_raises_stale_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wheelbase import pinning

    resolve, _ = answer(NEW)
    monkeypatch.setattr(pinning, "resolve_wheelhouse", resolve)
    monkeypatch.setattr(pinning.plan, "__defaults__", (resolve,))
    lines: list[str] = []
    with pytest.raises(StalePinError):
        pinning.pin([service(tmp_path)], None, check=True, out=lines.append)
    assert lines and lines[0].startswith("stale: ")
    assert (tmp_path / "Dockerfile").read_text() == DOCKERFILE
