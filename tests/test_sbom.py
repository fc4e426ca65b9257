"""The index SBOM the publish workflow attests: each platform's CycloneDX document kept whole under
its own image, checked against CycloneDX's own JSON schema (cyclonedx-python-lib's validator)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from support import REPO
from wheelbase.sbom import SbomError, merge

INDEX = "ghcr.io/acme/wheelhouse@sha256:" + "a" * 64


def platform(digest: str, arch: str) -> dict[str, Any]:
    """A platform image's SBOM shaped as Trivy 0.6x writes one: purls as bom-refs, one dependency graph."""
    image = f"pkg:oci/wheelhouse@{digest}?arch={arch}"
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json", "bomFormat": "CycloneDX", "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", "version": 1,
        "metadata": {"timestamp": "2026-12-01T04:30:00+00:00",
                     "tools": {"components": [{"type": "application", "group": "aquasecurity", "name": "trivy", "version": "0.66.0"}]},
                     "component": {"bom-ref": image, "type": "container", "name": f"ghcr.io/acme/wheelhouse@{digest}",
                                   "properties": [{"name": "aquasecurity:trivy:SchemaVersion", "value": "2"}]}},
        "components": [
            {"bom-ref": "pkg:pypi/uvloop@0.22.1", "type": "library", "name": "uvloop", "version": "0.22.1",
             "purl": "pkg:pypi/uvloop@0.22.1"},
            {"bom-ref": "pkg:pypi/httptools@0.7.1", "type": "library", "name": "httptools", "version": "0.7.1",
             "purl": "pkg:pypi/httptools@0.7.1"}],
        "dependencies": [{"ref": image, "dependsOn": ["pkg:pypi/uvloop@0.22.1", "pkg:pypi/httptools@0.7.1"]},
                         {"ref": "pkg:pypi/uvloop@0.22.1", "dependsOn": []}, {"ref": "pkg:pypi/httptools@0.7.1", "dependsOn": []}],
        "vulnerabilities": [],
    }


def documents() -> list[tuple[str, dict[str, Any]]]:
    return [("amd64.cdx.json", platform("sha256:" + "1" * 64, "amd64")), ("arm64.cdx.json", platform("sha256:" + "2" * 64, "arm64"))]


def test_the_index_sbom_is_valid_cyclonedx_and_keeps_each_platform_apart() -> None:
    merged = merge(INDEX, documents())
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(merged))
    assert errors is None, errors
    assert merged["metadata"]["component"] == {"type": "container", "bom-ref": INDEX, "name": "ghcr.io/acme/wheelhouse",
                                               "version": "sha256:" + "a" * 64}
    images = merged["components"]
    assert [i["name"] for i in images] == [f"ghcr.io/acme/wheelhouse@sha256:{d * 64}" for d in "12"]
    refs = [c["bom-ref"] for i in images for c in i["components"]]
    assert len(refs) == len(set(refs)) == 4  # one package on two platforms: two references
    graph = {d["ref"]: d["dependsOn"] for d in merged["dependencies"]}
    assert graph[INDEX] == [i["bom-ref"] for i in images]
    for image in images:
        assert graph[image["bom-ref"]] == [c["bom-ref"] for c in image["components"]]


def test_the_same_inputs_give_the_same_document() -> None:
    assert merge(INDEX, documents()) == merge(INDEX, documents())


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(vulnerabilities=[{"id": "CVE-2026-1"}]), "vulnerabilities, which this merge does not carry over"),
    (lambda d: d.update(services=[{"name": "x"}]), "services, which this merge does not carry over"),
    (lambda d: d.update(specVersion="1.2"), "is not a CycloneDX"),
    (lambda d: d["metadata"].pop("component"), "names no image"),
])
def test_what_it_cannot_merge_faithfully_is_refused(change: Any, message: str) -> None:
    (name, first), second = documents()
    change(first)
    with pytest.raises(SbomError, match=message):
        merge(INDEX, [(name, first), second])


def test_the_command_writes_the_document_or_one_error_and_nothing(tmp_path: Path) -> None:
    paths = []
    for name, document in documents():
        (tmp_path / name).write_text(json.dumps(document))
        paths.append(str(tmp_path / name))
    out = tmp_path / "index.cdx.json"
    env = {"PYTHONPATH": str(REPO / "scripts")}
    done = subprocess.run([sys.executable, "-m", "wheelbase.sbom", "--image", INDEX, "--output", str(out), *paths],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0 and json.loads(out.read_text())["metadata"]["component"]["bom-ref"] == INDEX
    out.unlink()
    done = subprocess.run([sys.executable, "-m", "wheelbase.sbom", "--image", "ghcr.io/acme/wheelhouse:py3.13", "--output", str(out),
                           *paths], capture_output=True, text=True, env=env)
    assert done.returncode == 1 and done.stderr.startswith("wheelbase.sbom: error: --image") and not out.exists()
