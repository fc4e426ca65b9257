"""wheelbase's reading of Dockerfiles, bake files and compose files, held against the tools that own
them, on the same files: BuildKit (a build of a probe stage that writes out each global ARG's value,
exported to a folder, so no image is made and no base image is pulled), `docker buildx bake --print`
(a probe target whose args are the variables) and `docker compose config` (the build args Compose
resolves, anchors and merge keys included). Every form a pin may take in each file is here."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from support import REPO, run
from wheelbase import bakefile, composefile, dockerfile

pytestmark = pytest.mark.e2e
PIN = "localhost:5000/w/wheelhouse:py3.13-debian@sha256:" + "1" * 64
RUNTIME = "localhost:5000/w/wheelhouse:py3.13-debian-runtime@sha256:" + "2" * 64
TAIL = "FROM ${BASE_IMAGE} AS wheelhouse\nFROM ${RUNTIME_IMAGE} AS runtime\n"

DOCKERFILES = {
    "plain": f"ARG BASE_IMAGE={PIN}\nARG RUNTIME_IMAGE={RUNTIME}\n{TAIL}",
    "heredoc-holding-instructions": (f"ARG BASE_IMAGE={PIN}\nARG RUNTIME_IMAGE={RUNTIME}\n{TAIL}"
                                     "COPY <<EOF /notes\nARG BASE_IMAGE=fake:1\nFROM ${BASE_IMAGE} AS wheelhouse\nEOF\n"),
    "from-continued": f"ARG BASE_IMAGE={PIN}\nARG RUNTIME_IMAGE={RUNTIME}\nFROM \\\n  ${{BASE_IMAGE}} AS wheelhouse\n",
    "empty-line-in-continuation": f"ARG BASE_IMAGE={PIN} \\\n\n    RUNTIME_IMAGE={RUNTIME}\n{TAIL}",
    "comment-in-continuation": f"ARG BASE_IMAGE={PIN} \\\n# the runtime\n    RUNTIME_IMAGE={RUNTIME}\n{TAIL}",
    "continuation-joins-a-word": f"ARG BASE_IMAGE={PIN[:20]}\\\n{PIN[20:]}\nARG RUNTIME_IMAGE={RUNTIME}\n{TAIL}",
    "tab-after-keyword": f"ARG\tBASE_IMAGE={PIN}\nARG \t RUNTIME_IMAGE={RUNTIME}\n{TAIL}",
    "escape-directive": f"# escape=`\nARG BASE_IMAGE={PIN} `\n    RUNTIME_IMAGE={RUNTIME}\n{TAIL}",
    "syntax-and-check-directives": (f"# syntax=docker/dockerfile:1\n# check=skip=all\nARG BASE_IMAGE={PIN}\n"
                                    f"ARG RUNTIME_IMAGE={RUNTIME}\n{TAIL}"),
    "byte-order-mark": f"\ufeffARG BASE_IMAGE={PIN}\nARG RUNTIME_IMAGE={RUNTIME}\n{TAIL}",
    "quoted-defaults": f"ARG BASE_IMAGE=\"{PIN}\"\nARG RUNTIME_IMAGE='{RUNTIME}'\n{TAIL}",
    "several-on-a-line": f"ARG BASE_IMAGE={PIN} RUNTIME_IMAGE={RUNTIME} EXTRAS=false\n{TAIL}",
    "lower-case-keywords": f"arg BASE_IMAGE={PIN}\narg RUNTIME_IMAGE={RUNTIME}\nfrom ${{BASE_IMAGE}} as wheelhouse\n",
    "empty-and-absent-defaults": f"ARG BASE_IMAGE={PIN}\nARG RUNTIME_IMAGE=\nARG UNSET\nFROM ${{BASE_IMAGE}} AS wheelhouse\n",
}


def buildkit_args(text: str, names: list[str], folder: Path) -> dict[str, str]:
    """What BuildKit gives each global ARG: a stage that declares them and writes them out."""
    if "syntax=" in text:  # that directive pulls a frontend image, which this machine cannot: BuildKit reads it as a comment then
        text = text.replace("# syntax=docker/dockerfile:1\n", "")
    probe = "".join(f"ARG {name}\n" for name in names)
    lines = "".join(f"{name}=[${{{name}}}]\n" for name in names)
    (folder / "Dockerfile").write_text(f"{text}\nFROM scratch AS wheelbase-probe\n{probe}COPY <<EOF /values\n{lines}EOF\n")
    run("docker", "buildx", "build", "--quiet", "--target", "wheelbase-probe", "--output", f"type=local,dest={folder / 'out'}",
        str(folder))
    values = (folder / "out" / "values").read_text().splitlines()
    return dict(line.split("=", 1) for line in values)


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfile_args_are_read_as_buildkit_reads_them(name: str, tmp_path: Path) -> None:
    text = DOCKERFILES[name]
    parsed = dockerfile.parse(text)
    ours = {arg.name: f"[{arg.value or ''}]" for arg in parsed.args if arg.is_global}
    assert ours, "wheelbase found no global ARG"
    assert buildkit_args(text, sorted(ours), tmp_path) == ours
    for arg in parsed.args:  # each default sits where wheelbase would rewrite it
        if arg.is_global and arg.value and arg.literal:
            assert text[arg.start:arg.end] == arg.value
    wheelhouse = [stage for stage in parsed.stages if stage.name == "wheelhouse"]
    assert [stage.image for stage in wheelhouse] == ["${BASE_IMAGE}"], "one wheelhouse stage: an instruction, never heredoc text"


BAKE_FILES = {
    "quoted-label.hcl": f'variable "BASE_IMAGE" {{\n  default = "{PIN}"\n}}\n',
    "bare-label.hcl": f"variable BASE_IMAGE {{\n  default = \"{PIN}\"\n}}\n",
    "comments.hcl": f'# one\nvariable "BASE_IMAGE" {{\n  // two\n  /* three */\n  default = "{PIN}" # four\n}}\n',
    "heredoc-before.hcl": ('variable "NOTES" {\n  default = <<EOT\nvariable "BASE_IMAGE" { default = "fake:1" }\nEOT\n}\n'
                           f'variable "BASE_IMAGE" {{\n  default = "{PIN}"\n}}\n'),
    "top-level-attribute.hcl": f'BASE_IMAGE = "{PIN}"\n',
    "brace-in-a-target-heredoc.hcl": ('target "x" {\n  dockerfile-inline = <<EOT\nFROM scratch\nRUN echo }\nEOT\n}\n'
                                      f'variable "BASE_IMAGE" {{\n  default = "{PIN}"\n}}\n'),
    "null-default.hcl": 'variable "BASE_IMAGE" {\n  default = null\n}\n',
    "empty-default.hcl": 'variable "BASE_IMAGE" {\n  default = ""\n}\n',
    "byte-order-mark.hcl": f'\ufeffvariable "BASE_IMAGE" {{\n  default = "{PIN}"\n}}\n',
    "docker-bake.json": json.dumps({"variable": {"BASE_IMAGE": {"default": PIN}, "OTHER": {"default": "x"}}}, indent=2),
}


def bake_value(path: Path) -> str | None:
    """What bake gives BASE_IMAGE (None: no value, as for a null default), from a probe target, the environment cleared."""
    probe = path.parent / "probe.hcl"
    probe.write_text('target "wheelbase-probe" {\n  args = { BASE_IMAGE = BASE_IMAGE }\n}\n')
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    printed = run("docker", "buildx", "bake", "--print", "--file", str(path), "--file", str(probe), "wheelbase-probe",
                  cwd=path.parent, env={key: None for key in os.environ if key not in env})
    return json.loads(printed.stdout)["target"]["wheelbase-probe"].get("args", {}).get("BASE_IMAGE")


@pytest.mark.parametrize("name", sorted(BAKE_FILES))
def test_bake_variables_are_read_as_bake_reads_them(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(BAKE_FILES[name])
    found = bakefile.variables(path.read_text(), json_file=name.endswith(".json")).get("BASE_IMAGE", [])
    ours = found[-1].value if found else None
    theirs = bake_value(path)
    assert (ours or None) == (theirs or None), f"wheelbase {ours!r}, bake {theirs!r}"
    if ours:
        assert path.read_text()[found[-1].start:found[-1].end] == ours


COMPOSE = f"""\
x-pins: &pins
  BASE_IMAGE: "{PIN}"
