"""`wheelbase-health`: the HEALTHCHECK. Exits 0 when HEALTH_PATH answers 200 on the port the server
uses (settings.py), else 1. It asks loopback directly: an HTTP_PROXY set for the app's own calls
must not catch it."""

from __future__ import annotations

import sys
import urllib.request

from . import settings


def healthy() -> bool:
    url = f"http://127.0.0.1:{settings.get('PORT')}{settings.get('HEALTH_PATH')}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        # A fixed http:// URL on loopback: bandit's worry about other URL schemes does not apply.
        with opener.open(url, timeout=2) as response:  # nosec B310
            return bool(response.status == 200)
    except OSError:
        return False


def main() -> None:
    sys.exit(0 if healthy() else 1)
