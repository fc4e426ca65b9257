"""What the bad-input suites share: a case, how it runs, how a run is checked, and the table in
docs/bad-inputs.md that lists every case with its exact message.

A case runs a real command (wheelbase, cookiecutter, docker buildx) in a copy of a pinned service,
as a user would, under `-W error` and a strict UTF-8 stdout. It must print one line that says what
went wrong and what to do (no traceback), exit with its code, and leave every file as it was: the
sha256, mode, owner and group of every file, folder and symlink in the work folder are compared
before and after, and none may be added or removed. A case that is allowed to change files (the
change a command makes before its stdout fails) names them.

Regenerate the table after changing a message:
    WHEELBASE_WRITE_BAD_INPUTS=1 pytest tests/test_bad_inputs.py tests/e2e/test_engine_bad_inputs.py
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from support import REPO, RUN_ID, WHEELBASE

TABLE = REPO / "docs" / "bad-inputs.md"
# Every command of a case runs so: warnings are errors, and stdout takes nothing but UTF-8.
STRICT = {"PYTHONWARNINGS": "error", "PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C.UTF-8"}


@dataclass
class World:
    """What a case can use: a pinned service to break (its folder is the command's working
    directory), the wheelhouse tag it is pinned to, and named references (odd registries, hostile images)."""

    root: Path
    service: Path
    base: str
    refs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    id: str
    input: str
    run: Callable[[World], list[str]]  # the command
    exit: int | None  # expected exit code; None: any non-zero (docker buildx)
    env: tuple[tuple[str, str], ...] = ()
    prepare: Callable[[World], None] = lambda world: None
    may_change: tuple[str, ...] = ()  # files (relative to the service) the command may change: it succeeded before failing
    as_user: int | None = None  # run as this UID (the case needs root to set it up)
    stdout: str | None = None  # "full" (/dev/full) or "closed"
    stdin: bytes | None = None
    # (marker, what): once a process whose command line holds the marker runs (on this machine, a
    # container's too), a signal to send the command, or an edit to make meanwhile
    during: tuple[str, int | Callable[[World], None]] | None = None


def snapshot(root: Path) -> dict[str, tuple[str, int, int, int]]:
    """(sha256 or symlink target, mode, uid, gid) of every path under root, lstat'ed."""
    found = {}
    for path in sorted([root, *root.rglob("*")]):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            content = "-> " + os.readlink(path)
        elif stat.S_ISREG(info.st_mode):
            content = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            content = ""
        found[str(path.relative_to(root))] = (content, info.st_mode, info.st_uid, info.st_gid)
    return found


def the_message(case: Case, stderr: str) -> str:
    """The one line that says what went wrong and what to do."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    if case.id.startswith("bake"):
        return re.search(r'cannot parse "([^"]+)"', stderr)[1]  # type: ignore[index]
    if case.id.startswith(("build", "template")):
        return next(re.sub(r"^#\d+ [\d.]+ ", "", line) for line in lines if re.match(r"^(#\d+ [\d.]+ )?(\w+: )?error: ", line))
    assert len(lines) == 1, f"{case.id}: expected one line, got:\n{stderr}"
    return lines[0]


def normalise(text: str, world: World) -> str:
    text = text.replace(str(world.root), "<dir>").replace(RUN_ID, "<run>")
    text = re.sub(r"sha256:[0-9a-f]{64}", "sha256:<digest>", text)
    text = re.sub(r"sha256 [0-9a-f]{16}\.\.\.", "sha256 <digest>...", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", text)  # a release's build time is its commit's
    text = re.sub(r"\.wheelbase-lock-\w+|/tmp/tmp\w+", "<tmp>", text)
    return text.replace("|", "\\|")


def _cwd(pid: str) -> str:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""


def _command(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


def _wait_for(marker: str, process: subprocess.Popen[bytes]) -> None:
    """Until a process whose command line holds `marker` runs (120 s at most), while the command does."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if any(pid.isdigit() and marker in _command(pid) for pid in os.listdir("/proc")):
            return
        time.sleep(0.02)
    raise AssertionError(f"no process running {marker} appeared while the command ran")


