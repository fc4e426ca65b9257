"""The GitHub side of a replayed run, kept in the run's state folder: the repository (its
visibility, whether attestations are available to it), each run's start time, the fixable findings
a scanner would report, and a log of every call the replayed `gh`, `cosign` and actions made.

A call is allowed only with the scopes GitHub would need from the job's GITHUB_TOKEN (the runner
hands each step the job's `permissions`), and it fails as GitHub answers when they are missing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

LEVELS = {"none": 0, "read": 1, "write": 2}
DENIED = "Resource not accessible by integration (HTTP 403)"


def state_dir() -> Path:
    return Path(os.environ["REPLAY_STATE"])


def facts(state: Path | None = None) -> dict[str, Any]:
    path = (state or state_dir()) / "github.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def write_facts(state: Path, values: dict[str, Any]) -> None:
    state.mkdir(parents=True, exist_ok=True)
    (state / "github.json").write_text(json.dumps(values, indent=2, sort_keys=True))


def record(tool: str, argv: list[str], ok: bool, **extra: Any) -> None:
    entry = {"tool": tool, "argv": argv, "ok": ok, "job": os.environ.get("GITHUB_JOB", ""),
             "attempt": os.environ.get("GITHUB_RUN_ATTEMPT", ""), **extra}
    with (state_dir() / "calls.jsonl").open("a") as log:
        log.write(json.dumps(entry) + "\n")


def calls(state: Path) -> list[dict[str, Any]]:
    path = state / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def allowed(scope: str, level: str) -> bool:
    """Whether this step's job token has `scope` at `level` or above."""
    granted = json.loads(os.environ.get("REPLAY_PERMISSIONS", "{}"))
    return LEVELS.get(str(granted.get(scope, "none")), 0) >= LEVELS[level]
