#!/bin/sh
# The Alpine C toolchain for packages that ship only sources, as one removable virtual group.
set -eu
apk add --no-cache --virtual .wheelhouse-build-deps \
    gcc musl-dev linux-headers libffi-dev libuv-dev make python3-dev
