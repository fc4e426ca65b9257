"""One CycloneDX SBOM for a multi-platform image index, from each platform image's own SBOM.

A scanner reads one platform image at a time; the publish workflow attests the index, which is
what a service pins. The index's SBOM keeps each platform's document whole: the index is the
document's subject (metadata.component), each platform image is a container component holding its
own packages, and every bom-ref is prefixed with its platform image's, so two platforms that ship
one package keep two distinct references and their dependency graphs stay apart.

Only what this tool understands is carried over (components and dependencies). A document with
anything else that refers to bom-refs (services, compositions, vulnerabilities, annotations,
formulation) is refused rather than merged wrongly.

    python3 -m wheelbase.sbom --image IMAGE@sha256:... --output index.cdx.json PLATFORM.cdx.json...
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

KNOWN = {"bomFormat", "specVersion", "serialNumber", "version", "metadata", "components", "dependencies", "$schema"}
REFERRING = ("services", "compositions", "vulnerabilities", "annotations", "formulation", "externalReferences")
SPEC_VERSIONS = ("1.4", "1.5", "1.6")


class SbomError(ValueError):
    """An input this tool cannot merge faithfully."""


def _prefixed(component: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    copy = dict(component)
    if "bom-ref" in copy:
        copy["bom-ref"] = prefix + str(copy["bom-ref"])
    if "components" in copy:
        copy["components"] = [_prefixed(child, prefix) for child in copy["components"]]
    return copy


def _platform(document: Mapping[str, Any], source: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if document.get("bomFormat") != "CycloneDX" or document.get("specVersion") not in SPEC_VERSIONS:
        raise SbomError(f"{source} is not a CycloneDX {'/'.join(SPEC_VERSIONS)} document")
    unknown = sorted(set(document) - KNOWN - set(REFERRING))
    carried = [key for key in REFERRING if document.get(key)]
    if unknown or carried:
        raise SbomError(f"{source} has {', '.join(unknown + carried)}, which this merge does not carry over")
    subject = (document.get("metadata") or {}).get("component")
    if not isinstance(subject, Mapping) or not subject.get("name"):
        raise SbomError(f"{source} names no image (metadata.component)")
    name = str(subject["name"])
    prefix = f"{name}#"
    image: dict[str, Any] = {key: value for key, value in subject.items() if key != "components"}
    image["type"] = "container"
    image["bom-ref"] = name
    image["components"] = [_prefixed(c, prefix) for c in [*(subject.get("components") or []), *(document.get("components") or [])]]
    old_subject = subject.get("bom-ref")
    dependencies = []
    for dependency in document.get("dependencies") or []:
        def ref(value: Any) -> str:
            return name if value == old_subject else prefix + str(value)
        dependencies.append({"ref": ref(dependency["ref"]), "dependsOn": [ref(v) for v in dependency.get("dependsOn", [])]})
    return image, dependencies


def merge(image: str, documents: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """The index's SBOM: `image` (NAME@sha256:...) as the subject, each document's image inside it."""
    name, _, digest = image.partition("@")
    if not digest.startswith("sha256:"):
        raise SbomError(f"--image {image} names no digest; the SBOM describes one index, NAME@sha256:...")
    platforms: list[dict[str, Any]] = []
    dependencies: list[dict[str, Any]] = []
    versions: list[str] = []
    tools: Any = None
    for source, document in documents:
        platform, graph = _platform(document, source)
        if any(p["bom-ref"] == platform["bom-ref"] for p in platforms):
            raise SbomError(f"{source} describes {platform['bom-ref']} again")
        platforms.append(platform)
        dependencies.extend(graph)
        versions.append(str(document["specVersion"]))
        tools = tools or (document.get("metadata") or {}).get("tools")
    if not platforms:
        raise SbomError("no platform SBOM given")
    metadata: dict[str, Any] = {"component": {"type": "container", "bom-ref": image, "name": name, "version": digest}}
    if tools:
        metadata["tools"] = tools
    return {
        "bomFormat": "CycloneDX",
        "specVersion": max(versions, key=SPEC_VERSIONS.index),
        # The same inputs give the same document: the serial number comes from the index and its parts.
        "serialNumber": uuid.uuid5(uuid.NAMESPACE_URL, "|".join([image, *sorted(p["bom-ref"] for p in platforms)])).urn,
        "version": 1,
        "metadata": metadata,
        "components": platforms,
        "dependencies": [{"ref": image, "dependsOn": [p["bom-ref"] for p in platforms]}, *dependencies],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m wheelbase.sbom", description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", required=True, help="the index: NAME@sha256:...")
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("platform_sboms", nargs="+", type=Path, metavar="PLATFORM.cdx.json")
    args = parser.parse_args(argv)
    try:
        documents = [(str(path), json.loads(path.read_text(encoding="utf-8"))) for path in args.platform_sboms]
        merged = merge(args.image, documents)
    except (OSError, ValueError) as exc:  # SbomError and json's errors are ValueErrors
        print(f"wheelbase.sbom: error: {exc}", file=sys.stderr)
        return 1
    args.output.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
