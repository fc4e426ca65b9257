"""The GitHub Actions workflows this repository ships, its own and the template's, checked the way
they will run: actionlint; every action pinned by the commit its version comment names, on Node
24; least privilege; and each defect found by reading them against the actions' sources guarded
by a test named for it. Steps are replayed from the YAML itself (their `run:` scripts with bash,
bake-action's bake call rebuilt as bake-action v7.1.0 builds it), never rewritten by hand."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.main import cookiecutter

from support import bake_action_argv, expand

REPO = Path(__file__).resolve().parents[1]
ACTIONLINT = REPO / ".ci" / "actionlint.cjs"
PUBLISH = REPO / ".github" / "workflows" / "publish.yml"
OWN = sorted((REPO / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^\s*-?\s*uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?:\s+#\s*(?P<version>v\S+))?\s*$")
DIGEST = "sha256:" + "ab" * 32
GIT_ID = ["-c", "user.name=wheelbase tests", "-c", "user.email=tests@wheelbase.invalid"]

# What each pinned commit is, read from the actions' own repositories (`git rev-parse TAG^{commit}`),
# and how it runs: Node 20 is gone from GitHub's runners since September 2026. The old bake-action
# pin, 3acf805d..., was v6.9.0 under a `# v5.10.0` comment.
KNOWN_PINS = {
    ("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1"): ("v7.0.1", "node24"),
    ("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97"): ("v7.0.0", "node24"),
    ("docker/setup-buildx-action", "37fe631027851001ddb9b187196cc803df7f5f0e"): ("v4.3.0", "node24"),
    ("docker/login-action", "4907a6ddec9925e35a0a9e82d7399ccc52663121"): ("v4.1.0", "node24"),
    ("docker/bake-action", "a66e1c87e2eca0503c343edf1d208c716d54b8a8"): ("v7.1.0", "node24"),
    ("actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f"): ("v7.0.0", "node24"),
    ("actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c"): ("v8.0.1", "node24"),
    ("sigstore/cosign-installer", "6f9f17788090df1f26f669e9d70d6ae9567deba6"): ("v4.1.2", "composite"),
    ("aquasecurity/trivy-action", "ed142fd0673e97e23eac54620cfb913e5ce36c25"): ("v0.36.0", "composite"),
    ("actions/attest-build-provenance", "a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32"): ("v4.1.0", "composite"),
    ("docker/bake-action", "3acf805d94d93a86cce4ca44798a76464a75b88c"): ("v6.9.0", "node20"),
}


def render(out: Path, **context: str) -> Path:
    return Path(cookiecutter(str(REPO / "consumer-template"), no_input=True, output_dir=str(out), extra_context={
        "service_name": "Orders API", "base_image": f"localhost:5000/wheelbase/wheelhouse:py3.13-debian@{DIGEST}",
        "python_image": "localhost/python:3.13-slim-trixie", **context}))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly rendered service, as `wheelbase new` renders it."""
    return render(tmp_path_factory.mktemp("rendered"))


@pytest.fixture(scope="module")
def own_image_service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(tmp_path_factory.mktemp("own"), deploy_on="python-image")


