"""How a service on a wheelbase runtime is served: `wheelbase-serve` starts it (serve.py), the
request head is bounded (protocol.py), and `wheelbase-health` is its HEALTHCHECK (health.py).
Every setting is an environment variable with a default (settings.py); none is code in the service."""
