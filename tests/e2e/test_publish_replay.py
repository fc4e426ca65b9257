"""The publish workflow, replayed here as GitHub runs it (tests/replay: every job, `${{ }}` and
`if:` through GitHub's own evaluator, every `run:` in the shell GitHub picks, prepare's outputs used
as they are), against the real engine and the local registry, for one Python series of each
flavor stand-in (debian and debian-musl) on linux/amd64. That every series of every flavor the bake
file lists is published is shown on prepare's replay (tests/test_workflows.py, eight series); here
two are enough for what needs real images: one series failing while the other publishes.

Two publishes of one repository, a week apart (two commits): the first completes; in the second,
the registry fails the runtime's release tag of one series after its wheelhouse's was made, and
"Re-run failed jobs" finishes it. After every step of both runs and the re-run, every moving tag
names a signed and attested index, and each series' wheelhouse and runtime tags name one release.

What the replay does differently, and why it changes no digest the tests compare:
- the engine's `docker` driver cannot push by digest (GitHub's docker-container builder can):
  each platform is pushed under a scratch tag and only its digest is used, as the workflow does;
- GitHub's build cache (type=gha) is not here: builds use the engine's own cache;
- signing, attestations and Trivy leave markers (tests/replay/actions.py, bin/, installed/):
  Sigstore, GitHub's attestation API and Trivy's database are not reachable here;
- the lock scan's verdict depends on the day's advisories: it is taken as passed here and
  replayed on its own in test_defect_6_the_gate_audits_every_lock_the_images_ship.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from replay import github_side, oci
from replay.actions import ACTIONS, SHIMS
from replay.runner import Instance, Result, Runner

from support import BUILD_VARIABLES, REPO, RUN_ID, STANDINS, run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PUBLISH = REPO / ".github" / "workflows" / "publish.yml"
FAULTS = Path(__file__).resolve().parents[1] / "replay" / "faults"
# The series replayed: one of each flavor stand-in, each on its stand-in Python image.
SERIES = {
    ("debian", STANDINS["STANDIN_PYTHON_VERSION"]): STANDINS["STANDIN_PYTHON_IMAGE"],
    ("debian-musl", STANDINS["STANDIN_PYTHON_VERSION"]): STANDINS["STANDIN_MUSL_PYTHON_IMAGE"],
}
FAILING = ("debian", STANDINS["STANDIN_PYTHON_VERSION"])  # the series whose runtime release tag fails once
IDENTITY = "https://github.com/acme/wheelbase/.github/workflows/publish.yml@refs/heads/main"
ISSUER = "https://token.actions.githubusercontent.com"


@dataclass
class Published:
    image: str
    state: Path
    first: Result
    second: Result
    rerun: Result
    tag: str
    events: list[dict[str, Any]]
    broken: list[str] = field(default_factory=list)  # every invariant seen broken, and where
    moments: int = 0


def moving(image: str, flavor: str, version: str) -> tuple[str, str]:
    return f"{image}:py{version}-{flavor}", f"{image}:py{version}-{flavor}-runtime"


def labels(image: str, digest: str) -> dict[str, str]:
    index = oci.fetch(image, digest, "application/vnd.oci.image.index.v1+json")
    (manifest,) = [m for m in index["manifests"] if m.get("platform", {}).get("architecture") == "amd64"]
    config = json.loads(oci.blob(image, oci.fetch(image, manifest["digest"], oci.MANIFEST)["config"]["digest"]))
    return dict(config["config"]["Labels"])


def broken_invariants(image: str) -> list[str]:
    """What is wrong now: a moving tag on an index without its signature or attestations, or a
    series whose wheelhouse and runtime tags name different releases (or only one of them exists)."""
    problems = []
    for flavor, version in SERIES:
        base, runtime = moving(image, flavor, version)
        digests = {tag: oci.resolve(tag) for tag in (base, runtime)}
        if (digests[base] is None) != (digests[runtime] is None):
            problems.append(f"only one of {base}, {runtime} exists")
            continue
        if digests[base] is None:
            continue
        for tag, digest in digests.items():
            assert digest is not None
            signatures = oci.get_marker(image, digest, "sig") or []
            if not any(s["identity"] == IDENTITY and s["issuer"] == ISSUER for s in signatures):
                problems.append(f"{tag} names {digest}, which is not signed")
            for kind in ("att-provenance", "att-sbom"):
                if not oci.get_marker(image, digest, kind):
                    problems.append(f"{tag} names {digest}, which has no {kind}")
        ours, theirs = (labels(image, d) for d in digests.values() if d)
        keys = ("org.opencontainers.image.revision", "dev.wheelbase.python.image", "dev.wheelbase.python.version")
        if any(ours.get(k) != theirs.get(k) for k in keys):
            problems.append(f"{base} and {runtime} name different releases")
    return problems


def runner(image: str, state: Path, *, run_number: int, sha: str, observe: Any) -> Runner:
    machine = {k: v for k, v in os.environ.items() if k not in BUILD_VARIABLES}
    machine["PATH"] = f"{FAULTS}:{machine['PATH']}"
    images = {f"{flavor}:{version}": f"{image.rsplit('/', 1)[0]}/python:{version}-{flavor}" for flavor, version in SERIES}
    machine.update({
        # The runner machine's environment: which series and flavors this replay publishes (bake reads them)
        "PYTHON_VERSIONS": ",".join(sorted({v for _, v in SERIES}, key=lambda v: tuple(map(int, v.split("."))))),
        "PUBLISHED_FLAVORS": ",".join(sorted({f for f, _ in SERIES})), "PUBLISHED_PLATFORMS": "linux/amd64",
        "PYTHON_IMAGES": json.dumps(images)})
    return Runner(PUBLISH, REPO, actions=ACTIONS, state=state, event_name="workflow_dispatch",
                  payload={"repository": {"full_name": "acme/wheelbase", "visibility": "public", "private": False}},
                  vars={"WHEELBASE_IMAGE": image, "PYTHON_RELEASE_CYCLE_URL": f"file://{state / 'release-cycle.json'}"},
                  machine_env=machine, shims=SHIMS, run_id=9000 + run_number, run_number=run_number, sha=sha,
                  observe=observe, assume_succeeded={"scan"})


@pytest.fixture(scope="module")
def published(registry: str, tmp_path_factory: pytest.TempPathFactory) -> Published:
    # A repository of its own: the session's wheelhouse (conftest.py) has wheelbase-e2e-<run>/wheelhouse,
    # with moving tags of the same names, which this replay must neither find nor move.
    image = f"{registry}/wheelbase-e2e-{RUN_ID}/publish-replay/wheelhouse"
    for (flavor, version), standin in SERIES.items():  # the stand-ins, where prepare can pin them by digest
        run("docker", "tag", standin, f"{image.rsplit('/', 1)[0]}/python:{version}-{flavor}")
        run("docker", "push", "--quiet", f"{image.rsplit('/', 1)[0]}/python:{version}-{flavor}")
    state = tmp_path_factory.mktemp("github")
    (state / "release-cycle.json").write_text(json.dumps({v: {"end_of_life": "2031-10"} for _, v in SERIES}))
    github_side.write_facts(state, {
        "repository": {"full_name": "acme/wheelbase", "visibility": "public", "private": False},
        "runs": {"9041": {"created_at": "2026-11-30T04:23:05Z"}, "9042": {"created_at": "2026-12-07T04:23:07Z"}}})
    found: list[str] = []
    moments = 0

    def observe(where: str) -> None:
        nonlocal moments
        moments += 1
        found.extend(f"after {where}: {problem}" for problem in broken_invariants(image))

    head = run("git", "rev-parse", "HEAD", cwd=REPO).stdout.strip()
    first_runner = runner(image, state, run_number=41, sha=head, observe=observe)
    first = first_runner.run()
    assert {first.result(j) for j in ("build", "check", "publish", "notify")} == {"success"}, first.failures()[-8000:]
    tag = f"2026.12.07.42-py{FAILING[1]}-{FAILING[0]}-runtime"
    (state / "faults.json").write_text(json.dumps([{"match": ["imagetools create", f"{image}:{tag}"], "times": 1}]))
    second_runner = runner(image, state, run_number=42, sha="f" * 40, observe=observe)
    second = second_runner.run()
    rerun = second_runner.rerun_failed(second)
    return Published(image, state, first, second, rerun, "2026.12.07.42", first_runner.events + second_runner.events, found,
                     moments)


def test_prepare_lists_every_series_of_the_bake_file_each_on_its_image_pinned_by_digest(published: Published) -> None:
    series = json.loads(published.first.outputs("prepare")["series"])
    assert {(s["flavor"], s["version"]) for s in series} == set(SERIES)
    for entry in series:
        name, _, digest = entry["python-image"].partition("@")
        assert name.endswith(f"/python:{entry['version']}-{entry['flavor']}") and oci.resolve(name) == digest


def test_every_series_of_both_flavors_is_built_merged_and_published(published: Published) -> None:
    for flavor, version in SERIES:
        base, runtime = moving(published.image, flavor, version)
        for tag in (base, runtime):
            digest = oci.resolve(tag)
            assert digest is not None, tag
            found = labels(published.image, digest)
            assert found["dev.wheelbase.flavor"] == flavor and found["dev.wheelbase.python.version"] == version
            assert found["org.opencontainers.image.revision"] == "f" * 40  # the second week's commit
            assert found["dev.wheelbase.python.end-of-life"] == "2031-10"  # from the release-cycle data, at publish time
        for tag in (base, runtime):
            release = tag.replace(":py", f":{published.tag}-py")
            assert oci.resolve(release) == oci.resolve(tag)


def test_defect_2_the_runtime_failing_after_the_wheelhouse_is_finished_by_a_rerun(published: Published) -> None:
    """The registry failed the runtime's release tag after the wheelhouse's was made. Until the
    re-run, that series kept last week's signed pair; the re-run kept the wheelhouse's release tag
    (same images), made the runtime's, signed and attested both, then moved both tags."""
    second = {(i.matrix.get("flavor"), i.matrix.get("version")): i.result for i in published.second.jobs["publish"]}
    assert second.pop(FAILING) == "failure" and set(second.values()) == {"success"}
    assert published.rerun.result("publish") == "success" and published.rerun.result("notify") == "success"
    rerun = [i for i in published.rerun.jobs["publish"] if i.attempt == 2]
    assert [(i.matrix["flavor"], i.matrix["version"]) for i in rerun] == [FAILING]
    assert "already names these images: kept" in rerun[0].steps[[s.name for s in rerun[0].steps].index(
        next(s.name for s in rerun[0].steps if s.name.startswith("1. Release tags")))].log
    assert published.moments > 100 and published.broken == []