def workflow(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def service_ci(service: Path) -> dict[str, Any]:
    return workflow(service / ".github" / "workflows" / "ci.yml")


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (REPO / ".tools" / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        pytest.fail("actionlint is not installed: run `.ci/provision unit` (it installs it into .tools/)")
    return subprocess.run([node, str(ACTIONLINT), *map(str, files)], capture_output=True, text=True)


def every_workflow(service: Path) -> list[Path]:
    return [*OWN, service / ".github" / "workflows" / "ci.yml"]


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def step_named(job: dict[str, Any], start: str) -> dict[str, Any]:
    (found,) = [s for s in job["steps"] if s.get("name", "").startswith(start)]
    return found


def test_actionlint_is_clean_on_every_workflow(service: Path, own_image_service: Path) -> None:
    done = actionlint(*OWN, service / ".github" / "workflows" / "ci.yml", own_image_service / ".github" / "workflows" / "ci.yml")
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04-arm\n    steps:\n      - run: echo ${{ github.nope }}\n")
    done = actionlint(broken)
    assert done.returncode == 1 and "nope" in done.stdout and "ubuntu-24.04-arm" not in done.stdout


def test_each_action_is_pinned_to_the_commit_its_version_comment_names_and_runs_on_node_24(service: Path) -> None:
    """Defect: the bake-action pin was v6.9.0 under a v5.10.0 comment, and every JavaScript action ran on Node 20."""
    for path in every_workflow(service):
        for line in path.read_text().splitlines():
            if "uses:" not in line:
                continue
            match = PINNED.match(line)
            assert match and re.fullmatch(r"[0-9a-f]{40}", match["ref"]), f"{path.name}: {line.strip()} is not pinned by commit"
            version, runtime = KNOWN_PINS.get((match["action"], match["ref"]), (None, None))
            assert version == match["version"], f"{path.name}: {match['action']}@{match['ref']} is {version}, not {match['version']}"
            assert runtime in ("node24", "composite"), f"{path.name}: {match['action']} {version} runs on {runtime}"


def test_permissions_are_least_privilege(service: Path) -> None:
    for path in every_workflow(service):
        assert workflow(path)["permissions"] == {"contents": "read"}, path.name
    jobs = workflow(PUBLISH)["jobs"]
    writers = {name: job.get("permissions") for name, job in jobs.items() if job.get("permissions")}
    assert writers == {
        "build": {"contents": "read", "packages": "write"},
        "merge": {"contents": "read", "packages": "write", "id-token": "write", "attestations": "write"},
    }


def test_bake_runs_from_the_checkout_not_from_a_git_context(service: Path) -> None:
    """Defect: bake-action v6+ builds from the Git context by default, where bake reads every file
    without a cwd:// prefix from the remote repository; the metadata-action bake files in the
    runner's temp folder were not there. Every bake step now names its source: the checkout."""
    for path in every_workflow(service):
        for job in workflow(path)["jobs"].values():
            for step in steps_using(job, "docker/bake-action"):
                assert step["with"].get("source") == ".", f"{path.name}: {step.get('name')} builds from the Git context"
                for file in str(step["with"].get("files", "")).splitlines():
                    assert not file.strip() or file.startswith("cwd://") or (REPO / file.strip()).exists(), file


@pytest.mark.e2e
@pytest.mark.parametrize("private", [False, True])
def test_the_publish_bake_steps_as_bake_action_runs_them(engine: None, private: bool) -> None:
    """The build job's bake steps, rebuilt as bake-action v7.1.0 calls bake, printed: per platform,
    tags cleared, pushed by digest under the lower-cased image, and no provenance inside the
    image on public or private repositories (defect: provenance silently dropped to mode=min on
    private ones; now it is attested beside the image, where it changes no digest)."""
    job = workflow(PUBLISH)["jobs"]["build"]
    image = "ghcr.io/acme/wheelhouse"
    values = {"matrix.platform": "linux/arm64", "matrix.flavor": "alpine", "env.IMAGE": image,
              "github.server_url": "https://github.com", "github.repository": "acme/wheelbase"}
    env = {"PATH": os.environ["PATH"], "FLAVOR": "alpine", "IMAGE": image, "PYTHON_IMAGE": f"python:3.15-alpine@{DIGEST}",
           "SOURCE_DATE_EPOCH": "1764000000", "REVISION": "0" * 40, "SOURCE_URL": expand(job["env"]["SOURCE_URL"], values)}
    for step in steps_using(job, "docker/bake-action"):
        step = {**step, "with": {k: expand(v, values) if isinstance(v, str) else v for k, v in step["with"].items()}}
        printed = json.loads(subprocess.run(["docker", "buildx", *bake_action_argv(step, {"target": {}}, private)[:-1],
                                             "--print", step["with"]["targets"]], cwd=REPO / step["with"]["source"], env=env,
                                            capture_output=True, text=True, check=True).stdout)
        argv = bake_action_argv(step, printed, private)
        done = subprocess.run(["docker", "buildx", *argv[:-1], "--print", argv[-1]], cwd=REPO / step["with"]["source"],
                              env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        for target in json.loads(done.stdout)["target"].values():
            assert target["platforms"] == ["linux/arm64"]
            # buildx 0.13 prints an attest as a string, 0.20 and later as its fields
            assert target["attest"] in (["type=provenance,disabled=true"], [{"type": "provenance", "disabled": "true"}])
            assert target["args"]["PYTHON_IMAGE"] == f"python:3.15-alpine@{DIGEST}"
            assert target["labels"]["org.opencontainers.image.source"] == "https://github.com/acme/wheelbase"  # this repository
            if step.get("id") == "bake":
                assert "tags" not in target or target["tags"] == []
                (output,) = target["output"]
                fields = output if isinstance(output, dict) else dict(field.split("=", 1) for field in next(csv.reader([output])))
                assert fields == {"type": "image", "name": image, "push-by-digest": "true", "name-canonical": "true",
                                  "push": "true", "rewrite-timestamp": "true"}


def test_owners_with_capitals_are_lower_cased_once_and_used_everywhere() -> None:
    """Defect: metadata-action lower-cased the image, cosign, the summary and the dispatch used the raw owner."""
    text = PUBLISH.read_text()
    assert text.lower().count("repository_owner") == 1 and "${GITHUB_REPOSITORY_OWNER,,}" in text
    assert "metadata-action" not in text  # tags come from the bake file, lower-cased there too
    prepare = step_named(workflow(PUBLISH)["jobs"]["prepare"], "Release name")
    done = subprocess.run(["bash", "-c", prepare["run"]], env={**os.environ, "GITHUB_REPOSITORY_OWNER": "ACME-Corp",
                                                                "GITHUB_RUN_NUMBER": "7", "GITHUB_OUTPUT": "/dev/stdout"},
                          cwd=REPO, capture_output=True, text=True, check=True)
    assert "image=ghcr.io/acme-corp/wheelhouse" in done.stdout.splitlines()


def test_one_release_name_for_every_flavor_and_a_release_tag_never_moves() -> None:
    """Defect: each flavor computed its own date, and a re-run re-pushed the immutable tag."""
    jobs = workflow(PUBLISH)["jobs"]
    assert "date" in jobs["prepare"]["steps"][1]["run"]
    for name in ("build", "merge"):
        assert all("date" not in s.get("run", "") for s in jobs[name]["steps"]), name
    assert jobs["merge"]["env"]["TAG"] == "${{ needs.prepare.outputs.tag }}"
    assert "a release tag is never moved" in step_named(jobs["merge"], "Merge")["run"]


def test_publish_runs_one_at_a_time() -> None:
    """Defect: no concurrency on publish; overlapping runs raced on the moving tags."""
    assert workflow(PUBLISH)["concurrency"] == {"group": "publish", "cancel-in-progress": False}


def test_each_consumer_gets_one_dispatch_and_its_runs_do_not_cancel_each_other(service: Path) -> None:
    """Defect: one dispatch per matrix job, which cancelled each other and a running CI through the
    consumer's concurrency group."""
    jobs = workflow(PUBLISH)["jobs"]
    senders = [name for name, job in jobs.items() if "dispatches" in json.dumps(job)]
    assert senders == ["notify"] and "strategy" not in jobs["notify"] and jobs["notify"]["needs"] == "merge"
    assert step_named(jobs["notify"], "Tell consumer").get("run", "").count("gh api") == 1
    concurrency = service_ci(service)["concurrency"]
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
    assert "github.run_id" in concurrency["group"]


def test_publish_builds_each_platform_natively_and_merges_by_digest() -> None:
    data = workflow(PUBLISH)
    build = data["jobs"]["build"]
    assert build["strategy"]["matrix"] == {"flavor": ["alpine", "debian"], "platform": ["linux/amd64", "linux/arm64"]}
    assert "ubuntu-24.04-arm" in build["runs-on"] and "vars.ARM64_RUNNER" in build["runs-on"]
    assert not any("setup-qemu" in s.get("uses", "") for job in data["jobs"].values() for s in job["steps"])
    merge = data["jobs"]["merge"]
    assert "docker buildx imagetools create" in step_named(merge, "Merge")["run"]
    assert "cosign sign --yes" in step_named(merge, "Sign")["run"]
    assert steps_using(merge, "actions/attest-build-provenance")[0]["with"]["push-to-registry"] is True


def test_the_runtime_image_is_scanned_before_anything_is_pushed() -> None:
    build = workflow(PUBLISH)["jobs"]["build"]
    names = [s.get("name", s.get("uses", "")) for s in build["steps"]]
    scan = next(s for s in steps_using(build, "aquasecurity/trivy-action") if s["with"].get("exit-code"))
    assert scan["with"].items() >= {"scan-type": "image", "vuln-type": "os,library", "severity": "HIGH,CRITICAL",
                                    "ignore-unfixed": True, "exit-code": "1"}.items()
    assert names.index(scan["name"]) < names.index(next(n for n in names if n.startswith("Wheelhouse and runtime, pushed")))
    lock_scan = steps_using(workflow(PUBLISH)["jobs"]["scan"], "aquasecurity/trivy-action")[0]["with"]
    assert lock_scan["scan-type"] == "fs" and lock_scan["exit-code"] == "1"


def test_the_unit_job_installs_what_its_tests_need() -> None:
    """Defect: the repository's `unit` job ran the actionlint tests without installing actionlint.
    It runs `make unit`, which provisions the dev tools and actionlint; .ci/run runs the same."""
    unit = workflow(REPO / ".github" / "workflows" / "ci.yml")["jobs"]["unit"]
    (command,) = [s["run"] for s in unit["steps"] if "run" in s]
    assert command == "make unit"
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^unit: setup-unit\n\t\.venv/bin/pytest -m \"not e2e\"$", makefile, re.MULTILINE)
    assert re.search(r"^setup-unit:\n\tbash \.ci/provision unit$", makefile, re.MULTILINE)
    assert "node-actionlint" in (REPO / ".ci" / "provision").read_text()
    assert re.search(r"^make unit$", (REPO / ".ci" / "run").read_text(), re.MULTILINE)


def test_the_publishing_docs_name_the_publish_workflow_as_the_signing_identity() -> None:
    readme = (REPO / "docs" / "publishing.md").read_text()
    assert "--certificate-identity https://github.com/<owner>/<repo>/.github/workflows/publish.yml@refs/heads/main" in readme
    assert "certificate-identity-regexp" not in readme


def test_service_ci_can_read_a_private_wheelhouse(service: Path, own_image_service: Path) -> None:
    """Defect: no registry login and no `packages: read`, while GHCR packages start private."""
    for rendered in (service, own_image_service):
        for name, job in service_ci(rendered)["jobs"].items():
            assert job["permissions"] == {"contents": "read", "packages": "read"}, name
            uses = [s.get("uses", "").split("@")[0] for s in job["steps"]]
            login = uses.index("docker/login-action")
            assert steps_using(job, "docker/login-action")[0]["with"]["registry"] == "ghcr.io"
            pulls = [i for i, s in enumerate(job["steps"]) if "pin --check" in s.get("run", "") or "bake-action" in s.get("uses", "")]
            assert pulls and all(login < i for i in pulls), name


def run_step(script: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A workflow step's `run:` as GitHub runs it: bash -e, with RUNNER_TEMP."""
    temp = Path(tempfile.mkdtemp(prefix="runner-temp-", dir=cwd.parent))
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "RUNNER_TEMP": str(temp), **(env or {})})


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", *GIT_ID, *args], cwd=folder, capture_output=True, text=True, check=True).stdout.strip()


def test_the_template_check_fails_only_when_the_template_changed(service: Path, tmp_path: Path) -> None:
    """Defect: `cruft check` failed after any commit to the wheelbase repository (it compares commits,
    and its treeless clone has an empty index). The service's step compares consumer-template/ only."""
    template = tmp_path / "wheelbase"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(template)], check=True)
    commit = git(template, "rev-parse", "HEAD")
    project = tmp_path / "service"
    shutil.copytree(service, project)
    (project / ".cruft.json").write_text(json.dumps({"template": f"file://{template}", "commit": commit,
                                                     "directory": "consumer-template"}))
    step = step_named(service_ci(service)["jobs"]["current"], "The template has not changed")["run"]
    (template / "README.md").write_text("a README-only change\n")
    git(template, "commit", "--quiet", "-am", "README only")
    done = run_step(step, project)
    assert done.returncode == 0, done.stdout + done.stderr
    readme = template / "consumer-template" / "{{cookiecutter.service_slug}}" / "README.md"
    readme.write_text(readme.read_text() + "\nOn call: see the runbook.\n")
    git(template, "commit", "--quiet", "-am", "template: mention the runbook")
    done = run_step(step, project)
    assert done.returncode == 1 and "changed since" in done.stdout and "mention the runbook" in done.stdout


