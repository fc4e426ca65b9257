"""Image references: `registry/repository:tag@sha256:digest`, parsed the way Docker does."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import UsageError

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_NAME = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(?::[0-9]+)?$")


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        raw = text.strip()
        repository, digest = raw, None
        if "@" in raw:
            repository, digest = raw.split("@", 1)
            if not _DIGEST.match(digest):
                raise UsageError(f"{text!r} has a malformed digest; expected @sha256: and 64 hex digits")
        tag = None
        last = repository.rsplit("/", 1)[-1]
        if ":" in last:
            repository, tag = repository.rsplit(":", 1)
            if not _TAG.match(tag):
                raise UsageError(f"{text!r} has a malformed tag {tag!r}")
        host, _, path = repository.partition("/")
        if path and ("." in host or ":" in host or host == "localhost"):
            if not _HOST.match(host) or not _NAME.match(path):
                raise UsageError(f"{text!r} is not a valid image reference (registry/repository:tag)")
        elif not _NAME.match(repository):
            raise UsageError(f"{text!r} is not a valid image reference (registry/repository:tag)")
        return cls(repository, tag, digest)

    @property
    def name(self) -> str:
        """repository:tag without the digest."""
        return f"{self.repository}:{self.tag}" if self.tag else self.repository

    def with_digest(self, digest: str) -> ImageRef:
        return ImageRef(self.repository, self.tag, digest)

    def __str__(self) -> str:
        return f"{self.name}@{self.digest}" if self.digest else self.name
