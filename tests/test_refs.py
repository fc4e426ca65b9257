import pytest

from wheelbase.errors import UsageError
from wheelbase.refs import ImageRef

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "repository", "tag", "digest"),
    [
        ("localhost:5000/wheelbase/wheelhouse:py3.13-debian", "localhost:5000/wheelbase/wheelhouse", "py3.13-debian", None),
        (f"ghcr.io/acme/wheelhouse:py3.13-alpine@{DIGEST}", "ghcr.io/acme/wheelhouse", "py3.13-alpine", DIGEST),
        ("python:3.13-alpine3.22", "python", "3.13-alpine3.22", None),
        (f"localhost:5000/w@{DIGEST}", "localhost:5000/w", None, DIGEST),
        ("localhost:5000/w", "localhost:5000/w", None, None),
    ],
)
def test_parses_like_docker(text: str, repository: str, tag: str | None, digest: str | None) -> None:
    ref = ImageRef.parse(text)
    assert (ref.repository, ref.tag, ref.digest) == (repository, tag, digest)
    assert str(ref) == text


@pytest.mark.parametrize(
    "text",
    ["Upper/Case:tag", "repo:tag@sha256:short", "repo:bad tag", "repo:", "a//b:c", "host:5000/:tag", "repo:tag@md5:" + "a" * 32],
)
def test_refuses_malformed_references(text: str) -> None:
    with pytest.raises(UsageError):
        ImageRef.parse(text)


def test_with_digest_keeps_the_tag() -> None:
    ref = ImageRef.parse("localhost:5000/w:py3.13-debian").with_digest(DIGEST)
    assert str(ref) == f"localhost:5000/w:py3.13-debian@{DIGEST}"
    assert ref.name == "localhost:5000/w:py3.13-debian"
