#!/bin/sh
# Compiles both locks at once (they share pip's cache), each from its current lock: pip-tools then
# keeps its pins and reuses its hashes, and changes only what the .in file asks for. UPGRADE=true
# starts from nothing, so every pin is resolved anew. Prints a line per file: pins and seconds.
# Usage: lock.sh OUT_DIR   (run in the service folder, with /wheels mounted)
set -eu
out=$1
pids=""
for name in requirements requirements-test; do
    (
        started=$(date +%s)
        if [ "${UPGRADE:-false}" != true ] && [ -f "$name.txt" ]; then cp "$name.txt" "$out/$name.txt"; fi
        echo "lock: $name.txt: resolving $(grep -cE '^[A-Za-z0-9]' "$name.in" || true) direct requirements"
        CUSTOM_COMPILE_COMMAND="docker buildx bake lock" /opt/lock-tools/bin/pip-compile --quiet \
            --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
            --constraint /wheels/constraints.txt --output-file "$out/$name.txt" "$name.in"
        echo "lock: $name.txt: $(grep -cE '^[A-Za-z0-9]' "$out/$name.txt") pins in $(( $(date +%s) - started )) s"
    ) &
    pids="$pids $!"
done
failed=0
for pid in $pids; do wait "$pid" || failed=1; done
exit "$failed"
