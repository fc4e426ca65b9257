"""`wheelbase new`: a service from the template, pinned to the wheelhouse's current digests.

Rendering goes through cruft, which runs cookiecutter and records the template's URL and commit
in the service's .cruft.json: its CI installs wheelbase from exactly that URL and commit, and
checks the template against it. So the URL recorded must be one CI can reach, never a local
path, and must carry no credentials. Values handed to cookiecutter are validated first and
passed as literals: a registry label is never rendered as a template. The service is rendered
into a hidden folder and renamed into place at the end, so an interrupted run leaves nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from . import engine
from .errors import FileError, UsageError, WheelbaseError
from .files import past_the_point_of_no_return, reason, signals_held
from .image_ref import tagged
from .interface import interface_note
from .layout import REPO, TEMPLATE_DIRECTORY, default_base
from .names import check_service_name
from .release import BASE_IMAGE, PYTHON_IMAGE, RUNTIME_IMAGE, Inspect, resolve_release
from .service_files import read_dockerfile

CHOICES = {"deploy_on"}  # the template's choice variables: a value from a fixed list, not a string to pass through
_SCP_LIKE = re.compile(r"(?P<user>[A-Za-z0-9_.-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^/].*)")


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(parts.netloc, "***@" + parts.netloc.rsplit("@", 1)[1], 1) if "@" in parts.netloc else url


def published_url(source: str, what: str = "--template") -> str:
    """The template's URL as a service records it: one CI can reach. An SSH source is recorded as its
    https:// form (CI runners have no SSH key; a private repository is read with a token, see the
    service's workflow); https:// and, for a machine-local setup, file:// stay as they are."""
    scp = _SCP_LIKE.fullmatch(source)
    if scp and "://" not in source:
        return f"https://{scp['host']}/{scp['path']}"
    parts = urlsplit(source)
    if parts.scheme == "ssh" and parts.hostname:
        return f"https://{parts.hostname}{parts.path}"
    if parts.scheme not in ("https", "file"):
        raise UsageError(f"the template source {_redacted(source)} is not an https://, ssh:// or file:// URL of the "
                         "wheelbase repository; pass --template with its URL (for example https://github.com/ORG/wheelbase)")
    if parts.scheme == "https" and (parts.username or parts.password):
        raise UsageError(f"{what} {_redacted(source)} carries credentials, which would be written into the service's "
                         ".cruft.json; pass the URL without them and let git authenticate (a credential helper, or "
                         "`gh auth setup-git`)")
    return source


