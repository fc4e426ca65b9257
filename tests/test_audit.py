import subprocess
import sys
from pathlib import Path

import pytest

from wheelbase import audit as audit_module
from wheelbase.audit import verdict
from wheelbase.errors import AuditError
from wheelbase.layout import SHIPPED_LOCKS

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


def test_every_hash_locked_file_the_images_ship_is_audited_by_default() -> None:
    """A lock added under base-image/ and not audited would ship unscanned packages."""
    locked = {str(p.relative_to(REPO)) for p in (REPO / "base-image").rglob("*.txt") if "--hash=sha256:" in p.read_text()}
    assert locked == set(SHIPPED_LOCKS)


def test_every_lock_is_audited_and_one_error_names_each_that_failed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    locks = [tmp_path / name for name in ("a.txt", "b.txt", "c.txt")]
    for lock in locks:
        lock.write_text("anyio==4.16.0\n")
    audited: list[str] = []

    def one(requirements: Path) -> list[str]:
        audited.append(requirements.name)
        if requirements.name != "b.txt":
            raise AuditError(f"1 known vulnerabilities in {requirements.stem}")
        return ["audited 1 packages: no known vulnerabilities"]

    monkeypatch.setattr(audit_module, "_audit_one", one)
    lines: list[str] = []
    with pytest.raises(AuditError) as failed:
        audit_module.audit(locks, out=lines.append)
    assert audited == ["a.txt", "b.txt", "c.txt"]
    assert lines == [f"{locks[1]}: audited 1 packages: no known vulnerabilities"]
    assert str(failed.value) == f"{locks[0]}: 1 known vulnerabilities in a; {locks[2]}: 1 known vulnerabilities in c"


def test_the_default_audit_reports_every_shipped_lock() -> None:
    done = subprocess.run([sys.executable, "-m", "wheelbase.cli", "audit"], cwd=REPO, capture_output=True, text=True, timeout=900)
    if done.returncode == 0:
        assert [line.split(":", 1)[0] for line in done.stdout.splitlines()] == list(SHIPPED_LOCKS)
    else:
        assert done.returncode == 9, done.stderr
        assert any(lock in done.stderr for lock in SHIPPED_LOCKS)
