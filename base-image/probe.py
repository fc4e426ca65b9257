"""Proves an installed wheelhouse serves: uvicorn with --loop uvloop --http httptools answers 200.

Run as a script, it starts uvicorn on a free loopback port with this module's app, asks it which
event loop and HTTP protocol served the request, and exits non-zero unless they are uvloop and
httptools. Imported by uvicorn, it is that app.
"""

from __future__ import annotations

import asyncio
import json
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
    return {"loop": f"{type(loop).__module__}.{type(loop).__name__}", "http": http}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    port = free_port()
    here = Path(__file__).resolve()
    server = subprocess.Popen([
        sys.executable, "-m", "uvicorn", f"{here.stem}:app", "--app-dir", str(here.parent),
        "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
    ])
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
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"probe: HTTP {status} {body}")
    served = status == 200 and body["loop"].startswith("uvloop") and body["http"] == ["uvicorn.protocols.http.httptools_impl"]
    if not served:
        print("probe: expected HTTP 200 served by uvloop and httptools", file=sys.stderr)
    return 0 if served else 1


if __name__ == "__main__":
    sys.exit(main())
