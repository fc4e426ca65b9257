#!/bin/sh
# Alpine's distribution-specific steps. `strip` (binutils) and `compile` (a C toolchain for
# packages that ship only sources) are virtual groups installed only when the build needs them;
# `trim` removes apk from the runtime image, keeping its database for vulnerability scanners.
set -eu
case "${1:-compile}" in
    trim) rm -rf /sbin/apk /usr/bin/apk /etc/apk /var/cache/apk /usr/share/apk ;;
    strip) apk add --no-cache --virtual .wheelhouse-strip binutils ;;
    strip-*) apk add --no-cache --virtual .wheelhouse-strip "binutils-${1#strip-}" ;;
    compile) apk add --no-cache --virtual .wheelhouse-build-deps \
        gcc musl-dev linux-headers libffi-dev libuv-dev make python3-dev ;;
    *) echo "usage: $0 strip|strip-MACHINE|compile|trim" >&2; exit 2 ;;
esac
