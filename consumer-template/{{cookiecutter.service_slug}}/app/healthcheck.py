"""The container HEALTHCHECK: exits 0 when /healthz answers 200 on the port the server uses."""

import os
import sys
import urllib.request


def main() -> int:
    """Probe the local server once and report healthy or not through the exit code."""
    url = f"http://127.0.0.1:{os.environ.get('PORT', '{{ cookiecutter.port }}')}/healthz"
    # Straight to loopback: an HTTP_PROXY meant for the app's outbound calls must not catch it.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        # A fixed http:// URL on loopback: bandit's worry about other URL schemes does not apply.
        with opener.open(url, timeout=2) as response:  # nosec B310
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
