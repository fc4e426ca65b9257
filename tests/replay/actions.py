"""The actions the workflows use, replayed at the versions they pin.

Each does here what it does on GitHub, as far as this machine allows, and fails with the real
action's words where the real one fails:
- checkout, setup-python, setup-buildx: the workspace is a checkout of this repository already;
  setup-python puts a fresh venv of this machine's Python first on PATH; buildx is the engine's.
- login-action: records the login (the local registry needs none); a scanner that runs after a
  write login in the same job is visible in the events.
- bake-action v7.1.0: the bake call it makes (support.bake_action_argv), with two differences that
  the engine's `docker` driver forces and that change no digest the tests compare: push-by-digest
  becomes a push under a scratch tag (only the digest is used), and GitHub's cache (type=gha) is
  left out.
- upload-artifact and download-artifact: the run's artifact store, names unique per run (a re-run
  is the same run: upload without `overwrite` fails on a name already there, as v4 and later do).
- trivy-action: a stand-in (Trivy's database is not reachable here): `image` scans check that the
  image exists and fail where the run's GitHub side lists a fixable finding; an SBOM names the
  image and lists its layers.
- cosign-installer: puts the replay's cosign on PATH.
- attest v4.2.2: needs id-token and attestations write; picks Sigstore's public-good instance only
  when the event's repository.visibility is public (src/main.ts); fails where attestations are
  not available to the repository; pushes a marker beside the subject with push-to-registry; and
  only warns, as the action does, when the storage record cannot be made (artifact-metadata).
"""

from __future__ import annotations

import fnmatch
import glob
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from replay import github_side, oci
from replay.runner import Call, StepFailed
from support import bake_action_argv

HERE = Path(__file__).resolve().parent


def _true(value: object, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value is True or str(value).lower() == "true"


def nothing(call: Call) -> None:
    call.log.append("(nothing to do here)")


def setup_python(call: Call) -> None:
    venv = call.temp / "python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    call.path.append(str(venv / "bin"))
    call.log.append(f"python {sys.version.split()[0]} for {call.inputs.get('python-version')}")


def login(call: Call) -> None:
    call.runner.events.append({"event": "login", "job": call.job, "registry": call.inputs.get("registry"),
                               "write": call.permissions.get("packages") == "write"})


def bake(call: Call) -> None:
    inputs = {k: v for k, v in call.inputs.items()}
    sets = [line for line in str(inputs.get("set", "")).splitlines() if line.strip()]
    sets = [line for line in sets if "type=gha" not in line]  # GitHub's cache service is not here
    targets = str(inputs["targets"])
    printed = _run(["docker", "buildx", "bake", *[a for s in sets for a in ("--set", s)], "--print", *targets.split(",")],
                   call)
    definition = json.loads(printed)
    scratch = uuid.uuid4().hex[:8]
    outputs = []
    for line in sets:
        if line.startswith("*.output=") and "push-by-digest=true" in line:
            image = call.env["IMAGE"]
            outputs += [f"{name}.output=type=image,name={image}:replay-{name}-{scratch},push=true" for name in definition["target"]]
        else:
            outputs.append(line)
    argv = bake_action_argv({"with": {**inputs, "set": "\n".join(outputs)}}, definition, private=False)
    metadata = call.temp / f"bake-metadata-{scratch}.json"
    _run(["docker", "buildx", *argv[:-len(targets.split(","))], "--metadata-file", str(metadata), *targets.split(",")], call,
         timeout=3600)
    call.outputs["metadata"] = metadata.read_text()


def _run(argv: list[str], call: Call, timeout: float = 600) -> str:
    done = subprocess.run(argv, cwd=call.runner.workspace, env=call.env, capture_output=True, text=True, timeout=timeout)
    call.log.append(f"$ {' '.join(argv)}\n{done.stderr[-3000:]}")
    if done.returncode:
        raise StepFailed(f"ERROR: {' '.join(argv[:4])}... exited {done.returncode}\n{done.stderr[-4000:]}")
    return done.stdout


def upload_artifact(call: Call) -> None:
    name = str(call.inputs["name"])
    patterns = [p.strip() for p in str(call.inputs["path"]).splitlines() if p.strip()]
    files = sorted({Path(f) for p in patterns for f in glob.glob(p) if Path(f).is_file()})
    store = call.runner.artifacts / name
    if not files:
        if call.inputs.get("if-no-files-found", "warn") == "error":
            raise StepFailed(f"No files were found with the provided path: {' '.join(patterns)}. No artifacts will be uploaded.")
        call.log.append("::warning::No files were found with the provided path")
        return
    if store.exists():
        if not _true(call.inputs.get("overwrite")):
            raise StepFailed("Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: "
                             "an artifact with this name already exists on the workflow run")
        shutil.rmtree(store)
    store.mkdir(parents=True)
    for file in files:
        shutil.copy2(file, store / file.name)
    call.log.append(f"Artifact {name} has been successfully uploaded! ({len(files)} files)")


def download_artifact(call: Call) -> None:
    path = Path(str(call.inputs.get("path") or call.runner.workspace))
    name, pattern = call.inputs.get("name"), call.inputs.get("pattern")
    existing = sorted(p.name for p in call.runner.artifacts.glob("*")) if call.runner.artifacts.exists() else []
    if name:
        if name not in existing:
            raise StepFailed(f"Unable to download artifact(s): Artifact '{name}' not found")
        chosen = [str(name)]
    else:
        chosen = [a for a in existing if pattern is None or fnmatch.fnmatchcase(a, str(pattern))]
    merge = bool(name) or _true(call.inputs.get("merge-multiple")) or len(chosen) == 1
    for artifact in chosen:
        target = path if merge else path / artifact
        target.mkdir(parents=True, exist_ok=True)
        for file in (call.runner.artifacts / artifact).iterdir():
            shutil.copy2(file, target / file.name)
    call.log.append(f"Total of {len(chosen)} artifact(s) downloaded")


def trivy(call: Call) -> None:
    """Trivy's stand-in (its database is not reachable here): see the module's docstring."""
    logged_in = [e for e in call.runner.events if e["event"] == "login" and e["job"] == call.job and e["write"]]
    call.runner.events.append({"event": "scanner", "job": call.job, "after-write-login": bool(logged_in),
                               "inputs": call.inputs})
    if call.inputs.get("scan-type") != "image":
        return
    reference = str(call.inputs["image-ref"])
    name, _, digest = reference.partition("@")
    manifest = oci.fetch(name, digest or reference.rsplit(":", 1)[1], oci.MANIFEST + ", application/vnd.oci.image.index.v1+json")
    if call.inputs.get("format") == "cyclonedx":
        layers = [layer["digest"] for layer in manifest.get("layers", [])]
        document = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                    "metadata": {"component": {"type": "container", "bom-ref": f"pkg:oci/{digest}", "name": reference},
                                 "tools": {"components": [{"type": "application", "name": "trivy stand-in (wheelbase replay)"}]}},
                    "components": [{"type": "data", "bom-ref": layer, "name": layer} for layer in layers],
                    "dependencies": [{"ref": f"pkg:oci/{digest}", "dependsOn": layers}]}
        output = Path(str(call.inputs["output"]))
        if not output.parent.is_dir():  # trivy writes into an existing folder only
            raise StepFailed(f"FATAL: open {output}: no such file or directory")
        output.write_text(json.dumps(document))
        return
    if str(call.inputs.get("exit-code", "0")) == "1" and reference in github_side.facts(call.runner.state).get("findings", []):
        raise StepFailed(f"{reference}: 1 fixable HIGH vulnerability (the replay's finding)\nProcess completed with exit code 1.")


