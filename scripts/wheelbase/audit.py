"""`wheelbase audit`: pip-audit a lock, where a package that could not be audited fails loudly.

pip-audit prints "No known vulnerabilities found" and exits 0 even when its advisory service
did not answer and every package was skipped. Here a skipped package is a failed audit.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import AuditError, UsageError
from .files import decode, read_bytes


def verdict(report: Mapping[str, Any]) -> list[str]:
    """Lines describing the audit; raises AuditError on a vulnerability or a skipped package."""
    dependencies = report.get("dependencies") or []
    if not dependencies:
        raise AuditError("pip-audit reported no packages at all; the lock was not audited")
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    lines = [f"{d['name']} {d.get('version', '')}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or ['no release'])})"
             for d in vulnerable for v in d["vulns"]]
    if skipped:
        names = ", ".join(d["name"] for d in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
        raise AuditError(f"could not audit {len(skipped)} of {len(dependencies)} packages ({names}): the advisory "
                         "service did not answer; this is a failed audit, not a clean one")
    if vulnerable:
        raise AuditError(f"{len(lines)} known vulnerabilities in {len(vulnerable)} packages: " + "; ".join(lines))
    return [f"audited {len(dependencies)} packages: no known vulnerabilities"]


def audit(locks: Sequence[Path], out: Callable[[str], None] = print) -> int:
    """Audits each lock on its own (two locks may pin one package at different versions), every one
    of them, then fails once, naming each lock that failed and why."""
    for requirements in locks:
        if not os.path.lexists(requirements):
            raise UsageError(f"{requirements} does not exist; pass a requirements lock such as base-image/requirements.txt, "
                             "or run `wheelbase audit` with none in a wheelbase checkout")
        decode(requirements, read_bytes(requirements))  # a regular UTF-8 file of bounded size, never a FIFO or a stream
    if importlib.util.find_spec("pip_audit") is None:
        raise UsageError("pip-audit is not installed; install wheelbase with its audit extra: pip install 'wheelbase[audit]'")
    failures = []
    for requirements in locks:
        try:
            lines = _audit_one(requirements)
        except AuditError as exc:
            failures.append(f"{requirements}: {exc}")
            continue
        for line in lines:
            out(f"{requirements}: {line}")
    if failures:
        raise AuditError("; ".join(failures))
    return 0


def _audit_one(requirements: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "audit.json"
        done = subprocess.run(
            [sys.executable, "-m", "pip_audit", "--requirement", str(requirements), "--disable-pip",
             "--format", "json", "--progress-spinner", "off", "--output", str(report_path)],
            capture_output=True, text=True,
        )
        if not report_path.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise AuditError(f"pip-audit did not run: {last}")
        report = json.loads(report_path.read_text())
    return verdict(report)
