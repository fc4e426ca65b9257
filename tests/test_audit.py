import subprocess
import sys
from pathlib import Path

import pytest

from wheelbase.audit import verdict
from wheelbase.errors import AuditError

REPO = Path(__file__).resolve().parents[1]


def test_all_audited_and_clean_passes() -> None:
    report = {"dependencies": [{"name": "fastapi", "version": "1.0", "vulns": []}, {"name": "anyio", "version": "4", "vulns": []}]}
    assert verdict(report) == ["audited 2 packages: no known vulnerabilities"]


def test_a_skipped_package_is_a_failed_audit_even_without_vulnerabilities() -> None:
    report = {"dependencies": [
        {"name": "fastapi", "version": "1.0", "vulns": []},
        {"name": "anyio", "skip_reason": "Dependency not found on PyPI and could not be audited: anyio (4.16.0)"},
    ]}
    with pytest.raises(AuditError, match=r"could not audit 1 of 2 packages \(anyio\)"):
        verdict(report)


def test_a_vulnerability_is_named_with_its_fix() -> None:
    report = {"dependencies": [{"name": "starlette", "version": "0.1", "vulns": [
        {"id": "GHSA-xxxx", "fix_versions": ["0.2"], "description": "..."}]}]}
    with pytest.raises(AuditError, match=r"starlette 0.1: GHSA-xxxx \(fixed in 0.2\)"):
        verdict(report)


def test_an_empty_report_is_not_a_clean_one() -> None:
    with pytest.raises(AuditError, match="no packages"):
        verdict({"dependencies": []})


def test_the_real_audit_of_the_lock_is_never_silently_clean() -> None:
    """Whatever the advisory service does here, the answer is an audit of every package or a loud failure."""
    done = subprocess.run([sys.executable, "-m", "wheelbase.cli", "audit", str(REPO / "base-image" / "requirements.txt")],
                          capture_output=True, text=True, timeout=600)
    if done.returncode == 0:
        assert "audited" in done.stdout and "no known vulnerabilities" in done.stdout
    else:
        assert done.returncode == 9
        assert "could not audit" in done.stderr or "known vulnerabilities in" in done.stderr
