"""Proves an installed wheelhouse serves as services will: `wheelbase-serve` (uvicorn with uvloop
and the bounded httptools protocol) answers 200, and `wheelbase-health` says so.

Run as a script, it starts wheelbase-serve from this Python's environment on a free loopback port
with this module's app, asks it which event loop and HTTP protocol served the request, and exits
non-zero unless they are uvloop and the bounded httptools protocol and the health check passes.
Imported by uvicorn, it is that app.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def which_stack() -> dict[str, object]:
    loop = asyncio.get_running_loop()
    http = sorted(name for name in sys.modules if name.startswith("uvicorn.protocols.http.") and "_impl" in name)
    http += sorted(name for name in sys.modules if name.startswith("wheelbase_serve.protocol"))
    return {"loop": f"{type(loop).__module__}.{type(loop).__name__}", "http": http}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    port = free_port()
    here = Path(__file__).resolve()
    commands = Path(sys.executable).parent
    settings = {**os.environ, "APP_MODULE": f"{here.stem}:app", "HOST": "127.0.0.1", "PORT": str(port), "HEALTH_PATH": "/"}
    server = subprocess.Popen([str(commands / "wheelbase-serve")], cwd=here.parent, env=settings)
    try:
        deadline = time.monotonic() + 120  # generous: under QEMU, importing the stack takes tens of seconds
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    status, body = response.status, json.load(response)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    print("probe: uvicorn did not answer", file=sys.stderr)
                    return 1
                time.sleep(0.1)
        healthy = subprocess.run([str(commands / "wheelbase-health")], env=settings, check=False).returncode == 0
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"probe: HTTP {status} {body}, wheelbase-health {'passed' if healthy else 'failed'}")
    served = status == 200 and body["loop"].startswith("uvloop") and body["http"] == [
        "uvicorn.protocols.http.httptools_impl", "wheelbase_serve.protocol"]
    if not served or not healthy:
        print("probe: expected HTTP 200 served by uvloop and the bounded httptools protocol, and a passing health check",
              file=sys.stderr)
    return 0 if served and healthy else 1


if __name__ == "__main__":
    sys.exit(main())
