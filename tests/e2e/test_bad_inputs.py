"""Every bad input the tools are known to meet: each gives one actionable line, a non-zero exit,
and leaves every file as it was (sha256 of every file before and after). The table in
docs/bad-inputs.md lists each case with its exact message; this module keeps it true.

Regenerate the table after changing a message: WHEELBASE_WRITE_BAD_INPUTS=1 pytest tests/e2e/test_bad_inputs.py
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import OTHER_PYTHON_IMAGE, PYTHON_IMAGE, REPO, RUN_ID, WHEELBASE, Published, free_port, run, tree_digest, wheelbase

pytestmark = pytest.mark.e2e
TABLE = REPO / "docs" / "bad-inputs.md"
COOKIECUTTER = str(REPO / ".venv" / "bin" / "cookiecutter")
DOCKERFILE = "Dockerfile"


@dataclass
class World:
    """What a case can use: a pinned service to break, the session's wheelhouse, odd registries and
    hostile images (`refs`, by name; see the `registries` fixture)."""

    root: Path
    service: Path
    wheelhouse: Published
    refs: dict[str, str]


@dataclass(frozen=True)
class Case:
    id: str
    input: str
    run: Callable[[World], list[str]]  # the command; the service folder is its working directory
    exit: int | None  # expected exit code; None: any non-zero (docker buildx)
    env: tuple[tuple[str, str], ...] = ()
    prepare: Callable[[World], None] = lambda world: None


def edit(path_in_service: str, change: Callable[[str], str]) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        path = world.service / path_in_service
        path.write_text(change(path.read_text()))
    return prepare


def write_bytes(path_in_service: str, data: bytes) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        (world.service / path_in_service).write_bytes(data)
    return prepare


def each(*steps: Callable[[World], None]) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        for step in steps:
            step(world)
    return prepare


def chmod(path_in_service: str, mode: int) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        (world.service / path_in_service).chmod(mode)
    return prepare


def wb(*args: str) -> Callable[[World], list[str]]:
    return lambda world: [WHEELBASE, *(a.format(base=world.wheelhouse.ref, root=world.root, **world.refs) for a in args)]


def bake(*args: str) -> Callable[[World], list[str]]:
    return lambda world: ["docker", "buildx", "bake", "--progress", "plain", *args]


def base_bake(*args: str) -> Callable[[World], list[str]]:
    return lambda world: ["docker", "buildx", "bake", "--file", str(REPO / "docker-bake.hcl"), "--print", *args]


def first_pin_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("ARG BASE_IMAGE="))


def move_pin_into_first_stage(text: str) -> str:
    pin = first_pin_line(text)
    text = text.replace(pin + "\n", "", 1)
    return text.replace("FROM ${BASE_IMAGE} AS wheelhouse\n", "FROM ${BASE_IMAGE} AS wheelhouse\n" + pin + "\n", 1)


CASES = [
    Case("name-shell", "service name with shell metacharacters", wb("new", "orders; rm -rf /", "--base", "{base}"), 2),
    Case("name-subshell", "service name with a command substitution", wb("new", "$(whoami)", "--base", "{base}"), 2),
    Case("name-jinja", "service name with Jinja syntax", wb("new", "{{{{ 7*7 }}}}", "--base", "{base}"), 2),
    Case("name-reserved", "reserved service name", wb("new", "Tests", "--base", "{base}"), 2),
    Case("name-empty", "empty service name", wb("new", "", "--base", "{base}"), 2),
    Case("new-exists", "output folder already has the service", wb("new", "Orders API", "--output-dir", "{root}", "--base", "{base}"), 2),
    Case("new-no-output-dir", "output folder does not exist",
         wb("new", "Billing", "--output-dir", "{root}/nowhere", "--base", "{base}"), 2),
    Case("new-base-digest", "--base given with a digest", wb("new", "Billing", "--base", "{base}@sha256:" + "0" * 64), 2),
    Case("new-base-no-tag", "--base without a tag", wb("new", "Billing", "--base", "{untagged}"), 2),
    Case("new-hostile-label", "wheelhouse whose Python-image label is a Jinja expression", wb("new", "Billing", "--base", "{jinja}"), 7),
    Case("new-template-credentials", "--template URL with credentials in it",
         wb("new", "Billing", "--base", "{base}", "--template", "https://someone:s3cr3t-token@127.0.0.1:9/wheelbase"), 2),
    Case("new-template-path", "--template that is a local path, which a service's CI cannot reach",
         wb("new", "Billing", "--base", "{base}", "--template", "{root}"), 2),
    Case("template-jinja", "template variable with Jinja syntax, through cookiecutter itself",
         lambda world: [COOKIECUTTER, "--no-input", "--output-dir", str(world.root / "cc"), str(REPO / "consumer-template"),
                        "service_name={{ 7*7 }}"], 1, prepare=lambda world: (world.root / "cc").mkdir(exist_ok=True)),
    Case("template-slash", "service name with a slash, through cookiecutter itself (no folder may be left)",
         lambda world: [COOKIECUTTER, "--no-input", "--output-dir", str(world.root / "cc"), str(REPO / "consumer-template"),
                        "service_name=orders/api"], 1, prepare=lambda world: (world.root / "cc").mkdir(exist_ok=True)),
    Case("pin-crlf", "Dockerfile with CRLF line endings", wb("pin", DOCKERFILE, "--base", "{base}"), 4,
         prepare=edit(DOCKERFILE, lambda text: text.replace("\n", "\r\n"))),
    Case("pin-malformed", "file that is not a Dockerfile", wb("pin", DOCKERFILE, "--base", "{base}"), 4,
         prepare=write_bytes(DOCKERFILE, b"ARG BASE_IMAGE=x:y\nthis is not a Dockerfile\n")),
    Case("pin-two-pins", "Dockerfile with two candidate pins", wb("pin", DOCKERFILE, "--base", "{base}"), 4,
         prepare=edit(DOCKERFILE, lambda text: first_pin_line(text) + "\n" + text)),
    Case("pin-no-pin", "Dockerfile without a pin", wb("pin", DOCKERFILE, "--base", "{base}"), 4,
         prepare=edit(DOCKERFILE, lambda text: text.replace("ARG BASE_IMAGE=", "ARG SOMETHING_ELSE="))),
    Case("pin-bad-digest", "pin with a malformed digest", wb("pin", DOCKERFILE), 4,
         prepare=edit(DOCKERFILE, lambda text: re.sub(r"(ARG BASE_IMAGE=\S+)@sha256:\w+", r"\1@sha256:nothex", text))),
    Case("pin-not-utf8", "Dockerfile that is not UTF-8", wb("pin", DOCKERFILE, "--base", "{base}"), 8,
         prepare=write_bytes(DOCKERFILE, b"FROM \xff\xfe\n")),
    Case("pin-read-only", "read-only Dockerfile with a stale pin", wb("pin", ".", "--base", "{base}"), 8,
         prepare=lambda world: (edit(DOCKERFILE, lambda text: re.sub(r"(ARG BASE_IMAGE=\S+)@sha256:\w+", r"\1", text))(world),
                                chmod(DOCKERFILE, 0o444)(world))),
    Case("pin-stage-arg", "pin declared inside a stage, where FROM cannot use it", wb("pin", DOCKERFILE), 4,
         prepare=edit(DOCKERFILE, lambda text: move_pin_into_first_stage(text))),
    Case("pin-stale-behind-comment", "bake-file pin with a comment before its stale default", wb("pin", "--check", "."), 5,
         prepare=lambda world: (world.service / "docker-bake.hcl").write_text(
             (world.service / "docker-bake.hcl").read_text().replace(
                 'variable "BASE_IMAGE" {\n  default = ""',
                 f'variable "BASE_IMAGE" {{\n  # kept by wheelbase pin\n  default = "{world.wheelhouse.ref}@sha256:{"0" * 64}"'))),
    Case("pin-base-no-tag", "--base without a tag", wb("pin", ".", "--base", "{untagged}"), 2),
    Case("pin-newline-label", "wheelhouse whose Python-image label holds a newline and a RUN line",
         wb("pin", ".", "--base", "{newline}"), 7),
    Case("pin-platforms-disagree", "wheelhouse whose platforms carry different labels", wb("pin", ".", "--base", "{split}"), 7),
    Case("pin-runtime-mismatch", "runtime tag built on another Python image than its wheelhouse",
         wb("pin", ".", "--base", "{mismatch}"), 7),
    Case("pin-500-named-unauthorized", "registry answering 500 for a repository called unauthorized",
         wb("pin", ".", "--base", "{failing}"), 3),
    Case("pin-no-docker", "WHEELBASE_DOCKER naming no program", wb("pin", ".", "--base", "{base}"), 6,
         env=(("WHEELBASE_DOCKER", "/nowhere/docker"),)),
    Case("pin-bad-timeout", "WHEELBASE_REGISTRY_TIMEOUT that is not a number", wb("pin", ".", "--base", "{base}"), 2,
         env=(("WHEELBASE_REGISTRY_TIMEOUT", "abc"),)),
    Case("resolve-wrong-digest", "digest the registry does not have", wb("resolve", "{base}@sha256:" + "0" * 64), 3),
    Case("pin-missing-tag", "tag that does not exist", wb("pin", ".", "--base", "{base}-nope"), 3),
    Case("pin-refused", "registry that refuses the connection",
         lambda world: [WHEELBASE, "pin", ".", "--base", f"127.0.0.1:{free_port()}/w/wheelhouse:py3.13-debian"], 3),
    Case("pin-401", "registry that answers 401", wb("pin", ".", "--base", "{auth}"), 3),
    Case("pin-timeout", "registry that accepts and never answers", wb("pin", ".", "--base", "{silent}"), 3,
         env=(("WHEELBASE_REGISTRY_TIMEOUT", "3"),)),
    Case("pin-not-wheelhouse", "image that is not a wheelhouse", wb("pin", ".", "--base", "{plain}"), 7),
    Case("pin-bad-reference", "--base that is not an image reference", wb("pin", ".", "--base", "Not An Image"), 2),
    Case("pin-missing-path", "path that does not exist", wb("pin", "no-such-folder"), 2),
    Case("lock-unresolvable", "requirements.in that does not resolve", wb("lock", "."), 7,
         prepare=edit("requirements.in", lambda text: text + "wheelbase-no-such-package-anywhere==1.0\n")),
    Case("lock-conflict", "extra that conflicts with the wheelhouse's pins", wb("lock", "."), 7,
         prepare=edit("requirements.in", lambda text: text + "anyio<4\n")),
    Case("lock-no-bake-file", "lock in a folder without docker-bake.hcl", wb("lock", "app"), 2),
    Case("lock-read-only", "read-only lock file", wb("lock", "."), 8, prepare=chmod("requirements.txt", 0o444)),
    Case("build-conflict", "requirements.txt pinning a shared package to another version", bake("image"), None,
         prepare=each(edit("requirements.txt", lambda text: text + "anyio==3.7.1 \\\n    --hash=sha256:" + "0" * 64 + "\n"),
                      edit("Dockerfile", lambda text: text.replace("ARG EXTRAS=false\n", "ARG EXTRAS=true\n")))),
    Case("build-runtime-mismatch", "runtime image that does not match the wheelhouse", bake("image"), None,
         env=(("RUNTIME_IMAGE", OTHER_PYTHON_IMAGE),)),
    Case("lock-python-mismatch", "Python image for the lock that does not match the wheelhouse", wb("lock", "."), 7,
         env=(("PYTHON_IMAGE", OTHER_PYTHON_IMAGE),)),
    Case("build-extras-switch-off", "requirements.txt listing an extra while the Dockerfile says EXTRAS=false", bake("image"), None,
         prepare=edit("requirements.txt", lambda text: text + "python-multipart==0.0.20 \\\n    --hash=sha256:" + "0" * 64 + "\n")),
    Case("bake-flavor", "unknown FLAVOR", base_bake("base"), None, env=(("FLAVOR", "ubuntu"),)),
    Case("bake-python-version", "unsupported PYTHON_VERSION", base_bake("base"), None, env=(("PYTHON_VERSION", "2.7"),)),
]


def the_message(case: Case, stderr: str) -> str:
    """The one line that says what went wrong and what to do."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    if case.run.__qualname__.startswith("wb") or case.id.startswith(("name", "new", "pin", "lock")):
        assert len(lines) == 1, f"{case.id}: expected one line, got:\n{stderr}"
        return lines[0]
    if case.id.startswith("bake"):
        return re.search(r'cannot parse "([^"]+)"', stderr)[1]  # type: ignore[index]
    return next(re.sub(r"^#\d+ [\d.]+ ", "", line) for line in lines if re.match(r"^(#\d+ [\d.]+ )?error: ", line))


