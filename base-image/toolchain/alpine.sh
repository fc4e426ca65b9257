#!/bin/sh
# The Alpine tools the wheelhouse build may need: `strip` (binutils) or `compile` (a C toolchain
# for packages that ship only sources), each as a virtual group. Run only when needed.
set -eu
case "${1:-compile}" in
    strip) apk add --no-cache --virtual .wheelhouse-strip binutils ;;
    compile) apk add --no-cache --virtual .wheelhouse-build-deps \
        gcc musl-dev linux-headers libffi-dev libuv-dev make python3-dev ;;
    *) echo "usage: $0 strip|compile" >&2; exit 2 ;;
esac