def run_case(case: Case, world: World) -> tuple[int, str]:
    case.prepare(world)
    before = snapshot(world.root)
    # A temporary folder of the command's own: whatever it stages there must be gone when it ends.
    scratch = Path(tempfile.mkdtemp(prefix="wheelbase-case-tmp-"))
    env = {**os.environ, "WHEELBASE_TEMPLATE": f"file://{REPO}", **STRICT, **dict(case.env), "TMPDIR": str(scratch)}
    command = case.run(world)
    if case.as_user is not None:  # another user, with a home of its own outside the folder compared
        home = Path(tempfile.mkdtemp(prefix="wheelbase-home-"))
        os.chown(home, case.as_user, case.as_user)
        os.chown(scratch, case.as_user, case.as_user)
        env = {**env, "HOME": str(home), "DOCKER_CONFIG": str(home / ".docker")}
        command = ["setpriv", f"--reuid={case.as_user}", f"--regid={case.as_user}", "--clear-groups", *command]
    with open("/dev/full", "wb") as full:
        stdout = {"full": full, "closed": subprocess.DEVNULL}.get(case.stdout or "", subprocess.PIPE)
        process = subprocess.Popen(command, cwd=world.service, env=env, stdout=stdout, stderr=subprocess.PIPE,
                                   stdin=subprocess.PIPE if case.stdin is not None else subprocess.DEVNULL,
                                   preexec_fn=(lambda: os.close(1)) if case.stdout == "closed" else None)
        if case.during is not None:
            marker, what = case.during
            _wait_for(marker, process)
            if isinstance(what, int):
                process.send_signal(what)
            else:
                what(world)
        _, raw_stderr = process.communicate(case.stdin, timeout=600)
    done = subprocess.CompletedProcess(command, process.returncode, b"", raw_stderr)
    stderr = done.stderr.decode("utf-8")  # strict: a byte that is not UTF-8 would fail here
    left = [pid for pid in os.listdir("/proc") if pid.isdigit() and _cwd(pid).startswith(str(world.root))]
    assert left == [], f"{case.id}: processes outlived the command: {[_command(pid) for pid in left]}"
    staged = sorted(path.name for path in scratch.iterdir())
    shutil.rmtree(scratch)
    if WHEELBASE in command:  # not cookiecutter's own CLI, which leaves its hook scripts behind
        assert staged == [], f"{case.id}: staged files outlived the command: {staged}"
    assert "Traceback" not in stderr, f"{case.id}: a traceback\n{stderr}"
    after = snapshot(world.root)
    changed = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
    allowed = {str((world.service / name).relative_to(world.root)) for name in case.may_change}
    assert changed <= allowed, f"{case.id}: changed {sorted(changed - allowed)}"
    if case.exit is None:
        assert done.returncode != 0, f"{case.id}: exited 0\n{stderr}"
    else:
        assert done.returncode == case.exit, f"{case.id}: exit {done.returncode}\n{stderr}"
    return done.returncode, normalise(the_message(case, stderr), world)


def table_rows(section: str) -> dict[str, tuple[str, str, str]]:
    text = TABLE.read_text()
    body = text.split(f"<!-- cases: {section} -->", 1)[-1].split(f"<!-- /cases: {section} -->", 1)[0]
    rows = {}
    for line in body.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], cells[2], cells[3].removeprefix("`` ").removesuffix(" ``"))
    return rows


def write_rows(section: str, cases: list[Case], results: dict[str, tuple[str, str, str]]) -> None:
    """Replaces the section's table with these rows (in the cases' order)."""
    lines = ["| case | input | exit | message |", "|---|---|---|---|",
             *(f"| `{c.id}` | {results[c.id][0]} | {results[c.id][1]} | `` {results[c.id][2]} `` |" for c in cases)]
    text = TABLE.read_text()
    head, rest = text.split(f"<!-- cases: {section} -->", 1)
    _, tail = rest.split(f"<!-- /cases: {section} -->", 1)
    TABLE.write_text(f"{head}<!-- cases: {section} -->\n" + "\n".join(lines) + f"\n<!-- /cases: {section} -->{tail}")


def check_row(section: str, case: Case, code: int, message: str, results: dict[str, tuple[str, str, str]]) -> None:
    row = (case.input, str(code) if case.exit is not None else "non-zero", message)
    if os.environ.get("WHEELBASE_WRITE_BAD_INPUTS"):
        results[case.id] = row
        return
    assert table_rows(section).get(case.id) == row, f"docs/bad-inputs.md is out of date for {case.id}: {row}"
