"""wheelbase-serve (base-image/serve/), the serving side every service gets from its runtime: the
start command, the bound on request heads and the health check, against real uvicorn servers on
loopback ports, and each setting's refusal of a bad value."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVE = Path(__file__).resolve().parents[1] / "base-image" / "serve"
sys.path.insert(0, str(SERVE))

from wheelbase_serve import health, serve, settings  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


APP = '''
from fastapi import FastAPI
app = FastAPI()

@app.get("/healthz")
async def healthz():
    return {"status": "ok"}

@app.get("/only-with-token")
async def only_with_token(token: str):
    return {"token": token}
'''


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """`wheelbase-serve` as a service's container runs it, from a folder with app/main.py, on a free port."""
    folder = tmp_path_factory.mktemp("service")
    (folder / "app").mkdir()
    (folder / "app" / "__init__.py").write_text("")
    (folder / "app" / "main.py").write_text(APP)
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "PYTHONPATH": str(SERVE)}
    env.pop("UVICORN_ACCESS_LOG", None)
    process = subprocess.Popen([sys.executable, "-c", "from wheelbase_serve.serve import main; main()"], cwd=folder, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read() if process.stdout else ""
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=10)


def ask(port: int, head: bytes) -> bytes:
    """Sends a request head and returns the status line of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with contextlib.suppress(OSError):  # the server may answer and close before the whole head is sent
            sock.sendall(head)
        return sock.recv(64).split(b"\r\n")[0]


def test_a_normal_request_is_served(server: int) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n"
    assert ask(server, head) == b"HTTP/1.1 200 OK"


def test_a_head_past_the_bound_gets_431(server: int) -> None:
    """A header larger than the bound is refused, whether it arrives whole or in pieces."""
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (4 * 16384) + b"\r\n\r\n"
    assert ask(server, head) == b"HTTP/1.1 431 Request Header Fields Too Large"


def test_a_large_body_is_not_a_large_head(server: int) -> None:
    """Only the head is bounded: a body after it is the app's to judge."""
    head = b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + b"a" * 200000
    assert ask(server, head) == b"HTTP/1.1 405 Method Not Allowed"


def test_the_server_header_is_off(server: int) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{server}/healthz", timeout=5) as response:
        assert response.headers.get("server") is None


def test_health_asks_the_health_path_on_the_servers_port(server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", str(server))
    assert health.healthy()
    monkeypatch.setenv("HEALTH_PATH", "/only-with-token?token=x")
    assert health.healthy()
    monkeypatch.setenv("HEALTH_PATH", "/only-with-token")  # 422 without the query
    assert not health.healthy()


def test_health_ignores_a_proxy_set_for_the_app(server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", str(server))
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{free_port()}")
    assert health.healthy()


def test_health_reports_unhealthy_when_nothing_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", str(free_port()))
    with pytest.raises(SystemExit) as exited:
        health.main()
    assert exited.value.code == 1


def test_serve_starts_uvicorn_with_uvloop_the_bounded_protocol_and_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_MODULE", "HOST", "PORT", "UVICORN_ACCESS_LOG", "UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN"):
        monkeypatch.delenv(name, raising=False)
    args = serve.arguments([])
    assert args[:1] == ["app.main:app"]
    assert " ".join(args[1:]) == ("--host 0.0.0.0 --port 8000 --loop uvloop --http wheelbase_serve.protocol:BoundedHttpToolsProtocol "
                                  "--no-server-header --no-access-log --timeout-graceful-shutdown 5")
    monkeypatch.setenv("APP_MODULE", "orders.api:application")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("UVICORN_ACCESS_LOG", "true")
    args = serve.arguments(["--reload"])
    assert args[0] == "orders.api:application" and "9000" in args
    assert "--no-access-log" not in args, "uvicorn's own variable decides the access log when it is set"
    assert args[-1] == "--reload", "arguments given are passed on to uvicorn last"


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("PORT", "80a", "is not a port number from 1 to 65535"),
    ("PORT", "70000", "is not a port number from 1 to 65535"),
    ("MAX_REQUEST_HEADER_BYTES", "0", "is not a positive number of bytes"),
    ("HEALTH_PATH", "healthz", "must be a path starting with / and without white space"),
    ("HEALTH_PATH", "/a b", "must be a path starting with / and without white space"),
    ("APP_MODULE", "app.main", "must name the app as module:attribute, for example app.main:app"),
])
def test_a_bad_setting_is_refused_in_one_line(name: str, value: str, reason: str, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        settings.get(name)
    assert exited.value.code == 2
    assert capsys.readouterr().err == f"wheelbase-serve: error: {name}={value!r} {reason}\n"


def test_an_empty_setting_takes_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTH_PATH", "")
    assert settings.get("HEALTH_PATH") == "/healthz"


def test_a_head_arriving_in_pieces_is_bounded_too(server: int) -> None:
    """httptools buffers an incomplete head; the protocol counts what arrives and answers once past the bound."""
    with socket.create_connection(("127.0.0.1", server), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        for _ in range(40):
            try:
                sock.sendall(b"a" * 1024)
            except OSError:
                break  # answered and closed
        assert sock.recv(64).split(b"\r\n")[0] == b"HTTP/1.1 431 Request Header Fields Too Large"
