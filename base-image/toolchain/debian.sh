#!/bin/sh
# The Debian C toolchain for packages that ship only sources.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends gcc libc6-dev libffi-dev libuv1-dev make >/dev/null
# Official python images carry their headers; a distribution python needs its -dev package.
python -c 'import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || apt-get install -y -qq --no-install-recommends python3-dev >/dev/null
