"""Service names: what a user may type, and the slug it becomes (the same rule as the template's hook)."""

from __future__ import annotations

import re

from .errors import UsageError

# Letters, digits, spaces, hyphens, underscores and dots; no shell or Jinja metacharacters, and nothing
# after the last of them (\Z: `$` would let a trailing newline through).
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 ._-]{0,62}\Z")
SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")
RESERVED = frozenset({
    "app", "tests", "test", "wheelhouse", "wheelbase", "python", "docker", "base", "runtime",
    "deploy", "venv", "lock", "image", "fastapi", "uvicorn", "con", "nul", "aux", "prn",
})


def slugify(name: str) -> str:
    """The template's own derivation of service_slug (cookiecutter.json), step for step."""
    return name.strip().lower().replace(" ", "-").replace("_", "-").replace(".", "-").replace("/", "-")


def check_service_name(name: str) -> str:
    """Returns the slug for a valid name; raises UsageError with the rule otherwise."""
    if not NAME.match(name):
        raise UsageError(
            f"service name {name!r} is not allowed: start with a letter and use only letters, digits, "
            "spaces, '.', '_' or '-' (at most 63 characters)"
        )
    slug = slugify(name)
    if not SLUG.match(slug) or len(slug) < 2:
        raise UsageError(f"service name {name!r} gives the slug {slug!r}; use a name like 'Orders API' (orders-api)")
    if slug in RESERVED:
        raise UsageError(f"service name {name!r} gives the reserved slug {slug!r}; choose another name")
    return slug
