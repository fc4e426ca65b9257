"""pip-compile, with a failed build's own words.

When building an sdist's metadata fails, pip-tools lets pip's MetadataGenerationFailed end the
run as a traceback, and the build backend's output, the actual reason (for example
`Error: pg_config executable not found.`), stays inside the exception pip raised first. This runs
pip-compile as its command does, and on such a failure prints that output before the failure
stands, so the lock's explanation (wheels.py explain) can name what is missing.

Run under the lock tools' Python: `python pip_compile.py ARGUMENTS...` as `pip-compile ARGUMENTS...`.
"""

import sys

from piptools.scripts.compile import cli


def causes(error):
    """The exception and every one it was raised from or during, first to last."""
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def main():
    try:
        cli()  # pylint: disable=no-value-for-parameter  # click reads sys.argv
    except Exception as error:  # pylint: disable=broad-exception-caught
        for cause in causes(error):
            context = getattr(cause, "context", None)  # pip's DiagnosticPipError: the subprocess's output
            if context is not None and str(context).strip():
                print(f"{cause}:\n{context}", file=sys.stderr)
        raise


if __name__ == "__main__":
    sys.argv[0] = "pip-compile"
    main()
