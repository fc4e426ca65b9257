"""`wheelbase new`: a service from the template, pinned to the wheelhouse's current digest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cookiecutter.exceptions import CookiecutterException
from cookiecutter.main import cookiecutter

from .errors import UsageError, WheelbaseError
from .layout import default_base, template_dir
from .names import check_service_name
from .pinning import resolve_wheelhouse
from .refs import ImageRef
from .wheelhouse import Wheelhouse


def new(name: str, output_dir: Path, base: str | None,
        resolve: Callable[[ImageRef], Wheelhouse] = resolve_wheelhouse) -> Path:
    """Renders the template into output_dir/<slug>; checks everything before writing a file."""
    slug = check_service_name(name)
    if not output_dir.is_dir():
        raise UsageError(f"output directory {output_dir} does not exist; create it or pass another --output-dir")
    target = output_dir / slug
    if target.exists():
        raise UsageError(f"{target} already exists; choose another name or --output-dir")
    ref = ImageRef.parse(base) if base else default_base()
    if ref.digest:
        raise UsageError(f"--base takes IMAGE:TAG, not a digest ({base}); the digest is looked up in the registry")
    wheelhouse = resolve(ref)
    context = {
        "service_name": name,
        "base_image": str(ref.with_digest(wheelhouse.image.digest)),
        "python_image": wheelhouse.python_image,
        "python_version": wheelhouse.python_version,
    }
    try:
        created = cookiecutter(str(template_dir()), no_input=True, output_dir=str(output_dir), extra_context=context)
    except CookiecutterException as exc:
        raise WheelbaseError(f"the template could not be rendered: {exc}") from exc
    return Path(created)