def test_a_service_without_cruft_state_is_told_how_to_link_it(service: Path, tmp_path: Path) -> None:
    """Defect: plain-cookiecutter services have no .cruft.json, and the install step failed with jq's error."""
    project = tmp_path / "plain"
    shutil.copytree(service, project)
    step = step_named(service_ci(service)["jobs"]["current"], "Install wheelbase")["run"]
    done = run_step(step, project)
    assert done.returncode == 1 and "cruft link" in done.stdout


@pytest.mark.e2e
def test_a_service_ci_installs_wheelbase_from_its_recorded_template(tmp_path: Path) -> None:
    """Defect: the install step used the recorded template source as a pip URL, which failed for a
    local path ("No scheme supplied") and for git@ sources. `wheelbase new` records a URL; the step
    runs here as it does on GitHub, into a fresh venv, from a file:// clone of this repository."""
    template = tmp_path / "wheelbase"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(template)], check=True)
    project = tmp_path / "service"
    project.mkdir()
    (project / ".cruft.json").write_text(json.dumps({"template": f"file://{template}", "commit": git(template, "rev-parse", "HEAD"),
                                                     "directory": "consumer-template"}))
    venv = tmp_path / "venv"
    subprocess.run(["python3", "-m", "venv", "--upgrade-deps", str(venv)], check=True)  # a current pip, as setup-python has
    rendered = render(tmp_path / "rendered")
    step = step_named(service_ci(rendered)["jobs"]["current"], "Install wheelbase")["run"]
    done = run_step(step, project, env={"PATH": f"{venv / 'bin'}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert subprocess.run([str(venv / "bin" / "wheelbase"), "--help"], capture_output=True).returncode == 0


def test_service_ci_validates_its_compose_file(service: Path) -> None:
    step = step_named(service_ci(service)["jobs"]["current"], "The compose file")
    assert step["run"] == "docker compose config --quiet"


def test_service_ci_builds_with_its_pin_and_tests(service: Path) -> None:
    jobs = service_ci(service)["jobs"]
    assert "wheelbase pin --check ." in json.dumps(jobs["current"]["steps"])
    test_step = steps_using(jobs["test"], "docker/bake-action")[0]["with"]
    build_step = steps_using(jobs["build"], "docker/bake-action")[0]["with"]
    assert test_step["targets"] == "test" and build_step["targets"] == "image"
    # No BASE_IMAGE override: CI builds with the wheelhouse the Dockerfile pins.
    assert "BASE_IMAGE" not in test_step.get("set", "") + build_step.get("set", "")
    assert f"ARG BASE_IMAGE=localhost:5000/wheelbase/wheelhouse:py3.13-debian@{DIGEST}" in (service / "Dockerfile").read_text()