def cosign_installer(call: Call) -> None:
    call.path.append(str(HERE / "installed"))
    call.log.append("cosign (replay) installed")


def attest(call: Call) -> None:
    permissions = call.permissions
    if permissions.get("id-token") != "write":
        raise StepFailed("Error: Failed to get ID token: Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable")
    if permissions.get("attestations") != "write":
        raise StepFailed(f"Error: Failed to persist attestation: {github_side.DENIED}")
    facts = github_side.facts(call.runner.state)
    visibility = (call.runner.payload.get("repository") or {}).get("visibility")
    instance = "public-good" if visibility == "public" and not _true(call.inputs.get("private-signing")) else "github"
    if not facts.get("attestations_available", facts["repository"]["visibility"] == "public"):
        raise StepFailed("Error: Failed to persist attestation: Feature not available for the "
                         f"{call.runner.repository.split('/')[0]} organization. (HTTP 404)")
    name, digest = str(call.inputs["subject-name"]), str(call.inputs["subject-digest"])
    sbom = call.inputs.get("sbom-path")
    kind = "att-sbom" if sbom else "att-provenance"
    record = {"workflow": f"{call.env['GITHUB_WORKFLOW_REF']}", "instance": instance, "attempt": call.env["GITHUB_RUN_ATTEMPT"]}
    if sbom:
        document = json.loads(Path(str(sbom)).read_text())
        if document.get("bomFormat") != "CycloneDX":
            raise StepFailed("Error: Unsupported SBOM format")
        record["sbom"] = document
    call.runner.events.append({"event": "attest", "job": call.job, "kind": kind, "subject": f"{name}@{digest}", "instance": instance})
    if _true(call.inputs.get("push-to-registry")):
        if permissions.get("packages") != "write":
            raise StepFailed("Error: Failed to push attestation: denied")
        oci.put_marker(name, digest, kind, record)
        if _true(call.inputs.get("create-storage-record"), default=True) and permissions.get("artifact-metadata") != "write":
            call.runner.events.append({"event": "warning", "job": call.job, "message": "storage record"})
            call.log.append("::warning::Failed to create storage record: Resource not accessible by integration")
    call.outputs["attestation-id"] = uuid.uuid4().hex[:8]


ACTIONS = {
    "actions/checkout": nothing,
    "actions/setup-python": setup_python,
    "docker/setup-buildx-action": nothing,
    "docker/login-action": login,
    "docker/bake-action": bake,
    "actions/upload-artifact": upload_artifact,
    "actions/download-artifact": download_artifact,
    "aquasecurity/trivy-action": trivy,
    "sigstore/cosign-installer": cosign_installer,
    "actions/attest": attest,
}
SHIMS = HERE / "bin"  # what the runner image has on PATH: gh
