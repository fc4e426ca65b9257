"""pip-compile, naming the package whose build failed.

When building an sdist's metadata fails, pip prints the build backend's output (the reason, for
example `Error: pg_config executable not found.`), but pip-tools then ends the run with pip's
MetadataGenerationFailed as a bare traceback, which does not say which package it was. This runs
pip-compile as its command does, and on such a failure names the package (pip keeps it in the
exception) before the failure stands, so the lock's explanation (wheels.py explain) can say which.

Run under the lock tools' Python: `python pip_compile.py ARGUMENTS...` as `pip-compile ARGUMENTS...`.
"""

import sys

from piptools.scripts.compile import cli


def main():
    try:
        cli()  # pylint: disable=no-value-for-parameter  # click reads sys.argv
    except Exception as error:
        if type(error).__name__ == "MetadataGenerationFailed":
            details = str(getattr(error, "context", "") or "").strip().splitlines()
            if details:
                print(f"pip_compile: could not build the metadata of {details[0]}", file=sys.stderr)
        raise


if __name__ == "__main__":
    sys.argv[0] = "pip-compile"
    main()
