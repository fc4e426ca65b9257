#!/bin/sh
# Debian's distribution-specific steps (apt). Run with TOOLCHAIN_DRY_RUN=1 it prints instead of
# installing (tests/test_toolchain.py). On a musl CPython (the debian-musl flavor: musl on a
# Debian userland) it compiles with musl-gcc, which the interpreter's own triplet names.
#   strip [MACHINE]     binutils for MACHINE's binaries (a cross one when it is not this machine's);
#                       prints the strip command to use
#   compile [PACKAGE]   a C toolchain, plus the system packages a build needs (Debian's names)
#   trim                apt and dpkg out of an image, their database entries included (pkgdb.py):
#                       the database stays, for vulnerability scanners, listing only what is there
set -eu
export DEBIAN_FRONTEND=noninteractive
run() { if [ -n "${TOOLCHAIN_DRY_RUN:-}" ]; then echo "$*" >&2; else echo "+ $*" >&2; "$@" >&2; fi; }
install() {
    run apt-get update -qq -o Acquire::Languages=none
    run apt-get install -y -qq --no-install-recommends "$@"
}
here=$(uname -m)
case "${1:-}" in
    strip)
        machine=${2:-$here}
        if [ "$machine" = "$here" ]; then
            install binutils; tool=strip
        else  # binutils-aarch64-linux-gnu, binutils-x86-64-linux-gnu
            install "binutils-$(echo "$machine" | tr _ -)-linux-gnu"; tool="$machine-linux-gnu-strip"
        fi
        if [ -z "${TOOLCHAIN_DRY_RUN:-}" ] && ! command -v "$tool" >/dev/null; then
            echo "error: binutils for $machine did not install $tool" >&2; exit 1
        fi
        echo "$tool" ;;
    compile)
        shift
        # The interpreter the wheels are for says whether it has Python.h, and which libc it is on
        # (interpreter.py: the rule the wheelhouse and every service's guard name it by).
        headers=$(python -c 'import os, sysconfig; print(os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))')
        libc=$(python "$(dirname "$0")/../interpreter.py" | cut -d' ' -f2)
        if [ "$libc" = musl ]; then
            set -- gcc musl-dev musl-tools make "$@"
        else
            # Official python images carry Python.h; a distribution Python needs its -dev package.
            [ "$headers" = True ] || set -- python3-dev "$@"
            set -- gcc libc6-dev make "$@"
        fi
        install "$@" ;;
    trim)
        # apt's and dpkg's files as their lists in dpkg's database say, then apt's state and caches
        # (no package owns them). Any other package left with a file missing (pip's, where the
        # Python image has it from Debian) is taken out of the database, and named.
        run python "$(dirname "$0")/pkgdb.py" remove apt dpkg
        run rm -rf /var/cache/apt /var/lib/apt
        run python "$(dirname "$0")/pkgdb.py" prune ;;
    *) echo "usage: $0 strip [MACHINE] | compile [PACKAGE...] | trim" >&2; exit 2 ;;
esac
