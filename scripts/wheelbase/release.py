"""A published release: the wheelhouse tag, the runtime published next to it, and the Python image
the wheelhouse was built on, as the registry describes them now.

The wheelhouse's labels are values from a registry: each is validated before it can reach a
file or a template (an image reference must be exactly one, a version exactly `X.Y`, an
interface a number). The bake file is where they are made: docker-bake.hcl's `_common` labels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import engine
from .engine import RemoteImage
from .errors import CompatibilityError, UsageError
from .image_ref import ImageRef

FLAVOR_LABEL = "dev.wheelbase.flavor"
PYTHON_VERSION_LABEL = "dev.wheelbase.python.version"
PYTHON_IMAGE_LABEL = "dev.wheelbase.python.image"
LABELS = (FLAVOR_LABEL, PYTHON_VERSION_LABEL, PYTHON_IMAGE_LABEL)
# The interface of the wheelhouse's build steps and the runtime's serving commands, which a service's
# Dockerfile declares as ARG WHEELBASE_INTERFACE; releases made before it existed lack the label.
INTERFACE_LABEL = "dev.wheelbase.interface"
INTERFACE_ARG = "WHEELBASE_INTERFACE"
# What the runtime's tags add to the wheelhouse's (docker-bake.hcl's runtime_suffix()).
RUNTIME_SUFFIX_LABEL = "dev.wheelbase.runtime.tag-suffix"
REVISION_LABEL = "org.opencontainers.image.revision"
# A series' life (docker-bake.hcl's labels()): the last day a retiring series is published, its
# upstream end of life (python.org's release cycle, read at publish time), and the moving tag of
# the newest series, where a service on this one moves.
RETIRING_LABEL = "dev.wheelbase.retiring"
END_OF_LIFE_LABEL = "dev.wheelbase.python.end-of-life"
SUCCESSOR_LABEL = "dev.wheelbase.successor"
OPTIONAL_LABELS = (INTERFACE_LABEL, RUNTIME_SUFFIX_LABEL, REVISION_LABEL, RETIRING_LABEL, END_OF_LIFE_LABEL, SUCCESSOR_LABEL)

# The three pins a service carries, by the ARG (and bake variable) that holds each.
BASE_IMAGE = "BASE_IMAGE"  # the wheelhouse: /wheels and their lock
RUNTIME_IMAGE = "RUNTIME_IMAGE"  # the shared runtime published with it
PYTHON_IMAGE = "PYTHON_IMAGE"  # the Python image the wheelhouse was built on
PINS = (BASE_IMAGE, RUNTIME_IMAGE, PYTHON_IMAGE)

_FLAVOR = re.compile(r"[a-z][a-z0-9-]{0,31}")
_VERSION = re.compile(r"[0-9]+\.[0-9]+")
_INTERFACE = re.compile(r"[1-9][0-9]{0,3}")
_SUFFIX = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}(-[0-9]{2})?")
_SERIES_TAG = re.compile(r"py[0-9]+\.[0-9]+-[a-z][a-z0-9-]{0,31}")

Inspect = Callable[[ImageRef], RemoteImage]


@dataclass(frozen=True)
class Wheelhouse:
    """What a wheelhouse image says about itself, checked label by label."""

    ref: ImageRef  # tag and digest
    flavor: str
    python_version: str
    python_image: ImageRef
    platforms: tuple[str, ...]
    interface: str | None = None  # None: made before the wheelhouse shipped its build steps
    runtime_suffix: str | None = None
    revision: str = ""
    retiring: str = ""  # YYYY-MM-DD: the last day this series is published; empty while it is supported
    end_of_life: str = ""  # YYYY-MM or YYYY-MM-DD: upstream's end of life of its Python; empty when not known
    successor: str = ""  # the moving tag (py3.15-alpine) a service on this series moves to

    @classmethod
    def from_remote(cls, image: RemoteImage) -> Wheelhouse:
        labels = _agreed_labels(image)
        missing = [label for label in LABELS if not labels.get(label)]
        if missing:
            raise CompatibilityError(
                f"{image.ref.name} is not a wheelhouse (it lacks the {', '.join(missing)} label); "
                "pass an image built by `docker buildx bake base`")
        flavor, version = labels[FLAVOR_LABEL], labels[PYTHON_VERSION_LABEL]
        if not _FLAVOR.fullmatch(flavor) or not _VERSION.fullmatch(version):
            raise CompatibilityError(f"{image.ref.name} has a malformed {FLAVOR_LABEL} or {PYTHON_VERSION_LABEL} label "
                                     f"({flavor!r}, {version!r}); republish it with `docker buildx bake release --push`")
        try:
            python_image = ImageRef.parse(labels[PYTHON_IMAGE_LABEL], source=f"label {PYTHON_IMAGE_LABEL} of {image.ref.name}")
        except UsageError as exc:
            raise CompatibilityError(f"{exc}; it is not used, and nothing was written") from exc
        interface, suffix = labels.get(INTERFACE_LABEL) or None, labels.get(RUNTIME_SUFFIX_LABEL) or None
        if (interface is not None and not _INTERFACE.fullmatch(interface)) or (suffix is not None and not _SUFFIX.fullmatch(suffix)):
            raise CompatibilityError(f"{image.ref.name} has a malformed {INTERFACE_LABEL} or {RUNTIME_SUFFIX_LABEL} label "
                                     f"({interface!r}, {suffix!r}); republish it with `docker buildx bake release --push`")
        life = {label: labels.get(label, "") for label in (RETIRING_LABEL, END_OF_LIFE_LABEL, SUCCESSOR_LABEL)}
        bad = [label for label, value in life.items()
               if value and not (_SERIES_TAG if label == SUCCESSOR_LABEL else _DATE).fullmatch(value)]
        if bad:
            raise CompatibilityError(f"{image.ref.name} has a malformed {', '.join(bad)} label ({', '.join(repr(life[b]) for b in bad)}); "
                                     "republish it with `docker buildx bake release --push`")
        return cls(image.ref.with_digest(image.digest), flavor, version, python_image, tuple(sorted(image.labels_by_platform)),
                   interface, suffix, labels.get(REVISION_LABEL, ""), life[RETIRING_LABEL], life[END_OF_LIFE_LABEL],
                   life[SUCCESSOR_LABEL])


def _agreed_labels(image: RemoteImage) -> Mapping[str, str]:
    """The wheelbase labels every platform of the image carries; platforms that disagree are refused."""
    seen: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for platform, labels in sorted(image.labels_by_platform.items()):
        seen.setdefault(tuple((label, labels.get(label, "")) for label in (*LABELS, *OPTIONAL_LABELS)), []).append(platform)
    if len(seen) > 1:
        varying = {k for values in seen for k, v in values if any(dict(other).get(k) != v for other in seen)}
        differ = "; ".join(f"{', '.join(platforms)}: " + ", ".join(f"{k.rsplit('.', 1)[-1]}={v!r}" for k, v in values
                                                                   if k in varying)
                           for values, platforms in seen.items())
        raise CompatibilityError(f"the platforms of {image.ref.name} carry different wheelhouse labels ({differ}); "
                                 "one release must be built for every platform in one `docker buildx bake release --push`")
    return dict(next(iter(seen))) if seen else {}


@dataclass(frozen=True)
class Release:
    """What a wheelhouse tag is now: its pin, its runtime's pin and its Python image."""

    wheelhouse: Wheelhouse
    runtime: ImageRef | None

    @property
    def pins(self) -> dict[str, str]:
        """The values of the three pins, by ARG name (the runtime's only when it was asked for)."""
        values = {BASE_IMAGE: str(self.wheelhouse.ref), PYTHON_IMAGE: str(self.wheelhouse.python_image)}
        if self.runtime is not None:
            values[RUNTIME_IMAGE] = str(self.runtime)
        return values


