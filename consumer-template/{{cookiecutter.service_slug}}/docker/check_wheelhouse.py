"""Build-time guards against a wheelhouse that does not fit (standard library and pip only).

runtime:       every wheel in the wheelhouse must have a sha256 its lock lists (else it was
               altered after it was built); the Python running this (the build image or the
               shared runtime) must match the wheelhouse's Python series, libc and machine, and
               accept every wheel's tags; otherwise fail naming both sides.
conflicts F:   every requirement in F (a requirements.in or a lock) that names a wheelhouse
               package must admit the wheelhouse's version; otherwise fail naming the
               package and both versions.
"""

import hashlib
import json
import platform
import re
import sys
from pathlib import Path

from pip._vendor.packaging import tags  # pip's own view of what this interpreter installs
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename

WHEELS = Path("/wheels")


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def verify_hashes():
    locked = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", (WHEELS / "requirements.txt").read_text()))
    for wheel in sorted(WHEELS.glob("*.whl")):
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest not in locked:
            fail(f"{wheel.name} in the wheelhouse does not match the hashes in its lock (sha256 {digest[:16]}...): "
                 "the wheelhouse was altered after it was built; pin a digest published by `docker buildx bake release --push`")


def runtime(facts):
    verify_hashes()
    here_series = "{}.{}".format(*sys.version_info[:2])
    supported = set(tags.sys_tags())
    here_tag = next(iter(supported))
    here_libc = "musl" if here_tag.platform.startswith("musllinux") else "glibc"
    here = f"Python {here_series}, {here_libc}, {platform.machine()}"
    there = (f"Python {facts['python_series']}, {facts['libc']}, {facts['machine']} "
             f"(built on {facts['python_image']}, flavor {facts['flavor']})")
    if (here_series, here_libc, platform.machine()) != (facts["python_series"], facts["libc"], facts["machine"]):
        fail(f"this image ({here}) does not match the wheelhouse ({there}); "
             f"set PYTHON_IMAGE to {facts['python_image']} and RUNTIME_IMAGE to the wheelhouse's runtime, "
             "or run `wheelbase pin`")
    for wheel in sorted(WHEELS.glob("*.whl")):
        if not supported & set(parse_wheel_filename(wheel.name)[3]):
            fail(f"this image ({here}) cannot install {wheel.name} from the wheelhouse ({there})")
    print(f"runtime matches the wheelhouse: {here}")


def requirements(text):
    """The requirements in a requirements file, skipping comments, options and hash lines."""
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip().rstrip("\\").strip()
        if line and not line.startswith(("#", "-")):
            yield Requirement(line)


def conflicts(path):
    shared = {canonicalize_name(r.name): next(iter(r.specifier)).version
              for r in requirements((WHEELS / "constraints.txt").read_text())}
    clashes = []
    for wanted in requirements(Path(path).read_text()):
        name = canonicalize_name(wanted.name)
        if name in shared and not wanted.specifier.contains(shared[name], prereleases=True):
            clashes.append(f"{name} (wheelhouse {shared[name]}, {Path(path).name} {wanted.specifier})")
    if clashes:
        fail(f"{Path(path).name} conflicts with the wheelhouse's pins: {', '.join(clashes)}; "
             "change it to accept the wheelhouse's version, then run `docker buildx bake lock`")
    print(f"{Path(path).name}: no conflict with the wheelhouse's {len(shared)} pins")


def main():
    facts = json.loads((WHEELS / "wheelhouse.json").read_text())
    if sys.argv[1:2] == ["runtime"]:
        runtime(facts)
    elif sys.argv[1:2] == ["conflicts"] and len(sys.argv) == 3:
        conflicts(sys.argv[2])
    else:
        fail("usage: check_wheelhouse.py runtime | conflicts REQUIREMENTS")


if __name__ == "__main__":
    main()
