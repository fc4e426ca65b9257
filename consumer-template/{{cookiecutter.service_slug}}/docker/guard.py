"""Build-time guards against a wheelhouse that does not fit; one Python start for all of them.

guard.py [--image] [FILE...]

--image   every wheel in the wheelhouse (and its pip wheel) must have the sha256 its lock lists
          (else it was altered after it was built), and the Python running this (the shared
          runtime, the service's own Python image, or the image the lock stage runs on) must match
          the wheelhouse's Python series, libc and machine and accept every wheel's tags;
          otherwise fail naming both sides.
FILE      every requirement in FILE (a requirements.in or a lock) that names a wheelhouse package
          must admit the wheelhouse's version; otherwise fail naming the package and both versions.

Standard library only, plus the packaging that pip vendors, taken from the wheelhouse's own pip
wheel: the image running this may have no pip.
"""

import hashlib
import json
import platform
import re
import sys
import sysconfig
from pathlib import Path

WHEELS = Path("/wheels")
FACTS = json.loads((WHEELS / "wheelhouse.json").read_text())
if "pip" not in FACTS:
    print("error: the pinned wheelhouse predates this template (it ships no pip wheel); run `wheelbase pin` "
          "to move to a current release", file=sys.stderr)
    sys.exit(1)
sys.path.insert(0, str(WHEELS / FACTS["pip"]["wheel"]))

# pylint: disable=wrong-import-position
from pip._vendor.packaging import tags  # noqa: E402  (pip's own view of what this interpreter installs)
from pip._vendor.packaging.requirements import Requirement  # noqa: E402
from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename  # noqa: E402


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_hashes():
    locked = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", (WHEELS / "requirements.txt").read_text()))
    locked.add(FACTS["pip"]["sha256"])
    for wheel in sorted([*WHEELS.glob("*.whl"), WHEELS / FACTS["pip"]["wheel"]]):
        digest = sha256(wheel)
        if digest not in locked:
            fail(f"{wheel.name} in the wheelhouse does not match the hashes in its lock (sha256 {digest[:16]}...): "
                 "the wheelhouse was altered after it was built; pin a digest published by `docker buildx bake release --push`")


def check_image():
    check_hashes()
    here_series = "{}.{}".format(*sys.version_info[:2])
    here_libc = "musl" if (sysconfig.get_config_var("MULTIARCH") or "").endswith("musl") else "glibc"
    here = f"Python {here_series}, {here_libc}, {platform.machine()}"
    there = (f"Python {FACTS['python_series']}, {FACTS['libc']}, {FACTS['machine']} "
             f"(built on {FACTS['python_image']}, flavor {FACTS['flavor']})")
    if (here_series, here_libc, platform.machine()) != (FACTS["python_series"], FACTS["libc"], FACTS["machine"]):
        fail(f"this image ({here}) does not match the wheelhouse ({there}); use the wheelhouse's runtime or a "
             f"Python {FACTS['python_series']} {FACTS['libc']} image (for the lock: PYTHON_IMAGE={FACTS['python_image']}), "
             "or run `wheelbase pin`")
    supported = set(tags.sys_tags())
    for wheel in sorted(WHEELS.glob("*.whl")):
        if not supported & set(parse_wheel_filename(wheel.name)[3]):
            fail(f"this image ({here}) cannot install {wheel.name} from the wheelhouse ({there})")
    print(f"this image matches the wheelhouse: {here}")


def requirements(text):
    """The requirements in a requirements file, skipping comments, options and hash lines."""
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip().rstrip("\\").strip()
        if line and not line.startswith(("#", "-")):
            yield Requirement(line)


def check_conflicts(path):
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


def main(args):
    if not args:
        fail("usage: guard.py [--image] [REQUIREMENTS...]")
    if args[0] == "--image":
        check_image()
        args = args[1:]
    for path in args:
        check_conflicts(path)


if __name__ == "__main__":
    main(sys.argv[1:])
