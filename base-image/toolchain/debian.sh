#!/bin/sh
# The Debian tools the wheelhouse build may need: `strip` (binutils) or `compile` (a C toolchain
# for packages that ship only sources). The build runs this only when it needs them.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
case "${1:-compile}" in
    strip) apt-get install -y -qq --no-install-recommends binutils >/dev/null ;;
    compile)
        apt-get install -y -qq --no-install-recommends gcc libc6-dev libffi-dev libuv1-dev make >/dev/null
        # Official python images carry their headers; a distribution python needs its -dev package.
        python -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
            || apt-get install -y -qq --no-install-recommends python3-dev >/dev/null ;;
    *) echo "usage: $0 strip|compile" >&2; exit 2 ;;
esac
