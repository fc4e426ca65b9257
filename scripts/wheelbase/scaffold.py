"""`wheelbase new`: a service from the template, pinned to the wheelhouse's current digest.

Rendering goes through cruft, which runs cookiecutter on the template and records the template
commit in the service's .cruft.json, so `cruft check` tells when the service is behind and
`cruft update` brings later template changes in.
"""

from __future__ import annotations

import os
from pathlib import Path

import cruft
from cookiecutter.exceptions import CookiecutterException

from .errors import UsageError, WheelbaseError
from .layout import REPO, default_base
from .names import check_service_name
from .pinning import Resolver, resolve_release, resolve_wheelhouse
from .refs import ImageRef

TEMPLATE_DIRECTORY = "consumer-template"


def template_source(given: str | None) -> str:
    """The git repository holding consumer-template/: --template, $WHEELBASE_TEMPLATE, or this checkout."""
    source = given or os.environ.get("WHEELBASE_TEMPLATE") or str(REPO)
    if "://" not in source and not source.startswith("git@") and not (Path(source) / ".git").exists():
        raise UsageError(f"the template source {source} is not a git repository; pass --template with the "
                         "wheelbase repository's URL (for example https://github.com/ORG/wheelbase)")
    return source


def new(name: str, output_dir: Path, base: str | None, template: str | None = None,
        resolve: Resolver = resolve_wheelhouse) -> Path:
    """Renders the template into output_dir/<slug>; checks everything before writing a file."""
    slug = check_service_name(name)
    if not output_dir.is_dir():
        raise UsageError(f"output directory {output_dir} does not exist; create it or pass another --output-dir")
    target = output_dir / slug
    if target.exists():
        raise UsageError(f"{target} already exists; choose another name or --output-dir")
    source = template_source(template)
    ref = ImageRef.parse(base) if base else default_base()
    if ref.digest:
        raise UsageError(f"--base takes IMAGE:TAG, not a digest ({base}); the digest is looked up in the registry")
    release = resolve_release(ref, resolve, with_runtime=True)
    context = {
        "service_name": name,
        "base_image": str(release.base),
        "runtime_image": str(release.runtime),
        "python_image": release.python_image,
        "python_version": release.python_version,
    }
    try:
        created = cruft.create(source, output_dir=output_dir, extra_context=context, no_input=True,
                               directory=TEMPLATE_DIRECTORY)
    except (CookiecutterException, OSError, RuntimeError) as exc:
        raise WheelbaseError(f"the template could not be rendered from {source}: {exc}") from exc
    return Path(created)
