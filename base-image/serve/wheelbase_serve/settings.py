"""The serving settings: environment variables with defaults, read in one place.

APP_MODULE                 app.main:app   the ASGI app a service serves, as module:attribute
HOST                       0.0.0.0        the address uvicorn binds
PORT                       8000           its port (the HEALTHCHECK asks there too)
HEALTH_PATH                /healthz       what the HEALTHCHECK asks for; a query is allowed (/?token=x)
MAX_REQUEST_HEADER_BYTES   16384          a request head past this gets 431 (as h11 and Node.js bound it)

uvicorn's own UVICORN_* variables work as well (UVICORN_ACCESS_LOG=true, UVICORN_WORKERS=2, ...).
"""

from __future__ import annotations

import os
import sys

DEFAULTS = {
    "APP_MODULE": "app.main:app",
    "HOST": "0.0.0.0",  # nosec B104: a container's server listens on every address of its own network namespace
    "PORT": "8000",
    "HEALTH_PATH": "/healthz",
    "MAX_REQUEST_HEADER_BYTES": "16384",
}


def _refuse(name: str, value: str, rule: str) -> None:
    print(f"wheelbase-serve: error: {name}={value!r} {rule}", file=sys.stderr)
    raise SystemExit(2)


def get(name: str) -> str:
    """The setting's value: its variable when set and not empty, else the default; checked."""
    value = os.environ.get(name) or DEFAULTS[name]
    if name == "PORT" and not (value.isdigit() and 0 < int(value) < 65536):
        _refuse(name, value, "is not a port number from 1 to 65535")
    if name == "MAX_REQUEST_HEADER_BYTES" and not (value.isdigit() and int(value) > 0):
        _refuse(name, value, "is not a positive number of bytes")
    if name == "HEALTH_PATH" and (not value.startswith("/") or any(c.isspace() for c in value)):
        _refuse(name, value, "must be a path starting with / and without white space")
    if name == "APP_MODULE" and value.count(":") != 1:
        _refuse(name, value, "must name the app as module:attribute, for example app.main:app")
    return value
