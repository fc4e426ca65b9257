"""The template carries only what a service owns: the platform's code ships in the images a service
pins (base-image/build as /wheels/build, base-image/serve as wheelbase-serve in /opt/venv). The
few facts the template must state itself (the interface its Dockerfile speaks, the default pins,
the name rules its hook applies before wheelbase is installed) are held to their one home."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from wheelbase.names import NAME, RESERVED, SLUG, slugify

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "consumer-template"
SERVICE = TEMPLATE / "{{cookiecutter.service_slug}}"
PLATFORM_CODE = [REPO / "base-image" / "build", REPO / "base-image" / "serve" / "wheelbase_serve"]


def platform_files() -> list[Path]:
    return [path for folder in PLATFORM_CODE for path in folder.rglob("*") if path.is_file() and path.name != "__init__.py"]


def test_a_service_carries_no_platform_code() -> None:
    """No file of the template is named like a file of the platform's code, and no folder holds build scripts."""
    names = {path.name for path in platform_files()}
    template = [path for path in SERVICE.rglob("*") if path.is_file()]
    assert [str(p.relative_to(SERVICE)) for p in template if p.name in names] == []
    assert not (SERVICE / "docker").exists()
    assert sorted(p.name for p in (SERVICE / "app").iterdir()) == ["__init__.py", "main.py"]


def test_each_platform_file_name_is_used_once_in_the_repository() -> None:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True,
                            text=True, check=True)
    tracked = listed.stdout.split()
    for path in platform_files():
        if path.suffix in (".py", ".sh"):
            same = [name for name in tracked if Path(name).name == path.name]
            assert same == [str(path.relative_to(REPO))], same


def test_the_service_dockerfile_stays_short() -> None:
    """The service's story, not the platform's steps: at most 70 lines, template markup included."""
    assert len((SERVICE / "Dockerfile").read_text().splitlines()) <= 70


@pytest.mark.skipif(shutil.which("docker") is None, reason="reads the bake file through buildx")
def test_the_templates_default_pins_are_the_bake_files_default_tags() -> None:
    """The tag scheme lives in docker-bake.hcl; cookiecutter.json's defaults are its default release."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin"}
    printed = subprocess.run(["docker", "buildx", "bake", "--print", "release"], cwd=REPO, env=env,
                             capture_output=True, text=True)
    if printed.returncode:
        pytest.skip(f"buildx cannot print here: {printed.stderr.strip()[-200:]}")
    targets = json.loads(printed.stdout)["target"]
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    assert context["base_image"] == targets["base"]["tags"][0]
    assert context["runtime_image"] == targets["runtime"]["tags"][0]
    assert context["python_image"] == targets["base"]["args"]["PYTHON_IMAGE"]
    assert context["python_version"] == targets["base"]["args"]["PYTHON_VERSION"]


def test_the_name_rules_are_the_clis() -> None:
    """The template's pre-generation hook refuses what `wheelbase new` refuses, by the same rules."""
    hook = ast.parse((TEMPLATE / "hooks" / "pre_gen_project.py").read_text())
    values = {t.id: node.value for node in hook.body if isinstance(node, ast.Assign) for t in node.targets
              if isinstance(t, ast.Name)}
    assert ast.literal_eval(values["NAME"].args[0]) == NAME.pattern  # type: ignore[attr-defined]
    assert ast.literal_eval(values["SLUG"].args[0]) == SLUG.pattern  # type: ignore[attr-defined]
    assert ast.literal_eval(values["RESERVED"]) == set(RESERVED)


def test_the_slug_is_the_clis() -> None:
    expression = json.loads((TEMPLATE / "cookiecutter.json").read_text())["service_slug"]
    from jinja2 import Environment

    for name in ("Orders API", "billing_v2.api", "orders/api", "  Mixed Case  "):
        rendered = Environment().from_string(expression).render(cookiecutter={"service_name": name})
        assert rendered == slugify(name), name


def test_the_template_speaks_the_interface_the_bake_file_publishes() -> None:
    """A service made now declares the interface the wheelhouse of this checkout carries as its label."""
    printed = subprocess.run(["docker", "buildx", "bake", "--print", "base"], cwd=REPO, env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
                             capture_output=True, text=True, check=True)
    published = json.loads(printed.stdout)["target"]["base"]["labels"]["dev.wheelbase.interface"]
    declared = re.search(r"^ARG WHEELBASE_INTERFACE=(\d+)", (SERVICE / "Dockerfile").read_text(), re.MULTILINE)
    assert declared and declared.group(1) == published
