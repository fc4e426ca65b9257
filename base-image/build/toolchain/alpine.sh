#!/bin/sh
# Alpine's distribution-specific steps (apk). apk cannot run where this project's CI runs, so every
# package and binary name below is checked against Alpine's package recipes (aports) by
# tests/test_toolchain.py, which runs this script with TOOLCHAIN_DRY_RUN=1 (print, do not install).
#   strip [MACHINE]     binutils for MACHINE's binaries (a cross one when it is not this machine's);
#                       prints the strip command to use
#   compile [PACKAGE]   a C toolchain, plus the system packages a build needs (Alpine's names)
#   trim                apk out of an image, its database entries included (pkgdb.py): the
#                       database stays, for vulnerability scanners, listing only what is there
# apk keeps its index and packages in /etc/apk/cache, a BuildKit cache mount in the Dockerfile; every
# add refreshes the index (--update-cache), as the Debian steps run apt-get update: a cached index
# can name a package revision Alpine has already replaced and deleted.
set -eu
run() { if [ -n "${TOOLCHAIN_DRY_RUN:-}" ]; then echo "$*" >&2; else echo "+ $*" >&2; "$@"; fi; }
here=$(uname -m)
case "${1:-}" in
    strip)
        machine=${2:-$here}
        if [ "$machine" = "$here" ]; then
            run apk add --update-cache --virtual .wheelhouse-strip binutils >&2; tool=strip
        else  # aports main/binutils, subpackage binutils-$arch (_cross_target); abuild's arch_to_triplet
            run apk add --update-cache --virtual .wheelhouse-strip "binutils-$machine" >&2; tool="$machine-alpine-linux-musl-strip"
        fi
        if [ -z "${TOOLCHAIN_DRY_RUN:-}" ] && ! command -v "$tool" >/dev/null; then
            echo "error: binutils for $machine did not install $tool" >&2; exit 1
        fi
        echo "$tool" ;;
    compile)
        shift
        # Official python images carry Python.h; python3-dev would add Alpine's own Python beside it.
        headers=$(python -c 'import os, sysconfig; print(os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))')
        [ "$headers" = True ] || set -- python3-dev "$@"
        run apk add --update-cache --virtual .wheelhouse-compile gcc musl-dev linux-headers make "$@" >&2 ;;
    trim)
        # aports main/apk-tools (apk-tools, and libapk from apk-tools 3) and main/alpine-keys, as the
        # database lists their files; then what no package owns (world, repositories, caches). Any
        # other package left with a file missing is taken out of the database, and named.
        run python "$(dirname "$0")/pkgdb.py" remove apk-tools 'libapk?' alpine-keys
        run rm -rf /etc/apk /var/cache/apk /lib/apk/exec
        run python "$(dirname "$0")/pkgdb.py" prune ;;
    *) echo "usage: $0 strip [MACHINE] | compile [PACKAGE...] | trim" >&2; exit 2 ;;
esac
