"""What a published wheelhouse says about itself, read from its image labels."""

from __future__ import annotations

from dataclasses import dataclass

from .engine import RemoteImage
from .errors import CompatibilityError

FLAVOR_LABEL = "dev.wheelbase.flavor"
PYTHON_VERSION_LABEL = "dev.wheelbase.python.version"
PYTHON_IMAGE_LABEL = "dev.wheelbase.python.image"


@dataclass(frozen=True)
class Wheelhouse:
    image: RemoteImage
    flavor: str
    python_version: str
    python_image: str

    @classmethod
    def from_remote(cls, image: RemoteImage) -> Wheelhouse:
        labels = image.labels
        missing = [label for label in (FLAVOR_LABEL, PYTHON_VERSION_LABEL, PYTHON_IMAGE_LABEL) if not labels.get(label)]
        if missing:
            raise CompatibilityError(
                f"{image.ref.name} is not a wheelhouse (it lacks the {', '.join(missing)} label); "
                "pass an image built by `docker buildx bake base`"
            )
        return cls(image, labels[FLAVOR_LABEL], labels[PYTHON_VERSION_LABEL], labels[PYTHON_IMAGE_LABEL])
