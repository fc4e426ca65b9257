"""`wheelbase-serve`: a service's start command. uvicorn with uvloop and the bounded httptools
protocol, the app, address and port from the settings (settings.py); arguments given are passed
to uvicorn after these (`wheelbase-serve --reload --reload-dir app` in development).

uvicorn's own variables win over two defaults chosen here: no access log line per request (it
costs about a third of the throughput; UVICORN_ACCESS_LOG=true turns it on) and five seconds for
in-flight requests after SIGTERM. uvicorn runs in this process, so it is PID 1 in a container
started with this command and gets SIGTERM itself.
"""

from __future__ import annotations

import os
import sys

from . import settings

PROTOCOL = "wheelbase_serve.protocol:BoundedHttpToolsProtocol"


def arguments(extra: list[str]) -> list[str]:
    args = [settings.get("APP_MODULE"), "--host", settings.get("HOST"), "--port", settings.get("PORT"),
            "--loop", "uvloop", "--http", PROTOCOL, "--no-server-header"]
    if "UVICORN_ACCESS_LOG" not in os.environ:
        args.append("--no-access-log")
    if "UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN" not in os.environ:
        args += ["--timeout-graceful-shutdown", "5"]
    settings.get("MAX_REQUEST_HEADER_BYTES")  # checked before the server starts, not on the first request
    return [*args, *extra]


def main() -> None:
    from uvicorn.main import main as uvicorn

    uvicorn.main(args=arguments(sys.argv[1:]), prog_name="wheelbase-serve")