def test_a_rerun_signs_nothing_twice(published: Published) -> None:
    for flavor, version in SERIES:
        for tag in moving(published.image, flavor, version):
            digest = oci.resolve(tag)
            assert digest is not None
            assert len(oci.get_marker(published.image, digest, "sig") or []) == 1, tag


def test_defect_1_provenance_goes_to_the_public_sigstore_of_a_public_repository(published: Published) -> None:
    attests = [e for e in published.events if e["event"] == "attest"]
    assert len(attests) == 2 * 2 * 2 * len(SERIES)  # provenance and SBOM, of both images, both weeks (once each)
    assert {e["instance"] for e in attests} == {"public-good"}


def test_defect_3_every_attestation_gets_its_storage_record(published: Published) -> None:
    assert [e for e in published.events if e["event"] == "warning"] == []


def test_defect_5_both_indexes_carry_provenance_and_an_sbom_of_the_pushed_images(published: Published) -> None:
    for flavor, version in SERIES:
        for tag in moving(published.image, flavor, version):
            digest = oci.resolve(tag)
            assert digest is not None
            (provenance,) = oci.get_marker(published.image, digest, "att-provenance") or []
            assert provenance["workflow"].startswith("acme/wheelbase/.github/workflows/publish.yml@")
            records = oci.get_marker(published.image, digest, "att-sbom") or []
            assert len(records) == 1, tag
            sbom = records[0]["sbom"]
            assert sbom["metadata"]["component"]["name"] == published.image
            assert sbom["metadata"]["component"]["version"] == digest  # the index services pin, as pushed
            index = oci.fetch(published.image, digest, "application/vnd.oci.image.index.v1+json")
            assert {c["name"] for c in sbom["components"]} == {f"{published.image}@{m['digest']}" for m in index["manifests"]}


