"""A GitHub Actions run, replayed here as the runner runs it, from the workflow file itself.

What is replayed as GitHub does it:
- every `${{ }}` and every `if:` is evaluated by GitHub's own evaluator (@actions/expressions,
  .ci/github-expressions.mjs), with the contexts a job sees (github with the event's payload, env,
  vars, secrets, matrix, strategy, needs, steps, runner, job); an `if:` without a status function
  is `success() && (...)`;
- a `run:` step runs in the shell GitHub picks: `shell:` on the step, else the job's then the
  workflow's `defaults.run.shell`, else `bash -e` (no pipefail); `shell: bash` is
  `bash --noprofile --norc -eo pipefail`; the script is a file, as on the runner;
- GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and GITHUB_STEP_SUMMARY, multi-line values included;
- jobs in the order `needs` gives, a job's default `if:` being success() of its needs; matrices
  expanded as GitHub expands them (vectors, exclude, include); fail-fast; job outputs; results;
- "Re-run failed jobs": the same run id, number and artifacts, the next attempt; failed and
  cancelled jobs (and, in a matrix, only those instances) run again with every job that needs
  them, and successful ones keep their outputs.

Actions (`uses:`) are replayed by functions the caller names (replay/actions.py): the ones that
can run here do their work here, and the ones that need GitHub (signing, attestations) leave a
marker where the real one leaves its result, so a test can ask what exists, and when.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
EVALUATOR = REPO / ".ci" / "github-expressions.mjs"
DEFAULT_SHELL = ["bash", "-e", "{0}"]  # GitHub's default for a run: without a shell, where bash exists
SHELLS = {
    "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"],
    "sh": ["sh", "-e", "{0}"],
    "python": ["python", "{0}"],
}


class StepFailed(Exception):
    """An action's replay failed, with the message the real action would print."""


@dataclass
class Step:
    name: str
    outcome: str  # success, failure, skipped
    outputs: dict[str, str] = field(default_factory=dict)
    log: str = ""


@dataclass
class Instance:
    """One job, or one combination of a matrix job."""

    job: str
    matrix: dict[str, Any]
    result: str  # success, failure, cancelled, skipped
    steps: list[Step] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    attempt: int = 1

    @property
    def label(self) -> str:
        return self.job + (f" ({', '.join(str(v) for v in self.matrix.values())})" if self.matrix else "")


