#!/bin/sh
# Compiles hash-locked requirements with pip-tools, each from its current lock: pip-tools then
# keeps its pins and reuses their hashes, and changes only what the .in file asks for;
# UPGRADE=true starts from nothing, so every pin is resolved anew. The build backends' lock comes
# first and is installed: the others build an sdist's metadata against it (no build isolation),
# at once, sharing pip's cache, constrained to $CONSTRAINTS when set. Prints a line per file: its
# pins and the seconds it took; a failed sdist build is explained in one line (wheels.py explain),
# with the backend's own output, which pip_compile.py prints where pip-tools drops it.
# Shipped in the wheelhouse as /wheels/build/lock.sh: a service's lock runs it from there (step.py lock).
# Usage: lock.sh OUT_DIR BACKENDS NAME...   (in the folder with the .in files and build-packages.txt)
set -eu
out=$1 backends=$2
shift 2
here=$(dirname "$0")

compile() {
    name=$1
    shift
    started=$(date +%s)
    if [ "${UPGRADE:-false}" != true ] && [ -f "$name.txt" ]; then cp "$name.txt" "$out/$name.txt"; fi
    echo "lock: $name.txt: resolving $(grep -cE '^[A-Za-z0-9]' "$name.in" || true) direct requirements"
    if ! CUSTOM_COMPILE_COMMAND="docker buildx bake lock" /opt/lock-tools/bin/python "$here/pip_compile.py" --quiet "$@" \
        --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --output-file "$out/$name.txt" "$name.in" \
        >"$out/.$name.log" 2>&1; then
        cat "$out/.$name.log"
        # A build that failed (an sdist's metadata or wheel): one sentence naming what it lacked and where to add it.
        if grep -qE "Failed to build|did not run successfully|MetadataGenerationFailed|metadata-generation-failed" "$out/.$name.log"; then
            /opt/lock-tools/bin/python "$here/wheels.py" explain build-packages.txt "$backends.in" <"$out/.$name.log"
        fi
        return 1
    fi
    rm -f "$out/.$name.log"
    echo "lock: $name.txt: $(grep -cE '^[A-Za-z0-9]' "$out/$name.txt") pins in $(( $(date +%s) - started )) s"
}

compile "$backends"
/opt/lock-tools/bin/pip install --disable-pip-version-check --quiet --no-deps --require-hashes -r "$out/$backends.txt"
pids=""
for name in "$@"; do
    compile "$name" --no-build-isolation ${CONSTRAINTS:+--constraint "$CONSTRAINTS"} &
    pids="$pids $!"
done
failed=0
for pid in $pids; do wait "$pid" || failed=1; done
exit "$failed"