def test_defect_8_no_scanner_runs_where_a_write_token_is_logged_in(published: Published) -> None:
    scanners = [e for e in published.events if e["event"] == "scanner"]
    assert scanners and not any(e["after-write-login"] for e in scanners)
    writers = {e["job"] for e in published.events if e["event"] == "job" and e["permissions"].get("packages") == "write"}
    assert writers and not writers & {e["job"] for e in scanners}


def rerun_publish(published: Published, series: tuple[str, str]) -> Instance:
    """"Re-run failed jobs" of the second week's run once more, with `series`' publish as failed."""
    again = Result(attempt=published.rerun.attempt, jobs={job: list(instances) for job, instances in published.rerun.jobs.items()})
    again.jobs["publish"] = [Instance(i.job, i.matrix, "failure" if (i.matrix["flavor"], i.matrix["version"]) == series else i.result,
                                      i.steps, i.outputs, i.attempt) for i in again.jobs["publish"]]
    result = runner(published.image, published.state, run_number=42, sha="f" * 40, observe=None).rerun_failed(again)
    (instance,) = [i for i in result.jobs["publish"] if i.attempt == again.attempt + 1]
    return instance


def test_a_release_tag_that_names_other_images_is_never_moved(published: Published) -> None:
    base, _ = moving(published.image, *FAILING)
    release = base.replace(":py", f":{published.tag}-py")
    before = {tag: oci.resolve(tag) for flavor, version in SERIES for tag in moving(published.image, flavor, version)}
    original = oci.resolve(release)
    other = oci.resolve(moving(published.image, "debian-musl", FAILING[1])[0])
    run("docker", "buildx", "imagetools", "create", "--tag", release, f"{published.image}@{other}")
    try:
        instance = rerun_publish(published, FAILING)
    finally:
        run("docker", "buildx", "imagetools", "create", "--tag", release, f"{published.image}@{original}")
    assert instance.result == "failure"
    failed = next(s for s in instance.steps if s.outcome == "failure")
    assert failed.name.startswith("1. Release tags") and "a release tag is never moved: start a new run" in failed.log
    assert {tag: oci.resolve(tag) for tag in before} == before


