"""The publish workflow's per-platform path, replayed here the way it runs: each machine's bake step
rebuilt from the YAML as bake-action v7.1.0 calls bake, its digests recorded by the workflow's own
`run:` script, then the merge job's script, run with bash against the real registry, making one
index per tag with both platforms, and refusing to move a release tag on a re-run.

One thing is replayed differently, and says so: the engine's `docker` driver cannot push by digest
(buildx: "push-by-digest is currently not implemented for docker driver"), which GitHub's
docker-container builder does; each platform is pushed under a scratch tag instead and only its
digest is used, as the workflow uses it."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import MULTI_PYTHON_IMAGE, REPO, RUN_ID, bake_action_argv, expand, run

pytestmark = pytest.mark.e2e
PUBLISH = REPO / ".github" / "workflows" / "publish.yml"
MULTI_PYTHON = MULTI_PYTHON_IMAGE


def job(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load(PUBLISH.read_text())["jobs"][name])


def step(job_steps: dict[str, Any], start: str) -> dict[str, Any]:
    return next(s for s in job_steps["steps"] if s.get("name", "").startswith(start) or s.get("id") == start)


def bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `run:` step as GitHub runs it: bash --noprofile --norc -eo pipefail."""
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=REPO, env=env,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def published(registry: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    temp = tmp_path_factory.mktemp("runner-temp")
    image = f"{registry}/wheelbase-e2e-{RUN_ID}/replayed"
    env = {**os.environ, "FLAVOR": "debian", "PYTHON_VERSION": "3.13", "IMAGE": image, "PYTHON_IMAGE": MULTI_PYTHON,
           "SOURCE_DATE_EPOCH": "1764115200", "REVISION": "0" * 40, "TAG": f"2026.11.27.{RUN_ID}", "RUNNER_TEMP": str(temp)}
    build = job("build")
    for platform in ("linux/amd64", "linux/arm64"):
        values = {"matrix.platform": platform, "matrix.flavor": "debian", "env.IMAGE": image}
        bake = step(build, "bake")
        bake = {**bake, "with": {k: expand(v, values) if isinstance(v, str) else v for k, v in bake["with"].items()}}
        argv = bake_action_argv(bake, {"target": {}}, private=False)
        scratch = f"type=image,name={image}:replay-{platform.split('/')[1]},push=true"  # the docker driver's stand-in
        argv = [f"*.output={scratch}" if "push-by-digest" in a else a for a in argv]
        metadata = temp / f"metadata-{platform.replace('/', '-')}.json"
        run("docker", "buildx", *argv[:-1], "--metadata-file", str(metadata), argv[-1], cwd=REPO, env=env, timeout=1800)
        record = step(build, "Record the digests")
        recorded = bash(record["run"].replace('mv "$RUNNER_TEMP/sbom-runtime.cdx.json"', "true #"),
                        {**env, "METADATA": metadata.read_text(), "PLATFORM": platform})
        assert recorded.returncode == 0, recorded.stderr
    return env, temp


def test_the_merge_job_makes_one_index_per_tag_with_both_platforms(published: tuple[dict[str, str], Path]) -> None:
    env, temp = published
    merge = step(job("merge"), "Merge the digests")
    summary = temp / "summary.md"
    done = bash(merge["run"], {**env, "DIGESTS": str(temp / "digests"), "GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 0, done.stdout + done.stderr
    pins = dict(line.split("=", 1) for line in (temp / "pins").read_text().splitlines())
    targets = json.loads(run("docker", "buildx", "bake", "--print", "release", cwd=REPO, env=env).stdout)["target"]
    for name in ("base", "runtime"):
        moving, release = targets[name]["tags"]
        assert pins[name].startswith(f"{moving}@sha256:")
        for tag in (moving, release):
            index = json.loads(run("docker", "buildx", "imagetools", "inspect", tag, "--format", "{{json .Manifest}}").stdout)
            assert f"{moving}@{index['digest']}" == pins[name]
            assert sorted(m["platform"]["architecture"] for m in index["manifests"]) == ["amd64", "arm64"]
    assert "BASE_IMAGE=" in summary.read_text()


def test_a_rerun_of_a_published_release_moves_no_tag(published: tuple[dict[str, str], Path]) -> None:
    env, temp = published
    merge = step(job("merge"), "Merge the digests")
    moving = json.loads(run("docker", "buildx", "bake", "--print", "release", cwd=REPO, env=env).stdout)["target"]["base"]["tags"][0]
    before = run("docker", "buildx", "imagetools", "inspect", moving, "--format", "{{json .Manifest}}").stdout
    rerun = Path(tempfile.mkdtemp(dir=temp))
    done = bash(merge["run"], {**env, "RUNNER_TEMP": str(rerun), "DIGESTS": str(temp / "digests"),
                               "GITHUB_STEP_SUMMARY": str(rerun / "summary.md")})
    assert done.returncode == 1 and "is already published; a release tag is never moved" in done.stdout
    assert run("docker", "buildx", "imagetools", "inspect", moving, "--format", "{{json .Manifest}}").stdout == before
