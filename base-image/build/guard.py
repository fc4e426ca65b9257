"""Build-time guards against a wheelhouse that does not fit, run in one Python start
(`step.py check`, and before every step that installs from the wheelhouse).

--image     the Python running this (the shared runtime, the service's own Python image, or the
            image the lock stage runs on) must have the wheelhouse's Python series, libc and
            machine; otherwise fail naming both sides. Standard library only: it is what a
            service without extras pays for, on every build.
--wheels    before installing from the wheelhouse: every wheel (and every tool's wheel) must have
            the sha256 its lock lists, else it was altered after it was built, and this Python
            must accept every wheel's tags.
--extras=V  the Dockerfile's EXTRAS must say whether the first FILE (requirements.txt) lists any
            package: with EXTRAS=false the extras step is skipped, so a listed package would
            silently be missing.
FILE        every requirement in FILE (a requirements.in or a lock) that names a wheelhouse package
            must admit the wheelhouse's version; otherwise fail naming the package and both versions.

Beyond the standard library it uses only the packaging that pip vendors, from the wheelhouse's
own pip wheel, and only when there is something to parse: the image running this may have no pip.

Every build of a service runs --image and --extras, so they start Python with nothing but os and
sys: the interpreter's facts come from interpreter.py, the wheelhouse's from the name of the file
it writes in /wheels/fits/ (wheelhouse.json is parsed only to explain a mismatch, or for a
wheelhouse without that folder), and an empty requirements.txt is read without a parser.
"""

import os
import sys

from interpreter import triple

# The wheelhouse this file ships in: /wheels/build/guard.py.
WHEELS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_FACTS = {}


def facts():
    """The wheelhouse's wheelhouse.json, loaded on first use."""
    if not _FACTS:
        import json  # pylint: disable=import-outside-toplevel

        with open(os.path.join(WHEELS, "wheelhouse.json"), encoding="utf-8") as file:
            _FACTS.update(json.load(file))
    return _FACTS


def fail(message):
    """Stops the build with one sentence."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def pip_vendored():
    """pip's vendored packaging, from the wheelhouse's pip wheel (imported only when needed)."""
    pip_wheel = os.path.join(WHEELS, facts()["tools"]["pip"])
    if pip_wheel not in sys.path:
        sys.path.insert(0, pip_wheel)
    # pylint: disable=import-outside-toplevel
    import pip._vendor.packaging.requirements
    import pip._vendor.packaging.tags
    import pip._vendor.packaging.utils
    return pip._vendor.packaging


def describe(series, libc, machine):
    return f"Python {series}, {libc}, {machine}"


def check_image():
    # /wheels/fits/<series>-<libc>-<machine>: the wheelhouse's own facts, written next to wheelhouse.json.
    if not os.path.exists(os.path.join(WHEELS, "fits", "-".join(triple()))):
        known = facts()
        wheelhouse = (known["python_series"], known["libc"], known["machine"])
        if triple() != wheelhouse:
            fail(f"this image ({describe(*triple())}) does not match the wheelhouse ({describe(*wheelhouse)}, built on "
                 f"{known['python_image']}, flavor {known['flavor']}); use the wheelhouse's runtime or a Python "
                 f"{known['python_series']} {known['libc']} image (for the lock: PYTHON_IMAGE={known['python_image']}), "
                 "or run `wheelbase pin`")
    print(f"this image matches the wheelhouse: {describe(*triple())}")


def read(path):
    with open(path, encoding="utf-8") as file:
        return file.read()


def wheel_files(folder):
    return sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".whl"))


def check_wheels():
    # pylint: disable=import-outside-toplevel
    import hashlib
    import re

    packaging = pip_vendored()
    locks = [os.path.join(WHEELS, "requirements.txt"), os.path.join(WHEELS, facts()["tools"]["lock"])]
    locked = {digest for lock in locks for digest in re.findall(r"--hash=sha256:([0-9a-f]{64})", read(lock))}
    wheels = wheel_files(WHEELS)
    for wheel in [*wheels, *wheel_files(os.path.join(WHEELS, "tools"))]:
        with open(wheel, "rb") as file:
            digest = hashlib.sha256(file.read()).hexdigest()
        if digest not in locked:
            fail(f"{os.path.basename(wheel)} in the wheelhouse does not match the hashes in its lock (sha256 {digest[:16]}...): "
                 "the wheelhouse was altered after it was built; pin a digest published by `docker buildx bake release --push`")
    supported = set(packaging.tags.sys_tags())
    for wheel in wheels:
        if not supported & set(packaging.utils.parse_wheel_filename(os.path.basename(wheel))[3]):
            fail(f"this image ({describe(*triple())}) cannot install {os.path.basename(wheel)} from the wheelhouse")


def requirement_lines(path):
    """The requirement lines of a requirements file, without comments, options and hash lines."""
    for raw in read(path).splitlines():
        line = raw.split(" #")[0].strip().rstrip("\\").strip()
        if line and not line.startswith(("#", "-")):
            yield line


def check_extras(path, extras):
    listed = list(requirement_lines(path))
    if listed and extras != "true":
        import re  # pylint: disable=import-outside-toplevel

        names = ", ".join(re.split(r"[=<>!~ ;\[]", line, maxsplit=1)[0] for line in listed[:5])
        fail(f"{os.path.basename(path)} lists extras ({names}) but the Dockerfile has EXTRAS={extras}, which skips installing "
             "them; set `ARG EXTRAS=true` in the Dockerfile (`wheelbase lock` keeps it right)")


def check_conflicts(path):
    lines = list(requirement_lines(path))
    if not lines:
        print(f"{os.path.basename(path)}: nothing listed")
        return
    requirements = pip_vendored().requirements
    canonical = pip_vendored().utils.canonicalize_name
    shared = {}
    for line in requirement_lines(os.path.join(WHEELS, "constraints.txt")):
        pinned = requirements.Requirement(line)
        shared[canonical(pinned.name)] = next(iter(pinned.specifier)).version
    clashes = []
    for line in lines:
        wanted = requirements.Requirement(line)
        name = canonical(wanted.name)
        if name in shared and not wanted.specifier.contains(shared[name], prereleases=True):
            clashes.append(f"{name} (wheelhouse {shared[name]}, {os.path.basename(path)} {wanted.specifier})")
    if clashes:
        fail(f"{os.path.basename(path)} conflicts with the wheelhouse's pins: {', '.join(clashes)}; "
             "change it to accept the wheelhouse's version, then run `docker buildx bake lock`")
    print(f"{os.path.basename(path)}: no conflict with the wheelhouse's {len(shared)} pins")


def main(args):
    options = [a for a in args if a.startswith("--")]
    files = [a for a in args if not a.startswith("--")]
    known = {"--image", "--wheels"}
    extras = [o.split("=", 1)[1] for o in options if o.startswith("--extras=")]
    if not args or any(o not in known and not o.startswith("--extras=") for o in options):
        fail("usage: step.py check [--image] [--wheels] [--extras=true|false] [REQUIREMENTS...]")
    if "--image" in options:
        check_image()
    if "--wheels" in options:
        check_wheels()
    if extras and files:
        check_extras(files[0], extras[0])
    for path in files:
        check_conflicts(path)
