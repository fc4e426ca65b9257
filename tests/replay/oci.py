"""Markers in a registry, where the real tools keep what they make: cosign's signature beside an
image as the tag `sha256-<hex>.sig`, an attestation as `sha256-<hex>.att-<kind>`. Each marker is a
small OCI image whose config holds what the real tool would have recorded (who signed, which
Sigstore instance, which SBOM), so the registry alone tells a test what exists for a digest."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from typing import Any

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.wheelbase.replay.marker.v1+json"


def split(image: str) -> tuple[str, str]:
    """registry host and repository of an image name (no tag or digest)."""
    host, _, repository = image.partition("/")
    if "." not in host and ":" not in host and host != "localhost":
        raise ValueError(f"{image}: the replay keeps markers only in a named registry")
    return host, repository


def _request(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read(), answer.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def marker_tag(digest: str, kind: str) -> str:
    return f"{digest.replace(':', '-')}.{kind}"


def put_marker(image: str, digest: str, kind: str, record: dict[str, Any]) -> None:
    host, repository = split(image)
    base = f"http://{host}/v2/{repository}"
    existing = get_marker(image, digest, kind)
    records = [*(existing or []), record]
    config = json.dumps(records, sort_keys=True).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    status, _, headers = _request("POST", f"{base}/blobs/uploads/")
    if status != 202:
        raise OSError(f"registry refused an upload ({status})")
    location = headers["Location"]
    location = location if location.startswith("http") else f"http://{host}{location}"
    status, body, _ = _request("PUT", f"{location}{'&' if '?' in location else '?'}digest={config_digest}", config,
                               {"Content-Type": "application/octet-stream"})
    if status != 201:
        raise OSError(f"registry refused a blob ({status}): {body[:200]!r}")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST, "config": {"mediaType": CONFIG, "digest": config_digest,
                           "size": len(config)}, "layers": []}).encode()
    status, body, _ = _request("PUT", f"{base}/manifests/{marker_tag(digest, kind)}", manifest, {"Content-Type": MANIFEST})
    if status != 201:
        raise OSError(f"registry refused a manifest ({status}): {body[:200]!r}")


def get_marker(image: str, digest: str, kind: str) -> list[dict[str, Any]] | None:
    """The records of a marker, or None when there is none."""
    host, repository = split(image)
    base = f"http://{host}/v2/{repository}"
    status, body, _ = _request("GET", f"{base}/manifests/{marker_tag(digest, kind)}", headers={"Accept": MANIFEST})
    if status == 404:
        return None
    if status != 200:
        raise OSError(f"registry answered {status} for a marker")
    config = json.loads(body)["config"]["digest"]
    status, body, _ = _request("GET", f"{base}/blobs/{config}")
    if status != 200:
        raise OSError(f"registry answered {status} for a marker's record")
    return list(json.loads(body))


def resolve(reference: str) -> str | None:
    """The digest a tag (or digest) names now, or None when it names nothing."""
    name, _, tag = reference.rpartition(":") if "@" not in reference else (reference.split("@")[0], "", reference.split("@")[1])
    host, repository = split(name)
    status, _, headers = _request("HEAD", f"http://{host}/v2/{repository}/manifests/{tag}", headers={"Accept": ", ".join([
        MANIFEST, "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json"])})
    if status == 404:
        return None
    if status != 200:
        raise OSError(f"registry answered {status} for {reference}")
    return str(headers["Docker-Content-Digest"])


def fetch(image: str, reference: str, accept: str) -> dict[str, Any]:
    host, repository = split(image)
    status, body, _ = _request("GET", f"http://{host}/v2/{repository}/manifests/{reference}", headers={"Accept": accept})
    if status != 200:
        raise OSError(f"registry answered {status} for {image}@{reference}")
    return dict(json.loads(body))


def blob(image: str, digest: str) -> bytes:
    host, repository = split(image)
    status, body, _ = _request("GET", f"http://{host}/v2/{repository}/blobs/{digest}")
    if status != 200:
        raise OSError(f"registry answered {status} for blob {digest}")
    return body
