#!/bin/sh
# Debian's distribution-specific steps. `strip` (binutils) and `compile` (a C toolchain for
# packages that ship only sources) are installed only when the build needs them; `trim` removes
# the package manager from the runtime image, keeping its database for vulnerability scanners.
set -eu
export DEBIAN_FRONTEND=noninteractive
if [ "${1:-}" = trim ]; then
    rm -rf /usr/bin/apt* /usr/bin/dpkg* /usr/lib/apt /usr/lib/dpkg /var/cache/apt /var/lib/apt /etc/apt
    exit 0
fi
apt-get update -qq -o Acquire::Languages=none
case "${1:-compile}" in
    strip) apt-get install -y -qq --no-install-recommends binutils >/dev/null ;;
    strip-*) apt-get install -y -qq --no-install-recommends "binutils-$(echo "${1#strip-}" | tr _ -)-linux-gnu" >/dev/null ;;
    compile)
        apt-get install -y -qq --no-install-recommends gcc libc6-dev libffi-dev libuv1-dev make >/dev/null
        # Official python images carry their headers; a distribution python needs its -dev package.
        python -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
            || apt-get install -y -qq --no-install-recommends python3-dev >/dev/null ;;
    *) echo "usage: $0 strip|strip-MACHINE|compile|trim" >&2; exit 2 ;;
esac