def _git(*args: str, cwd: Path) -> str | None:
    """git's output, or None when git fails."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def template_source() -> tuple[str, str]:
    """(where to render from, the URL to record): $WHEELBASE_TEMPLATE, else this checkout recorded as its origin."""
    given = os.environ.get("WHEELBASE_TEMPLATE")
    if given:
        return given, published_url(given, "WHEELBASE_TEMPLATE")
    if not (REPO / ".git").exists():
        raise UsageError(f"{REPO} is not a git checkout of wheelbase; pass --template with the wheelbase repository's URL")
    origin = _git("remote", "get-url", "origin", cwd=REPO)
    if not origin:
        raise UsageError(f"this checkout ({REPO}) has no `origin` remote, so a service made from it could not reach its "
                         "template from CI; pass --template with the wheelbase repository's URL")
    try:
        return str(REPO), published_url(origin)
    except UsageError as exc:
        raise UsageError(f"this checkout's origin ({_redacted(origin)}) is not a URL CI can reach; pass --template with "
                         "the wheelbase repository's URL") from exc


def _literal(value: str) -> str:
    """A value cookiecutter outputs as it is, without rendering it as Jinja (it is validated already)."""
    if "{%" in value or "%}" in value:
        raise UsageError(f"{value!r} cannot be passed to the template")
    return "{% raw %}" + value + "{% endraw %}"


def new(name: str, output_dir: Path, base: str | None, template: str | None = None,
        inspect: Inspect = engine.inspect_remote, own_image: str | None = None) -> Path:
    """Renders the template into output_dir/<slug>; checks everything before writing a file.
    With own_image, the service deploys on that Python image (pinned by its current digest)
    instead of the shared runtime."""
    slug = check_service_name(name)
    try:
        is_dir = output_dir.is_dir()
    except OSError as exc:
        raise UsageError(f"--output-dir {output_dir}: {reason(exc)}") from exc
    if not is_dir:
        raise UsageError(f"output directory {output_dir} does not exist; create it or pass another --output-dir")
    target = output_dir / slug
    if os.path.lexists(target):  # a symlink to nothing is in the way too
        raise UsageError(f"{target} already exists{' (a symlink to nothing)' if not target.exists() else ''}; "
                         "choose another name or --output-dir")
    source, recorded = (template, published_url(template)) if template else template_source()
    release = resolve_release(tagged(base) if base else default_base(), with_runtime=own_image is None, inspect=inspect)
    pins = release.pins
    context = {
        "service_name": name,
        "base_image": pins[BASE_IMAGE],
        "runtime_image": pins.get(RUNTIME_IMAGE, ""),
        "python_image": pins[PYTHON_IMAGE],
        "python_version": release.wheelhouse.python_version,
        "deploy_on": "runtime",
    }
    if own_image:
        ref = tagged(own_image, what="--own-image")
        context["python_image"] = str(ref.with_digest(inspect(ref).digest))
        context["deploy_on"] = "python-image"
    import cruft  # imported here: it is slow to import and only `new` needs it
    from cookiecutter.exceptions import CookiecutterException

    scratch: Path | None = None
    staged: str | None = None
    previous = tempfile.tempdir
    try:
        # A signal is held while the staging folders are made, so none lands between a folder's
        # creation and the name that the `finally` below removes (seen under load: a SIGTERM inside
        # mkdtemp left `.<slug>.partial-*` behind); a held one is raised as the block ends, inside the try.
        with signals_held():
            try:
                scratch = Path(tempfile.mkdtemp(prefix=f".{slug}.partial-", dir=output_dir))
            except OSError as exc:
                raise FileError(f"cannot write in {output_dir}: {reason(exc)}; nothing was created") from exc
            # cookiecutter writes each hook script to a temporary file it never removes: it goes in a
            # folder of this call's own, removed with it, so nothing staged outlives the command.
            staged = tempfile.mkdtemp(prefix="wheelbase-new-")
            tempfile.tempdir = staged
        try:
            created = Path(cruft.create(source, output_dir=scratch, no_input=True, directory=TEMPLATE_DIRECTORY,
                                        extra_context={key: value if key in CHOICES else _literal(value)
                                                       for key, value in context.items()}))
        except OSError as exc:
            raise FileError(f"the service could not be written in {output_dir}: {reason(exc)}; nothing was created") from exc
        except (CookiecutterException, RuntimeError, ValueError) as exc:
            raise WheelbaseError(f"the template could not be rendered from {_redacted(recorded)}: {exc}") from exc
        try:
            _record_source(created / ".cruft.json", recorded)
        except OSError as exc:
            raise FileError(f"the service could not be written in {output_dir}: {reason(exc)}; nothing was created") from exc
        interface_note(read_dockerfile(created / "Dockerfile"), release)  # the template speaks the release's interface
        with signals_held():
            if os.path.lexists(target):
                raise UsageError(f"{target} already exists; choose another name or --output-dir")
            try:
                os.rename(created, target)
            except OSError as exc:
                raise FileError(f"cannot create {target}: {reason(exc)}; nothing was created") from exc
            past_the_point_of_no_return()
    finally:
        with signals_held():  # a second signal does not cut the clean-up short
            tempfile.tempdir = previous
            for folder in (staged, scratch):
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
    return target


def _record_source(cruft_file: Path, url: str) -> None:
    """The template URL CI can reach, in both places cruft writes it."""
    state = json.loads(cruft_file.read_text())
    state["template"] = url
    state.get("context", {}).get("cookiecutter", {})["_template"] = url
    cruft_file.write_text(json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": ")) + "\n")


def unpublished_note(target: Path) -> str | None:
    """A note when the recorded commit is on no remote branch of this checkout (CI could not install it yet)."""
    state = json.loads((target / ".cruft.json").read_text())
    if str(state["template"]).startswith("file://"):
        return None
    if (REPO / ".git").exists() and _git("branch", "--remotes", "--contains", state["commit"], cwd=REPO) == "":
        return f"note: template commit {state['commit'][:12]} is on no remote branch yet; push it so the service's CI can install it"
    return None
