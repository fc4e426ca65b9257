"""The HTTP API of {{ cookiecutter.service_name }}."""

from fastapi import FastAPI

app = FastAPI(title="{{ cookiecutter.service_name }}")


@app.get("/")
async def root() -> str:
    """A greeting that shows the service is up."""
    return "FastAPI Working"


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness probe for the container's HEALTHCHECK and the orchestrator."""
    return {"status": "ok"}
