"""Image references, `registry/repository:tag@sha256:digest`, validated the way Docker parses them.

This is the one gate for a reference that enters a file or a template: from the command line,
from a Dockerfile, or from a registry's labels. Anything that is not exactly a reference (a
newline, a space, a Jinja or shell character) is refused here, so it can never become a
Dockerfile instruction or a template expression further on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import UsageError

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                   r"|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?")
DOCKER_HUB = "docker.io"


def registry_host(repository: str) -> str:
    """The registry a repository lives on, by Docker's rule: the first component is a host when it
    has a dot or a port, or is `localhost`; otherwise the image is on Docker Hub."""
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        return first
    return DOCKER_HUB


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str, *, source: str = "") -> ImageRef:
        """Parses exactly one reference; `source` says where the text came from, for the error."""
        where = f" ({source})" if source else ""
        if not isinstance(text, str) or text != text.strip() or not text or any(c.isspace() for c in text):
            raise UsageError(f"{text!r}{where} is not an image reference: it is empty or holds white space")
        repository, digest = text, None
        if "@" in text:
            repository, digest = text.split("@", 1)
            if not _DIGEST.fullmatch(digest):
                raise UsageError(f"{text!r}{where} has a malformed digest; expected @sha256: and 64 hex digits")
        tag = None
        if ":" in repository.rsplit("/", 1)[-1]:
            repository, tag = repository.rsplit(":", 1)
            if not _TAG.fullmatch(tag):
                raise UsageError(f"{text!r}{where} has a malformed tag {tag!r}")
        host = registry_host(repository)
        path = repository if host == DOCKER_HUB and not repository.startswith(f"{DOCKER_HUB}/") else repository.split("/", 1)[1]
        if (host != DOCKER_HUB and not _HOST.fullmatch(host)) or not _PATH.fullmatch(path):
            raise UsageError(f"{text!r}{where} is not a valid image reference (registry/repository:tag)")
        return cls(repository, tag, digest)

    @property
    def host(self) -> str:
        return registry_host(self.repository)

    @property
    def name(self) -> str:
        """repository:tag without the digest."""
        return f"{self.repository}:{self.tag}" if self.tag else self.repository

    def with_digest(self, digest: str) -> ImageRef:
        return ImageRef(self.repository, self.tag, digest)

    def with_tag(self, tag: str) -> ImageRef:
        return ImageRef(self.repository, tag)

    def __str__(self) -> str:
        return f"{self.name}@{self.digest}" if self.digest else self.name


def tagged(text: str, *, what: str = "--base") -> ImageRef:
    """IMAGE:TAG as a user names a wheelhouse: a tag is required, a digest is looked up, not given."""
    ref = ImageRef.parse(text, source=what)
    if ref.digest:
        raise UsageError(f"{what} takes IMAGE:TAG, not a digest ({text}); the digest is looked up in the registry")
    if not ref.tag:
        raise UsageError(f"{what} {text} has no tag; give the wheelhouse's tag too (IMAGE:TAG, as `make wheelhouse` prints it)")
    return ref
