"""The bound on request heads, against a real uvicorn server with httptools on a loopback port."""

import socket
import threading
import time

import pytest
import uvicorn

from app.http_limits import MAX_REQUEST_HEADER_BYTES, BoundedHttpToolsProtocol
from app.main import app


@pytest.fixture(scope="module")
def port():
    """A uvicorn server on a free loopback port, serving with the bounded httptools protocol."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=free, http=BoundedHttpToolsProtocol,
                            log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield free
    server.should_exit = True
    thread.join(timeout=5)


def ask(port, head):
    """Sends a request head and returns the status line of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            sock.sendall(head)
        except OSError:
            pass  # the server may answer and close before the whole head is sent
        return sock.recv(64).split(b"\r\n")[0]


def test_a_normal_request_is_served(port) -> None:
    """A head well within the bound gets its answer."""
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8000 + b"\r\n\r\n"
    assert ask(port, head) == b"HTTP/1.1 200 OK"


def test_a_head_past_the_bound_gets_431(port) -> None:
    """A header larger than the bound is refused, whether it arrives whole or in pieces."""
    big = b"a" * (4 * MAX_REQUEST_HEADER_BYTES)
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + big + b"\r\n\r\n"
    assert ask(port, head) == b"HTTP/1.1 431 Request Header Fields Too Large"


def test_a_large_body_is_not_a_large_head(port) -> None:
    """Only the head is bounded: a body after it is the app's to judge."""
    head = b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + b"a" * 200000
    assert ask(port, head) == b"HTTP/1.1 405 Method Not Allowed"
