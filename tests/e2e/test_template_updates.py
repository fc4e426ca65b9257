"""A service keeps up with its template: cruft records the template commit at `wheelbase new`,
`cruft check` (the service CI's step) fails once the template moves on, and `cruft update`
brings the change in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support import REPO, Published, run, wheelbase

pytestmark = pytest.mark.e2e
CRUFT = str(REPO / ".venv" / "bin" / "cruft")
GIT_ID = ["-c", "user.name=wheelbase tests", "-c", "user.email=tests@wheelbase.invalid"]


def git(folder: Path, *args: str) -> None:
    run("git", *GIT_ID, *args, cwd=folder)


def test_service_learns_of_template_changes_and_pulls_them(wheelhouse: Published, tmp_path: Path) -> None:
    template_repo = tmp_path / "wheelbase"
    run("git", "clone", "--quiet", str(REPO), str(template_repo))
    wheelbase("new", "Billing", "--template", f"file://{template_repo}", "--base", wheelhouse.ref,
              "--output-dir", str(tmp_path))
    service = tmp_path / "billing"
    assert (service / ".cruft.json").is_file()
    git(service, "init", "--quiet")
    git(service, "add", "-A")
    git(service, "commit", "--quiet", "-m", "made from the template")
    assert run(CRUFT, "check", cwd=service).returncode == 0

    readme = template_repo / "consumer-template" / "{{cookiecutter.service_slug}}" / "README.md"
    readme.write_text(readme.read_text() + "\nOn call: see the runbook.\n")
    git(template_repo, "commit", "--quiet", "-am", "template: mention the runbook")

    behind = run(CRUFT, "check", cwd=service, check=False)
    assert behind.returncode != 0
    assert "out of date" in (behind.stdout + behind.stderr).lower()

    subprocess.run([CRUFT, "update", "--skip-apply-ask", "--allow-untracked-files"], cwd=service, check=True,
                   capture_output=True, text=True, input="y\n")
    assert "On call: see the runbook." in (service / "README.md").read_text()
    assert run(CRUFT, "check", cwd=service).returncode == 0
    # The pin made at `wheelbase new` survives the update.
    assert f"ARG BASE_IMAGE={wheelhouse.pinned}" in (service / "Dockerfile").read_text()
