"""This interpreter as a wheelhouse names it: its Python series, libc and machine.

The one rule for both sides: the wheelhouse's build writes these (wheelhouse.json, and the file
name /wheels/fits/<series>-<libc>-<machine>), and a service's guard reads its own image with them.
The libc comes from the interpreter's own triplet (sys.implementation._multiarch, the value
sysconfig calls MULTIARCH), so a musl CPython on a Debian userland is musl. Only os and sys: the
guard runs on every service build. As a script it prints the three words (the base image's
builder stage checks its Python image with them).
"""

import os
import sys


def triple():
    """(series, libc, machine), for example ("3.13", "glibc", "x86_64")."""
    libc = "musl" if getattr(sys.implementation, "_multiarch", "").endswith("musl") else "glibc"
    return "{}.{}".format(*sys.version_info[:2]), libc, os.uname().machine


if __name__ == "__main__":
    print(*triple())
