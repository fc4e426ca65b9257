"""Where the repository's own parts are: the template, the base image, the bake file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import UsageError
from .image_ref import ImageRef, tagged

REPO = Path(os.environ.get("WHEELBASE_HOME", Path(__file__).resolve().parents[2]))
TEMPLATE_DIRECTORY = "consumer-template"
TEMPLATE = REPO / TEMPLATE_DIRECTORY
BASE_IMAGE_DIR = REPO / "base-image"
# Every lock whose packages the published images ship, relative to a checkout: the stack, the tools
# in /wheels/tools (pip, setuptools, auditwheel...), the build backends sdists are built with, and
# pip-tools for the lock steps (/wheels/build). `wheelbase audit` audits them all by default.
SHIPPED_LOCKS = ("base-image/requirements.txt", "base-image/tools.txt", "base-image/build-requirements.txt",
                 "base-image/build/lock-tools.txt")


def standins() -> dict[str, str]:
    """The stand-in images .ci/provision builds, by name (.ci/standins.env: NAME=value lines)."""
    path = REPO / ".ci" / "standins.env"
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path} ({exc.strerror}); the stand-ins are named there") from exc
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def template_dir() -> Path:
    if not (TEMPLATE / "cookiecutter.json").is_file():
        raise UsageError(f"the service template is not at {TEMPLATE}; set WHEELBASE_HOME to a wheelbase checkout")
    return TEMPLATE


def default_base() -> ImageRef:
    """The template's default wheelhouse tag (cookiecutter.json), without any digest."""
    context = json.loads((template_dir() / "cookiecutter.json").read_text())
    ref = ImageRef.parse(context["base_image"], source="consumer-template/cookiecutter.json")
    return tagged(ref.name, what="the template's base_image")