def test_an_older_publish_never_moves_a_newer_release_back(published: Published, tmp_path: Path) -> None:
    """A re-run of an older run's failed jobs finds the series' tags on a release of a later commit
    (published meanwhile) and leaves them there."""
    base, runtime = moving(published.image, *FAILING)
    before = {tag: oci.resolve(tag) for tag in (base, runtime)}
    (tmp_path / "Dockerfile").write_text("FROM scratch\nLABEL org.opencontainers.image.created=2099-01-01T00:00:00Z\n")
    later = f"{published.image}:later-{RUN_ID}"
    run("docker", "buildx", "build", "--quiet", "--provenance=false", "--output", f"type=image,name={later},push=true", str(tmp_path))
    for tag in (base, runtime):
        run("docker", "buildx", "imagetools", "create", "--tag", tag, later)
    newer = {tag: oci.resolve(tag) for tag in (base, runtime)}
    try:
        instance = rerun_publish(published, FAILING)
        assert {tag: oci.resolve(tag) for tag in (base, runtime)} == newer
    finally:
        for tag, digest in before.items():
            run("docker", "buildx", "imagetools", "create", "--tag", tag, f"{published.image}@{digest}")
    failed = next(s for s in instance.steps if s.outcome == "failure")
    assert failed.name.startswith("3. Moving tags") and "an older publish never moves it back" in failed.log
