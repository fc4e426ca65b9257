"""The interface between a service's Dockerfile and the images it pins.

A wheelhouse ships the steps a service's build runs (/wheels/build/step.py) and its runtime the
serving commands (wheelbase-serve, wheelbase-health); both carry the interface they speak as the
label dev.wheelbase.interface. A service's Dockerfile declares the one it was written for, as
`ARG WHEELBASE_INTERFACE`. A release of the same interface builds it; another would stop its
first step, so `pin` and `new` refuse it first, naming both. A Dockerfile that declares none was
made before wheelhouses shipped their steps: it still builds with its own copies, and is told how
to move.
"""

from __future__ import annotations

from .errors import CompatibilityError
from .release import INTERFACE_ARG, Release
from .service_files import PinnedFile

# The last commit of this repository whose template gave services copies of the platform's code
# (docker/, app/http_limits.py, app/healthcheck.py) and no interface: what "a service made before
# the change" is rendered from, by the tests that it still builds and by the benchmark's A/B row.
LAST_TEMPLATE_WITH_COPIES = "e9fbbd8b44d36213b5946895a872240e4ff1a189"


def interface_note(file: PinnedFile, release: Release) -> str | None:
    """None when the Dockerfile speaks the release's interface; a note for a service made before
    wheelhouses shipped their build steps (it builds with its own copies); otherwise the refusal."""
    if not file.is_dockerfile:
        return None
    ours, theirs = file.interface, release.wheelhouse.interface
    name = release.wheelhouse.ref.name
    if ours is None:
        return (f"note: {file.path} runs its own copies of the platform's build scripts (docker/); wheelhouses now ship "
                "them (/wheels/build) with their serving commands, so a pin moves them too: run `cruft update` to take "
                "the template's Dockerfile, which uses them")
    if theirs is None:
        raise CompatibilityError(f"{file.path} speaks wheelbase interface {ours}, but {name} was published before wheelhouses "
                                 "shipped their build steps; pin a current release (`docker buildx bake release --push`)")
    if ours != theirs:
        raise CompatibilityError(f"{file.path} speaks wheelbase interface {ours} (ARG {INTERFACE_ARG}), but {name} speaks "
                                 f"interface {theirs}; run `cruft update` to take the template's Dockerfile for interface "
                                 f"{theirs}, or pin a release of interface {ours}; nothing was written")
    return None
