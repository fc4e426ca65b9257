"""Refuses a bad service name before cookiecutter writes anything (same rule as `wheelbase new`)."""

import re
import sys

NAME = re.compile(r"^[A-Za-z][A-Za-z0-9 ._-]{0,62}\Z")
SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")
RESERVED = {
    "app", "tests", "test", "wheelhouse", "wheelbase", "python", "docker", "base", "runtime",
    "deploy", "venv", "lock", "image", "fastapi", "uvicorn", "con", "nul", "aux", "prn",
}
PORT = re.compile(r"^[1-9][0-9]{0,4}\Z")

name = {{ cookiecutter.service_name | tojson }}
slug = {{ cookiecutter.service_slug | tojson }}
port = {{ cookiecutter.port | tojson }}

problem = None
if not NAME.match(name):
    problem = (f"service name {name!r} is not allowed: start with a letter and use only letters, digits, "
               "spaces, '.', '_' or '-' (at most 63 characters)")
elif not SLUG.match(slug) or len(slug) < 2:
    problem = f"service slug {slug!r} must be lowercase letters, digits and single hyphens, starting with a letter"
elif slug in RESERVED:
    problem = f"service slug {slug!r} is reserved; choose another name"
elif not PORT.match(port) or int(port) > 65535:
    problem = f"port {port!r} must be a number from 1 to 65535"

if problem:
    print(f"error: {problem}", file=sys.stderr)
    sys.exit(1)