def runtime_ref(wheelhouse: Wheelhouse) -> ImageRef:
    """The runtime published with a wheelhouse: its tag plus the suffix the wheelhouse's label names."""
    if wheelhouse.runtime_suffix is None:
        raise CompatibilityError(f"{wheelhouse.ref.name} names no runtime (no {RUNTIME_SUFFIX_LABEL} label: it was published "
                                 "before wheelhouses shipped their build steps); publish a current release with "
                                 "`docker buildx bake release --push` and pin that")
    return ImageRef.parse(f"{wheelhouse.ref.name}{wheelhouse.runtime_suffix}", source=f"label {RUNTIME_SUFFIX_LABEL}")


def release_tags() -> list[str]:
    """The moving tags of the wheelhouse and its runtime, as this checkout's bake file and the
    environment (FLAVOR, PYTHON_VERSION, IMAGE...) make them: the bake file is their one home."""
    from .layout import REPO

    targets = engine.bake_definition(["release"], cwd=REPO)["target"]
    return [str(targets[name]["tags"][0]) for name in ("base", "runtime")]


def resolve_wheelhouse(base: ImageRef, inspect: Inspect = engine.inspect_remote) -> Wheelhouse:
    return Wheelhouse.from_remote(inspect(base))


def resolve_release(base: ImageRef, *, with_runtime: bool, inspect: Inspect = engine.inspect_remote) -> Release:
    """Asks the registry for the tag (and its runtime) and checks that they belong together."""
    wheelhouse = resolve_wheelhouse(base, inspect)
    if not with_runtime:
        return Release(wheelhouse, None)
    runtime = resolve_wheelhouse(runtime_ref(wheelhouse), inspect)
    ours = {"Python": wheelhouse.python_version, "flavor": wheelhouse.flavor, "Python image": str(wheelhouse.python_image),
            "interface": wheelhouse.interface, "revision": wheelhouse.revision}
    theirs = {"Python": runtime.python_version, "flavor": runtime.flavor, "Python image": str(runtime.python_image),
              "interface": runtime.interface, "revision": runtime.revision}
    differ = [key for key in ours if ours[key] != theirs[key]]
    if differ:
        raise CompatibilityError(
            f"{runtime.ref.name} ({', '.join(f'{k} {theirs[k]}' for k in differ)}) was not built with {base.name} "
            f"({', '.join(f'{k} {ours[k]}' for k in differ)}); publish both with `docker buildx bake release --push`")
    return Release(wheelhouse, runtime.ref)
