"""Tests of the HEALTHCHECK command against a server that is not there."""

import socket

from app import healthcheck


def test_reports_unhealthy_when_nothing_listens(monkeypatch) -> None:
    """With no server on the port, the check exits 1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free_port = sock.getsockname()[1]
    monkeypatch.setenv("PORT", str(free_port))
    assert healthcheck.main() == 1
