"""Where the repository's own parts are: the template, the base image, the bake file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import UsageError
from .refs import ImageRef

REPO = Path(os.environ.get("WHEELBASE_HOME", Path(__file__).resolve().parents[2]))
TEMPLATE = REPO / "consumer-template"
BASE_IMAGE_DIR = REPO / "base-image"


def template_dir() -> Path:
    if not (TEMPLATE / "cookiecutter.json").is_file():
        raise UsageError(f"the service template is not at {TEMPLATE}; set WHEELBASE_HOME to a wheelbase checkout")
    return TEMPLATE


def default_base() -> ImageRef:
    """The template's default wheelhouse tag (cookiecutter.json), without any digest."""
    context = json.loads((template_dir() / "cookiecutter.json").read_text())
    ref = ImageRef.parse(context["base_image"])
    return ImageRef(ref.repository, ref.tag)
