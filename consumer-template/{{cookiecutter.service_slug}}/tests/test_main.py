"""Tests of the HTTP API."""

from fastapi.testclient import TestClient

from app.main import app

client = TestClient(app)


def test_root_says_fastapi_is_working() -> None:
    """GET / answers with the greeting."""
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == "FastAPI Working"


def test_healthz_is_ok() -> None:
    """GET /healthz answers 200 for the probes."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_path_is_404() -> None:
    """Anything else is not found."""
    assert client.get("/nope").status_code == 404