services:
  merged:
    build:
      context: .
      args:
        <<: *pins
        RUNTIME_IMAGE: {RUNTIME}
  aliased:
    build:
      context: .
      args: *pins
  listed:
    build:
      context: .
      args:
        - BASE_IMAGE={PIN}
  overridden:
    build:
      context: .
      args:
        <<: *pins
        BASE_IMAGE: other:1
"""


def test_compose_build_args_are_read_as_compose_reads_them(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    config = json.loads(run("docker", "compose", "--file", str(tmp_path / "compose.yaml"), "config", "--format", "json",
                            cwd=tmp_path).stdout)
    theirs = {(name, key): value for name, service in config["services"].items()
              for key, value in (service["build"].get("args") or {}).items()}
    ours = {(arg.service, arg.name): arg.value for arg in composefile.build_args(COMPOSE)}
    assert ours == theirs
    for arg in composefile.build_args(COMPOSE):
        assert COMPOSE[arg.start:arg.end] == arg.value


def test_the_template_itself_reads_the_same_to_wheelbase_and_to_bake(tmp_path: Path) -> None:
    """The service's own bake file: bake gives its BASE_IMAGE nothing (the Dockerfile's default wins), as wheelbase reads it."""
    rendered = run(str(REPO / ".venv" / "bin" / "cookiecutter"), "--no-input", "--output-dir", str(tmp_path),
                   str(REPO / "consumer-template"))
    assert rendered.returncode == 0
    path = tmp_path / "orders-api" / "docker-bake.hcl"
    assert bake_value(path) in (None, "")
    assert all(v.value in (None, "") for v in bakefile.variables(path.read_text())["BASE_IMAGE"])
