#!/bin/sh
# The service's locks, each from its current lock: pip-tools then keeps its pins and reuses their
# hashes, and changes only what the .in file asks for; UPGRADE=true starts from nothing, so every
# pin is resolved anew. The build backends' lock comes first and is installed: the other two build
# an sdist's metadata against it (no build isolation), at once, sharing pip's cache. Prints a line
# per file: its pins and the seconds it took.
# Usage: lock.sh OUT_DIR   (run in the service folder, with /wheels mounted)
set -eu
out=$1

compile() {
    name=$1
    shift
    started=$(date +%s)
    if [ "${UPGRADE:-false}" != true ] && [ -f "$name.txt" ]; then cp "$name.txt" "$out/$name.txt"; fi
    echo "lock: $name.txt: resolving $(grep -cE '^[A-Za-z0-9]' "$name.in" || true) direct requirements"
    CUSTOM_COMPILE_COMMAND="docker buildx bake lock" /opt/lock-tools/bin/pip-compile --quiet "$@" \
        --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --output-file "$out/$name.txt" "$name.in"
    echo "lock: $name.txt: $(grep -cE '^[A-Za-z0-9]' "$out/$name.txt") pins in $(( $(date +%s) - started )) s"
}

compile requirements-build
/opt/lock-tools/bin/pip install --disable-pip-version-check --quiet --no-deps --require-hashes -r "$out/requirements-build.txt"
pids=""
for name in requirements requirements-test; do
    compile "$name" --no-build-isolation --constraint /wheels/constraints.txt &
    pids="$pids $!"
done
failed=0
for pid in $pids; do wait "$pid" || failed=1; done
exit "$failed"