def normalise(text: str, world: World) -> str:
    text = text.replace(str(world.root), "<dir>").replace(RUN_ID, "<run>")
    text = re.sub(r"sha256:[0-9a-f]{64}", "sha256:<digest>", text)
    text = re.sub(r"sha256 [0-9a-f]{16}\.\.\.", "sha256 <digest>...", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
    return text.replace("|", "\\|")


def table_rows() -> dict[str, tuple[str, str, str]]:
    rows = {}
    for line in TABLE.read_text().splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1], cells[2], cells[3].removeprefix("`` ").removesuffix(" ``"))
    return rows


class SilentRegistry:
    """A TCP server on loopback that accepts connections and never answers: a registry that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


class FailingRegistry:
    """An HTTP server on loopback that answers every request with 500: a registry that is broken."""

    def __init__(self) -> None:
        class Answer(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_HEAD = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()


def push_hostile(image: str, labels: dict[str, str], workdir: Path, platforms: str = "linux/amd64") -> None:
    """A tiny image (one file, FROM scratch) with the given labels; `{arch}` in a value becomes each platform's."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "marker").write_text("not a wheelhouse\n")
    per_arch = " ".join(f'{k}="{v.replace("{arch}", "${TARGETARCH}")}"' for k, v in labels.items() if "{arch}" in v)
    (workdir / "Dockerfile").write_text("FROM scratch\nARG TARGETARCH\nCOPY marker /marker\n"
                                        + (f"LABEL {per_arch}\n" if per_arch else ""))
    flags = [arg for k, v in labels.items() if "{arch}" not in v for arg in ("--label", f"{k}={v}")]
    run("docker", "buildx", "build", "--quiet", "--provenance=false", "--platform", platforms, *flags,
        "--tag", image, "--push", str(workdir))


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory, registry: str, wheelhouse: Published) -> Iterator[dict[str, str]]:
    folder = tmp_path_factory.mktemp("registries")
    password = run("htpasswd", "-Bbn", "wheelbase", "not-the-password").stdout
    (folder / "htpasswd").write_text(password)
    port = free_port()
    (folder / "config.yml").write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\nauth:\n  htpasswd:\n    realm: wheelbase-tests\n    path: {folder / 'htpasswd'}\n")
    auth = subprocess.Popen(["docker-registry", "serve", str(folder / "config.yml")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    silent, failing = SilentRegistry(), FailingRegistry()
    plain = f"{registry}/wheelbase-e2e-{RUN_ID}/plain-python:3.13"
    run("docker", "tag", PYTHON_IMAGE, plain)
    run("docker", "push", "--quiet", plain)
    good = {"dev.wheelbase.flavor": "debian", "dev.wheelbase.python.version": "3.13", "dev.wheelbase.python.image": PYTHON_IMAGE}
    hostile = f"{registry}/wheelbase-e2e-{RUN_ID}"
    for name, labels, runtime_labels, platforms in [
        ("jinja", {**good, "dev.wheelbase.python.image": "{{ 7*7 }}"}, None, "linux/amd64"),
        ("newline", {**good, "dev.wheelbase.python.image": "python:3.13\nRUN touch /tmp/pwned"}, None, "linux/amd64"),
        ("split", {**good, "dev.wheelbase.python.image": "localhost/python:3.13-{arch}"}, None, "linux/amd64,linux/arm64"),
        ("mismatch", good, {**good, "dev.wheelbase.python.image": "localhost/python:3.13-slim-bookworm"}, "linux/amd64"),
    ]:
        push_hostile(f"{hostile}/{name}:py3.13-debian", labels, folder / name, platforms)
        push_hostile(f"{hostile}/{name}:py3.13-debian-runtime", runtime_labels or labels, folder / name, platforms)
    try:
        yield {"auth": f"127.0.0.1:{port}/w/wheelhouse:py3.13-debian",
               "silent": f"127.0.0.1:{silent.port}/w/wheelhouse:py3.13-debian",
               "failing": f"127.0.0.1:{failing.port}/unauthorized/wheelhouse:py3.13-debian",
               "plain": plain, "untagged": wheelhouse.ref.rsplit(":", 1)[0],
               **{name: f"{hostile}/{name}:py3.13-debian" for name in ("jinja", "newline", "split", "mismatch")}}
    finally:
        auth.terminate()
        silent.close()
        failing.close()


@pytest.fixture(scope="module")
def pristine(wheelhouse: Published, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pristine")
    wheelbase("new", "Orders API", "--output-dir", str(folder), "--base", wheelhouse.ref)
    return folder / "orders-api"


def run_case(case: Case, world: World) -> tuple[int, str]:
    case.prepare(world)
    before = tree_digest(world.root)
    modes = {p: p.lstat().st_mode for p in world.root.rglob("*")}
    env = {**os.environ, "WHEELBASE_TEMPLATE": f"file://{REPO}", **dict(case.env)}
    done = subprocess.run(case.run(world), cwd=world.service, env=env, capture_output=True, text=True, timeout=600)
    assert tree_digest(world.root) == before, f"{case.id}: a file changed"
    assert {p: p.lstat().st_mode for p in world.root.rglob("*")} == modes, f"{case.id}: a file was added, removed or changed mode"
    assert done.returncode != 0, f"{case.id}: exited 0\n{done.stdout}\n{done.stderr}"
    if case.exit is not None:
        assert done.returncode == case.exit, f"{case.id}: exit {done.returncode}\n{done.stderr}"
    return done.returncode, normalise(the_message(case, done.stderr), world)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_clearly_and_changes_nothing(case: Case, pristine: Path, wheelhouse: Published,
                                                     registries: dict[str, str], tmp_path: Path) -> None:
    root = tmp_path / "work"
    shutil.copytree(pristine.parent, root, symlinks=True)
    world = World(root, root / "orders-api", wheelhouse, registries)
    code, message = run_case(case, world)
    row = (case.input, str(code) if case.exit is not None else "non-zero", message)
    if os.environ.get("WHEELBASE_WRITE_BAD_INPUTS"):
        RESULTS[case.id] = row
        return
    assert table_rows().get(case.id) == row, f"docs/bad-inputs.md is out of date for {case.id}: {row}"


RESULTS: dict[str, tuple[str, str, str]] = {}


def test_the_table_lists_exactly_these_cases() -> None:
    if os.environ.get("WHEELBASE_WRITE_BAD_INPUTS"):
        lines = [
            "# Bad inputs",
            "",
            "Each case gives one line on stderr, a non-zero exit, and leaves every file as it was (checked",
            "by sha256 before and after). Kept true by `tests/e2e/test_bad_inputs.py`; paths, digests and ports",
            "are shown as `<dir>`, `<digest>` and `<port>`. Exit codes of `wheelbase`: 2 usage, 3 registry,",
            "4 pin, 5 stale pin, 6 engine, 7 compatibility, 8 file, 9 audit; `docker buildx` exits 1.",
            "",
            "| case | input | exit | message |",
            "|---|---|---|---|",
            *(f"| `{cid}` | {inp} | {code} | `` {msg} `` |" for cid, (inp, code, msg) in ((c.id, RESULTS[c.id]) for c in CASES)),
        ]
        TABLE.write_text("\n".join(lines) + "\n")
    assert list(table_rows()) == [c.id for c in CASES]
    assert len(CASES) >= 20
