"""A registry on a loopback port that speaks the distribution API's read side, for tests that need
a registry's answers but no engine: `docker buildx imagetools inspect` (what wheelbase asks through)
talks to it as to any registry. It holds images made here, each a manifest (or an index of one per
platform) whose config carries the labels given, and it can be told to fail as registries do: a
status for every request, or a token service that refuses."""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import socket
import threading
from dataclasses import dataclass, field

INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class FakeRegistry:
    blobs: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # digest -> (bytes, media type)
    tags: dict[tuple[str, str], str] = field(default_factory=dict)  # (repository, tag) -> digest
    status: int | None = None  # answer every request with this status
    token_service_status: int | None = None  # ask for a token at /token, which answers this status

    def __post_init__(self) -> None:
        registry = self

        class Answer(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry.answer(self, body=True)

            def do_HEAD(self) -> None:
                registry.answer(self, body=False)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _blob(self, data: bytes, media_type: str) -> str:
        found = digest(data)
        self.blobs[found] = (data, media_type)
        return found

    def push(self, repository: str, tag: str, labels_by_platform: dict[str, dict[str, str]]) -> str:
        """An image (an index when it has several platforms) with these labels; returns its digest."""
        manifests = []
        for platform, labels in labels_by_platform.items():
            os_name, architecture = platform.split("/")[:2]
            config = json.dumps({"architecture": architecture, "os": os_name, "config": {"Labels": labels},
                                 "rootfs": {"type": "layers", "diff_ids": []}}).encode()
            manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST, "layers": [],
                                   "config": {"mediaType": CONFIG, "digest": self._blob(config, CONFIG),
                                              "size": len(config)}}).encode()
            manifests.append((platform, self._blob(manifest, MANIFEST), len(manifest)))
        if len(manifests) == 1:
            top = manifests[0][1]
        else:
            index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [
                {"mediaType": MANIFEST, "digest": d, "size": size,
                 "platform": {"os": p.split("/")[0], "architecture": p.split("/")[1]}} for p, d, size in manifests]}).encode()
            top = self._blob(index, INDEX)
        self.tags[(repository, tag)] = top
        return top

    def answer(self, request: http.server.BaseHTTPRequestHandler, *, body: bool) -> None:
        path = request.path.split("?")[0]
        if self.status is not None:
            return self._send(request, self.status, b"", "text/plain", body)
        if path == "/token":
            return self._send(request, self.token_service_status or 404, b"404 page not found\n", "text/plain", body)
        if self.token_service_status is not None:
            request.send_response(401)
            request.send_header("WWW-Authenticate", f'Bearer realm="http://{self.host}/token",service="fake"')
            request.send_header("Content-Length", "0")
            request.end_headers()
            return None
        if path == "/v2/":
            return self._send(request, 200, b"{}", "application/json", body)
        found = re.fullmatch(r"/v2/(?P<repository>.+)/(?P<kind>manifests|blobs)/(?P<reference>[^/]+)", path)
        if not found:
            return self._send(request, 404, b"", "text/plain", body)
        reference = found["reference"]
        key = reference if reference.startswith("sha256:") else self.tags.get((found["repository"], reference), "")
        if key not in self.blobs:
            error = json.dumps({"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode()
            return self._send(request, 404, error, "application/json", body)
        data, media_type = self.blobs[key]
        return self._send(request, 200, data, media_type, body, key)

    @staticmethod
    def _send(request: http.server.BaseHTTPRequestHandler, status: int, data: bytes, media_type: str, body: bool,
              content_digest: str | None = None) -> None:
        request.send_response(status)
        request.send_header("Content-Type", media_type)
        request.send_header("Content-Length", str(len(data)))
        if content_digest:
            request.send_header("Docker-Content-Digest", content_digest)
        request.end_headers()
        if body:
            request.wfile.write(data)


class SilentRegistry:
    """A TCP server on loopback that accepts connections and never answers: a registry that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()
