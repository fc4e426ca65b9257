"""The package's own lint and types, run with the tools pinned in pyproject's dev extra."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def check(*cmd: str) -> None:
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff() -> None:
    check(str(BIN / "ruff"), "check", "scripts", "tests", "base-image")


def test_mypy_strict() -> None:
    check(str(BIN / "mypy"))