@dataclass
class Result:
    attempt: int
    jobs: dict[str, list[Instance]] = field(default_factory=dict)

    def result(self, job: str) -> str:
        instances = self.jobs.get(job, [])
        results = {i.result for i in instances}
        for status in ("failure", "cancelled"):
            if status in results:
                return status
        return "success" if "success" in results else "skipped"

    def outputs(self, job: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        for instance in self.jobs.get(job, []):  # a matrix job's outputs: the last instance's win
            merged.update({k: v for k, v in instance.outputs.items() if v != ""})
        return merged

    def log(self) -> str:
        return "\n".join(f"== {i.label}: {i.result}\n" + "\n".join(f"-- {s.name}: {s.outcome}\n{s.log}" for s in i.steps)
                         for instances in self.jobs.values() for i in instances)

    def failures(self) -> str:
        """The failed jobs' failed steps, with their logs: what to read when a run did not succeed."""
        return "\n".join(f"== {i.label}: {i.result}\n" + "\n".join(f"-- {s.name}: {s.outcome}\n{s.log}"
                                                                      for s in i.steps if s.outcome == "failure")
                         for instances in self.jobs.values() for i in instances if i.result == "failure") or "no job failed"


class Evaluator:
    """GitHub's expression evaluator, in node: one process for the whole test run, a request a line."""

    _process: subprocess.Popen[str] | None = None

    @classmethod
    def _node(cls) -> subprocess.Popen[str]:
        if cls._process is None or cls._process.poll() is not None:
            cls._process = subprocess.Popen(["node", str(EVALUATOR)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True)
            atexit.register(cls._process.kill)
        return cls._process

    def __call__(self, items: list[tuple[str, str]], context: Mapping[str, Any], status: Mapping[str, bool]) -> list[Any]:
        if not items:
            return []
        payload = {"context": context, "status": status, "items": [{"kind": k, "text": t} for k, t in items]}
        node = self._node()
        assert node.stdin is not None and node.stdout is not None and node.stderr is not None
        node.stdin.write(json.dumps(payload) + "\n")
        node.stdin.flush()
        line = node.stdout.readline()
        if not line:
            node.wait()
            raise RuntimeError(f"the expression evaluator failed: {node.stderr.read().strip()}")
        answers = json.loads(line)
        errors = [f"{text!r}: {a['error']}" for (_, text), a in zip(items, answers, strict=True) if "error" in a]
        if errors:
            raise ValueError("; ".join(errors))
        return [a["value"] for a in answers]


def expand_matrix(matrix: Mapping[str, Any]) -> list[dict[str, Any]]:
    """GitHub's matrix: the product of the vectors, less `exclude`, then each `include` added to
    every combination whose original values it keeps, or as a combination of its own."""
    vectors = {k: v for k, v in matrix.items() if k not in ("include", "exclude")}
    for key, values in vectors.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"matrix vector {key!r} does not contain any values")
    combos = [dict(zip(vectors, values, strict=True)) for values in itertools.product(*vectors.values())] if vectors else []
    for excluded in matrix.get("exclude") or []:
        combos = [c for c in combos if not all(c.get(k) == v for k, v in excluded.items())]
    originals = [dict(c) for c in combos]  # only these take an include's keys; added ones stand alone
    added: list[dict[str, Any]] = []
    for included in matrix.get("include") or []:
        matched = False
        for combo, original in zip(combos, originals, strict=True):
            if all(original[k] == v for k, v in included.items() if k in original):
                combo.update(included)
                matched = True
        if not matched:
            added.append(dict(included))
    combos = [*combos, *added]
    if not combos:
        raise ValueError("the matrix has no combinations")
    return combos


def _parse_file_commands(path: Path) -> dict[str, str]:
    """name=value lines and name<<DELIMITER ... DELIMITER blocks, as the runner reads them."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    lines = path.read_text().split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            if index >= len(lines):
                raise ValueError(f"{path.name}: no closing {delimiter!r} for {name}")
            index += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        else:
            raise ValueError(f"{path.name}: unreadable line {line!r}")
    return values


@dataclass
class Call:
    """What an action's replay is given: its inputs, the step's environment and its job."""

    runner: Runner
    job: str
    inputs: dict[str, Any]
    env: dict[str, str]
    permissions: dict[str, str]
    temp: Path
    outputs: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)  # directories the action puts on PATH
    log: list[str] = field(default_factory=list)


Action = Callable[[Call], None]


class Runner:
    def __init__(self, workflow: Path | str, workspace: Path, *, actions: Mapping[str, Action], state: Path,
                 event_name: str = "push", payload: Mapping[str, Any] | None = None, ref: str = "refs/heads/main",
                 repository: str = "acme/wheelbase", vars: Mapping[str, str] | None = None,
                 secrets: Mapping[str, str] | None = None, machine_env: Mapping[str, str] | None = None,
                 shims: Path | None = None, run_id: int = 7001, run_number: int = 42, sha: str | None = None,
                 observe: Callable[[str], None] | None = None, only: Iterable[str] | None = None,
                 assume_succeeded: Iterable[str] = ()) -> None:
        text = workflow if isinstance(workflow, str) else workflow.read_text()
        self.workflow = yaml.safe_load(text)
        self.file = "publish.yml" if isinstance(workflow, str) else workflow.name
        self.workspace = workspace
        self.actions = dict(actions)
        self.state = state
        state.mkdir(parents=True, exist_ok=True)
        self.artifacts = state / "artifacts" / str(run_id)  # a run's own; its re-runs share them
        self.event_name = event_name
        self.payload = dict(payload or {})
        self.ref = ref
        self.repository = repository
        self.vars = dict(vars or {})
        self.secrets = {"GITHUB_TOKEN": "ghs_replay_token", **(secrets or {})}
        self.machine_env = dict(machine_env if machine_env is not None else os.environ)
        self.shims = shims
        self.run_id, self.run_number = run_id, run_number
        self.sha = sha or subprocess.run(["git", "rev-parse", "HEAD"], cwd=workspace, capture_output=True, text=True).stdout.strip()
        self.observe = observe or (lambda _: None)
        # A test may run some jobs only (the rest count as skipped), or take some as succeeded without
        # running them (a job whose verdict depends on the day, replayed in a test of its own).
        self.only = set(only) if only is not None else None
        self.assume_succeeded = set(assume_succeeded)
        self.evaluate = Evaluator()
        self.events: list[dict[str, Any]] = []

    # -- the run ----------------------------------------------------------------------------
    def run(self) -> Result:
        return self._run(Result(attempt=1), rerun=None)

    def rerun_failed(self, previous: Result) -> Result:
        """GitHub's "Re-run failed jobs": failed and cancelled jobs again, with all that need them."""
        failed = {job for job in previous.jobs if previous.result(job) in ("failure", "cancelled")}
        again = set(failed)
        changed = True
        while changed:
            changed = False
            for job, spec in self._jobs().items():
                if job not in again and again & set(self._needs(spec)):
                    again.add(job)
                    changed = True
        kept = Result(attempt=previous.attempt + 1)
        for job, instances in previous.jobs.items():
            if job not in again:
                kept.jobs[job] = instances
            elif job in failed:  # only a matrix's failed and cancelled combinations run again
                kept.jobs[job] = [i for i in instances if i.result == "success"]
        return self._run(kept, rerun=again)

    def plan(self, outputs: Mapping[str, Mapping[str, str]] | None = None) -> list[dict[str, Any]]:
        """What would run on this event, without running anything: every job whose `if:` holds when
        the jobs it needs succeed (with the outputs given for them), and in each, every step whose
        `if:` holds before any step has run. Each planned step: job, matrix, name, uses, with."""
        outputs = {k: dict(v) for k, v in (outputs or {}).items()}
        planned: list[dict[str, Any]] = []
        results = Result(attempt=1)
        for job, spec in self._jobs().items():
            needs = {n: {"result": results.result(n), "outputs": outputs.get(n, {})} for n in self._needs(spec)}
            context: dict[str, Any] = {"github": self._github(1, job), "needs": needs, "vars": self.vars, "secrets": self.secrets,
                                       "inputs": {}, "env": self._plain_env(self.workflow.get("env"))}
            status = {"success": all(n["result"] == "success" for n in needs.values()),
                      "failure": any(n["result"] == "failure" for n in needs.values()), "cancelled": False}
            (run_it,) = self.evaluate([("condition", str(spec.get("if", "success()")))], context, status)
            if not run_it:
                results.jobs[job] = [Instance(job, {}, "skipped")]
                continue
            results.jobs[job] = [Instance(job, {}, "success")]
            strategy = dict(spec.get("strategy") or {})
            combos = expand_matrix(self._render_tree(strategy["matrix"], context, status)) if "matrix" in strategy else [{}]
            ok = {"success": True, "failure": False, "cancelled": False}
            for combo in combos:
                job_context = {**context, "matrix": combo, "steps": {}, "job": {"status": "success"},
                               "strategy": {"fail-fast": True, "job-index": 0, "job-total": len(combos)},
                               "runner": {"temp": "/runner/temp", "os": "Linux", "arch": "X64"}}
                job_env = self._render_tree(self._plain_env(spec.get("env")), job_context, ok)
                job_context["env"] = {**job_context["env"], **{k: self._text(v) for k, v in job_env.items()}}
                runs_on = self._render_tree(spec.get("runs-on", ""), job_context, ok)
                for step in spec.get("steps") or []:
                    (step_runs,) = self.evaluate([("condition", str(step.get("if", "success()")))], job_context, ok)
                    if step_runs:
                        planned.append({"job": job, "matrix": combo, "name": step.get("name", ""), "runs-on": runs_on,
                                        "uses": str(step.get("uses", "")).split("@")[0], "with": step.get("with") or {}})
        return planned

    def concurrency(self) -> tuple[str, bool] | None:
        """This run's concurrency group and whether it cancels the run in progress, from the
        workflow's `concurrency` rendered as GitHub renders it (only `github`, `inputs` and `vars`
        exist there); None when the workflow names no group."""
        spec = self.workflow.get("concurrency")
        if spec is None:
            return None
        spec = {"group": spec} if isinstance(spec, str) else dict(spec)
        context = {"github": self._github(1, ""), "inputs": {}, "vars": self.vars}
        rendered = self._render_tree(spec, context, {"success": True, "failure": False, "cancelled": False})
        return self._text(rendered["group"]), rendered.get("cancel-in-progress", False) in (True, "true")

    def _jobs(self) -> dict[str, dict[str, Any]]:
        return dict(self.workflow["jobs"])

    @staticmethod
    def _needs(spec: Mapping[str, Any]) -> list[str]:
        needs = spec.get("needs") or []
        return [needs] if isinstance(needs, str) else list(needs)

    def _run(self, result: Result, rerun: set[str] | None) -> Result:
        jobs = self._jobs()
        done: set[str] = set(result.jobs) if rerun is None else set(result.jobs) - rerun
        while len(done) < len(jobs):
            ready = [j for j, spec in jobs.items() if j not in done and set(self._needs(spec)) <= done]
            if not ready:
                raise ValueError(f"jobs whose needs never finish: {sorted(set(jobs) - done)}")
            job = ready[0]
            if job in self.assume_succeeded:
                result.jobs[job] = [Instance(job, {}, "success")]
            elif self.only is not None and job not in self.only:
                result.jobs[job] = [Instance(job, {}, "skipped")]
            else:
                self._run_job(job, jobs[job], result)
            done.add(job)
        return result

    def _github(self, attempt: int, job: str) -> dict[str, Any]:
        owner, _ = self.repository.split("/")
        return {
            "event_name": self.event_name, "event": self.payload, "ref": self.ref, "ref_name": self.ref.rsplit("/", 1)[-1],
            "sha": self.sha, "repository": self.repository, "repository_owner": owner, "run_id": str(self.run_id),
            "run_number": str(self.run_number), "run_attempt": str(attempt), "server_url": "https://github.com",
            "api_url": "https://api.github.com", "actor": "octocat", "token": self.secrets["GITHUB_TOKEN"], "job": job,
            "workflow": self.workflow.get("name", ""), "workspace": str(self.workspace),
            "workflow_ref": f"{self.repository}/.github/workflows/{self.file}@{self.ref}",
        }

    def _run_job(self, job: str, spec: Mapping[str, Any], result: Result) -> None:
        needs = {n: {"result": result.result(n), "outputs": result.outputs(n)} for n in self._needs(spec)}
        context: dict[str, Any] = {"github": self._github(result.attempt, job), "needs": needs, "vars": self.vars,
                                   "secrets": self.secrets, "inputs": {}, "env": self._plain_env(self.workflow.get("env"))}
        status = {"success": all(n["result"] == "success" for n in needs.values()),
                  "failure": any(n["result"] == "failure" for n in needs.values()), "cancelled": False}
        (run_it,) = self.evaluate([("condition", str(spec.get("if", "success()")))], context, status)
        kept = result.jobs.get(job, [])
        if not run_it:
            result.jobs[job] = kept or [Instance(job, {}, "skipped")]
            self.observe(f"{job}: skipped")
            return
        strategy = dict(spec.get("strategy") or {})
        combos: list[dict[str, Any]] = [{}]
        if "matrix" in strategy:
            (matrix,) = self.evaluate([("value", json.dumps(strategy["matrix"]))], context, status) if isinstance(
                strategy["matrix"], str) else [self._render_tree(strategy["matrix"], context, status)]
            combos = expand_matrix(matrix)
        fail_fast = strategy.get("fail-fast", True) is not False
        instances: list[Instance] = []
        done_before = {json.dumps(i.matrix, sort_keys=True) for i in kept}
        cancelled = False
        for index, combo in enumerate(combos):
            if json.dumps(combo, sort_keys=True) in done_before:
                continue
            if cancelled:
                instances.append(Instance(job, combo, "cancelled", attempt=result.attempt))
                continue
            instance = self._run_instance(job, spec, combo, index, len(combos), context, result.attempt, fail_fast)
            instances.append(instance)
            if instance.result == "failure" and fail_fast:
                cancelled = True
        result.jobs[job] = [*kept, *instances]

    def _plain_env(self, env: Mapping[str, Any] | None) -> dict[str, str]:
        return {k: str(v) for k, v in (env or {}).items()}

    def _render_tree(self, value: Any, context: Mapping[str, Any], status: Mapping[str, bool]) -> Any:
        """Every string in a YAML value rendered; a whole-expression string keeps its type."""
        strings: list[str] = []

        def collect(node: Any) -> None:
            if isinstance(node, str):
                strings.append(node)
            elif isinstance(node, dict):
                for item in node.values():
                    collect(item)
            elif isinstance(node, list):
                for item in node:
                    collect(item)

        collect(value)
        rendered = iter(self.evaluate([("value", s) for s in strings], context, status))

        def rebuild(node: Any) -> Any:
            if isinstance(node, str):
                return next(rendered)
            if isinstance(node, dict):
                return {k: rebuild(v) for k, v in node.items()}
            if isinstance(node, list):
                return [rebuild(v) for v in node]
            return node

        return rebuild(value)

    @staticmethod
    def _text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return value if isinstance(value, str) else json.dumps(value)

    def _shell(self, step: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
        shell = step.get("shell") or ((spec.get("defaults") or {}).get("run") or {}).get("shell") or (
            (self.workflow.get("defaults") or {}).get("run") or {}).get("shell")
        if shell is None:
            return DEFAULT_SHELL
        if shell in SHELLS:
            return SHELLS[shell]
        if "{0}" not in shell:
            raise ValueError(f"shell {shell!r}: a custom shell needs {{0}}")
        return shell.split()

    def _run_instance(self, job: str, spec: Mapping[str, Any], matrix: dict[str, Any], index: int, total: int,
                      job_context: Mapping[str, Any], attempt: int, fail_fast: bool) -> Instance:
        instance = Instance(job, matrix, "success", attempt=attempt)
        temp = self.state / "runner" / f"{job}-{index}-{attempt}-{uuid.uuid4().hex[:6]}"
        temp.mkdir(parents=True)
        context: dict[str, Any] = {**job_context, "matrix": matrix, "steps": {},
                                   "strategy": {"fail-fast": fail_fast, "job-index": index, "job-total": total, "max-parallel": total},
                                   "runner": {"temp": str(temp), "os": "Linux", "arch": "X64", "name": "replay",
                                              "tool_cache": str(temp / "tool-cache")},
                                   "job": {"status": "success"}}
        ok = {"success": True, "failure": False, "cancelled": False}
        permissions = self._permissions(spec)
        job_env = self._render_tree(self._plain_env(spec.get("env")), context, ok)
        context["env"] = {**context["env"], **{k: self._text(v) for k, v in job_env.items()}}
        runs_on = self._render_tree(spec.get("runs-on", ""), context, ok)
        self.events.append({"event": "job", "job": job, "matrix": matrix, "runs-on": runs_on, "permissions": permissions,
                            "attempt": attempt})
        files = {name: temp / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")}
        added_env: dict[str, str] = {}
        added_path: list[str] = []
        failed = False
        for position, step in enumerate(spec.get("steps") or []):
            name = step.get("name") or step.get("uses") or (step.get("run") or "").split("\n")[0]
            step_id = step.get("id", f"__{position}")
            status = {"success": not failed, "failure": failed, "cancelled": False}
            context["job"]["status"] = "failure" if failed else "success"
            (run_it,) = self.evaluate([("condition", str(step.get("if", "success()")))], context, status)
            if not run_it:
                instance.steps.append(Step(name, "skipped"))
                context["steps"][step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            step_env = self._render_tree(self._plain_env(step.get("env")), context, status)
            env_context = {**context["env"], **added_env, **{k: self._text(v) for k, v in step_env.items()}}
            step_context = {**context, "env": env_context}
            for path in files.values():
                path.write_text("") if path.name != "github_step_summary" or not path.exists() else None
            process_env = self._process_env(job, temp, files, env_context, added_path, permissions, attempt)
            outputs: dict[str, str] = {}
            try:
                if "run" in step:
                    (script,) = self.evaluate([("value", str(step["run"]))], step_context, status)
                    log, code = self._run_script(str(script), self._shell(step, spec), step, temp, process_env)
                    if code:
                        raise StepFailed(f"{log}\nProcess completed with exit code {code}.")
                    outputs = _parse_file_commands(files["GITHUB_OUTPUT"])
                else:
                    inputs = self._render_tree(dict(step.get("with") or {}), step_context, status)
                    call = Call(self, job, inputs, process_env, permissions, temp)
                    action = str(step["uses"]).split("@", 1)[0]
                    if action not in self.actions:
                        raise ValueError(f"no replay for {action}")
                    self.events.append({"event": "uses", "job": job, "action": action, "inputs": inputs, "step": name})
                    self.actions[action](call)
                    outputs = call.outputs
                    added_path = [*call.path, *added_path]
                    log = "\n".join(call.log)
                outcome = "success"
            except StepFailed as exc:
                outcome, log = "failure", str(exc)
            added_env.update(_parse_file_commands(files["GITHUB_ENV"]))
            added_path = [line for line in files["GITHUB_PATH"].read_text().splitlines() if line][::-1] + added_path
            conclusion = "success" if outcome == "success" or step.get("continue-on-error") is True else "failure"
            instance.steps.append(Step(name, outcome, outputs, log))
            context["steps"][step_id] = {"outputs": outputs, "outcome": outcome, "conclusion": conclusion}
            self.observe(f"{job} {json.dumps(matrix, sort_keys=True)}: {name}: {outcome}")
            if conclusion == "failure":
                failed = True
        instance.result = "failure" if failed else "success"
        if not failed and spec.get("outputs"):
            rendered = self._render_tree(dict(spec["outputs"]), {**context, "env": {}}, ok)
            instance.outputs = {k: self._text(v) for k, v in rendered.items()}
        self.events.append({"event": "job-end", "job": job, "matrix": matrix, "result": instance.result, "attempt": attempt})
        return instance

    def _permissions(self, spec: Mapping[str, Any]) -> dict[str, str]:
        """The GITHUB_TOKEN's scopes: the job's `permissions`, else the workflow's; a scope not named is none."""
        permissions = spec.get("permissions", self.workflow.get("permissions"))
        if permissions is None:
            raise ValueError("no permissions: the replay assumes none are left to the repository's default")
        return dict(permissions)

    def _process_env(self, job: str, temp: Path, files: Mapping[str, Path], env: Mapping[str, str], added_path: list[str],
                     permissions: Mapping[str, str], attempt: int) -> dict[str, str]:
        github = self._github(attempt, job)
        event_path = temp / "event.json"
        event_path.write_text(json.dumps(self.payload))
        base = dict(self.machine_env)
        path = [*added_path, *([str(self.shims)] if self.shims else []), base.get("PATH", os.defpath)]
        return {
            **base,
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(self.workspace), "RUNNER_TEMP": str(temp),
            "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "GITHUB_EVENT_NAME": self.event_name, "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_REPOSITORY": self.repository, "GITHUB_REPOSITORY_OWNER": github["repository_owner"],
            "GITHUB_RUN_ID": github["run_id"], "GITHUB_RUN_NUMBER": github["run_number"], "GITHUB_RUN_ATTEMPT": str(attempt),
            "GITHUB_SHA": self.sha, "GITHUB_REF": self.ref, "GITHUB_REF_NAME": github["ref_name"], "GITHUB_JOB": job,
            "GITHUB_SERVER_URL": github["server_url"], "GITHUB_API_URL": github["api_url"], "GITHUB_ACTOR": "octocat",
            "GITHUB_WORKFLOW_REF": github["workflow_ref"],
            **{name: str(file) for name, file in files.items()},
            **env,
            "PATH": ":".join(path),
            # what the replay's gh and cosign read: the run's GitHub side, and this job's token scopes
            "REPLAY_STATE": str(self.state), "REPLAY_PERMISSIONS": json.dumps(dict(permissions)),
        }

    def _run_script(self, script: str, shell: list[str], step: Mapping[str, Any], temp: Path,
                    env: Mapping[str, str]) -> tuple[str, int]:
        file = temp / f"{uuid.uuid4()}.sh"
        file.write_text(script)
        argv = [part.replace("{0}", str(file)) for part in shell]
        if shutil.which(argv[0], path=env["PATH"]) is None:
            raise StepFailed(f"{argv[0]}: command not found")
        cwd = self.workspace / str(step.get("working-directory", "."))
        done = subprocess.run(argv, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=3600)
        return (done.stdout + done.stderr).strip(), done.returncode


def annotations(log: str, kind: str = "error") -> list[str]:
    """The ::error:: (or ::warning::) messages a step printed."""
    return re.findall(rf"^::{kind}(?: [^:]*)?::(.*)$", log, re.MULTILINE)
