"""Where the template must stand alone, it carries copies of the project's own facts and files;
each copy is held equal to the one place it comes from here."""

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


def test_the_lock_tools_are_the_bases() -> None:
    """The service's lock stage installs pip-tools from the same hash-locked list as the base's."""
    assert (SERVICE / "docker" / "lock-tools.txt").read_text() == (REPO / "base-image" / "lock-tools.txt").read_text()


def test_the_pip_secrets_wrapper_is_the_bases() -> None:
    assert (SERVICE / "docker" / "with-pip-secrets.sh").read_text() == (REPO / "base-image" / "with-pip-secrets.sh").read_text()


def test_the_lock_script_is_the_bases() -> None:
    assert (SERVICE / "docker" / "lock.sh").read_text() == (REPO / "base-image" / "lock.sh").read_text()


def test_the_wheel_builder_is_the_bases() -> None:
    """Compiling an extra without a wheel works as compiling one into the wheelhouse does."""
    assert (SERVICE / "docker" / "wheels.py").read_text() == (REPO / "base-image" / "wheels.py").read_text()


@pytest.mark.parametrize("distribution", ["alpine", "debian"])
def test_the_toolchains_are_the_bases(distribution: str) -> None:
    ours = SERVICE / "docker" / "toolchain" / f"{distribution}.sh"
    assert ours.read_text() == (REPO / "base-image" / "toolchain" / f"{distribution}.sh").read_text()


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


def test_the_guards_libc_rule_is_the_base_images() -> None:
    """The guard, the base image's check and the toolchain decide musl alike: from the interpreter's
    own triplet (sys.implementation, the value sysconfig calls MULTIARCH, without loading sysconfig)."""
    rule = re.compile(r'"musl" if getattr\(sys\.implementation, "_multiarch", ""\)\.endswith\("musl"\) else "glibc"')
    for path in (SERVICE / "docker" / "guard.py", REPO / "base-image" / "Dockerfile", REPO / "base-image" / "toolchain" / "debian.sh"):
        assert rule.search(path.read_text()), path
