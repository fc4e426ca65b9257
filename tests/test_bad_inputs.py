"""Every bad input the CLI meets that needs no engine: wheelbase as a user runs it, on a service
rendered from the template and pinned to a registry on loopback (tests/fake_registry.py) that
holds a wheelhouse and its runtime with the labels this checkout's bake file gives them, and
hostile images beside them. Each case: one actionable line, its exit code, no traceback under
`-W error` and a strict UTF-8 stdout, and every file as it was (hash, mode, owner, group).
The table of messages is docs/bad-inputs.md's unit section (see tests/bad_inputs.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bad_inputs import Case, World, check_row, run_case, snapshot, write_rows
from fake_registry import FakeRegistry, SilentRegistry

from support import PYTHON_IMAGE, REPO, WHEELBASE, bake_env, free_port, run

pytestmark = pytest.mark.filterwarnings("error")
COOKIECUTTER = str(REPO / ".venv" / "bin" / "cookiecutter")
DOCKERFILE = "Dockerfile"
SECRET = "s3cr3t-t0ken-value"
IS_ROOT = os.geteuid() == 0
NOBODY = 65534


def wb(*args: str) -> Callable[[World], list[str]]:
    return lambda world: [WHEELBASE, *(a.format(base=world.base, root=world.root, **world.refs) for a in args)]


def edit(name: str, change: Callable[[str], str]) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        path = world.service / name
        path.write_text(change(path.read_text()))
    return prepare


def write(name: str, data: bytes | str) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        path = world.service / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return prepare


def each(*steps: Callable[[World], None]) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        for step in steps:
            step(world)
    return prepare


def first_pin_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("ARG BASE_IMAGE="))


def stale(text: str) -> str:
    """The pins without their digests: what `pin` would write."""
    return re.sub(r"(ARG (?:BASE|RUNTIME)_IMAGE=\S+)@sha256:\w+", r"\1", text)


def rewritten(text: str, pattern: str, replacement: str) -> str:
    """The text with the pattern's first match replaced; a case whose form did not apply fails."""
    changed, count = re.subn(pattern, replacement, text, count=1)
    assert count == 1, f"{pattern!r} is not in the file: the case would not test its form"
    return changed


def move_pin_into_first_stage(text: str) -> str:
    pin = first_pin_line(text)
    text = text.replace(pin + "\n", "", 1)
    return text.replace("FROM ${BASE_IMAGE} AS wheelhouse\n", "FROM ${BASE_IMAGE} AS wheelhouse\n" + pin + "\n", 1)


def fifo(name: str) -> Callable[[World], None]:
    return lambda world: os.mkfifo(world.service / name)


def symlink(name: str, target: str) -> Callable[[World], None]:
    return lambda world: (world.service / name).symlink_to(target)


def hard_link(name: str, other: str) -> Callable[[World], None]:
    return lambda world: os.link(world.service / name, world.service / other)


def unlistable(folder: str) -> Callable[[World], None]:
    def prepare(world: World) -> None:
        (world.service / folder).mkdir()
        (world.service / folder).chmod(0o700)  # root's; the case runs as nobody
        for path in [world.root, *world.root.rglob("*")]:
            if path != world.service / folder and not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o005)  # everything else readable by nobody
    return prepare


def full_disk(world: World) -> None:
    """The service on a 1 MiB file system that is full (root: mount a tmpfs), with a stale pin to write."""
    place = world.root / "full"
    place.mkdir()
    run("mount", "-t", "tmpfs", "-o", "size=1m", "wheelbase-full", str(place))
    shutil.copytree(world.service, place / "svc", symlinks=True)
    (place / "svc" / DOCKERFILE).write_text(stale((place / "svc" / DOCKERFILE).read_text()))
    subprocess.run(["dd", "if=/dev/zero", f"of={place / 'filler'}", "bs=64k"], capture_output=True, check=False)  # until it is full


def read_only_folder(world: World) -> None:
    """An output folder on a read-only file system (root: a read-only bind mount)."""
    place = world.root / "read-only"
    place.mkdir()
    run("mount", "--bind", str(place), str(place))
    run("mount", "-o", "remount,bind,ro", str(place))


NEEDS_ROOT = {"new-read-only-output", "new-disk-full", "pin-disk-full", "pin-unlistable-folder", "pin-group-not-member"}

CASES = [
    Case("name-shell", "service name with shell metacharacters", wb("new", "orders; rm -rf /", "--base", "{base}"), 2),
    Case("name-subshell", "service name with a command substitution", wb("new", "$(whoami)", "--base", "{base}"), 2),
    Case("name-jinja", "service name with Jinja syntax", wb("new", "{{{{ 7*7 }}}}", "--base", "{base}"), 2),
    Case("name-reserved", "reserved service name", wb("new", "Tests", "--base", "{base}"), 2),
    Case("name-empty", "empty service name", wb("new", "", "--base", "{base}"), 2),
    Case("name-trailing-newline", "service name ending in a newline", wb("new", "Orders\n", "--base", "{base}"), 2),
    Case("name-control-character", "service name with a terminal escape sequence", wb("new", "Orders\x1b[31m", "--base", "{base}"), 2),
    Case("new-exists", "output folder already has the service", wb("new", "Orders API", "--output-dir", "{root}", "--base", "{base}"), 2),
    Case("new-symlink-in-the-way", "a symlink to nothing where the service folder would go",
         wb("new", "Billing", "--output-dir", "{root}", "--base", "{base}"), 2,
         prepare=lambda world: (world.root / "billing").symlink_to(world.root / "nowhere")),
    Case("new-no-output-dir", "output folder does not exist",
         wb("new", "Billing", "--output-dir", "{root}/nowhere", "--base", "{base}"), 2),
    Case("new-output-name-too-long", "output folder whose name is longer than the file system allows",
         wb("new", "Billing", "--output-dir", "{root}/" + "x" * 300, "--base", "{base}"), 2),
    Case("new-read-only-output", "output folder on a read-only file system",
         wb("new", "Billing", "--output-dir", "{root}/read-only", "--base", "{base}"), 8, prepare=read_only_folder),
    Case("new-disk-full", "output folder on a full disk", wb("new", "Billing", "--output-dir", "{root}/full", "--base", "{base}"), 8,
         prepare=full_disk),
    Case("new-base-digest", "--base given with a digest", wb("new", "Billing", "--base", "{base}@sha256:" + "0" * 64), 2),
    Case("new-base-no-tag", "--base without a tag", wb("new", "Billing", "--base", "{untagged}"), 2),
    Case("new-hostile-label", "wheelhouse whose Python-image label is a Jinja expression", wb("new", "Billing", "--base", "{jinja}"), 7),
    Case("new-template-credentials", "--template URL with credentials in it",
         wb("new", "Billing", "--base", "{base}", "--template", f"https://someone:{SECRET}@127.0.0.1:9/wheelbase"), 2),
    Case("new-template-credentials-env", "WHEELBASE_TEMPLATE with credentials in it", wb("new", "Billing", "--base", "{base}"), 2,
         env=(("WHEELBASE_TEMPLATE", f"https://someone:{SECRET}@127.0.0.1:9/wheelbase"),)),
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
         prepare=write(DOCKERFILE, "ARG BASE_IMAGE=x:y\nthis is not a Dockerfile\n")),
    Case("pin-two-pins", "Dockerfile with two candidate pins", wb("pin", DOCKERFILE, "--base", "{base}"), 4,
         prepare=edit(DOCKERFILE, lambda text: first_pin_line(text) + "\n" + text)),
    Case("pin-no-pin", "Dockerfile without a pin", wb("pin", DOCKERFILE, "--base", "{base}"), 4,
         prepare=edit(DOCKERFILE, lambda text: text.replace("ARG BASE_IMAGE=", "ARG SOMETHING_ELSE="))),
    Case("pin-bad-digest", "pin with a malformed digest", wb("pin", DOCKERFILE), 4,
         prepare=edit(DOCKERFILE, lambda text: re.sub(r"(ARG BASE_IMAGE=\S+)@sha256:\w+", r"\1@sha256:nothex", text))),
    Case("pin-not-utf8", "Dockerfile that is not UTF-8", wb("pin", DOCKERFILE, "--base", "{base}"), 8,
         prepare=write(DOCKERFILE, b"FROM \xff\xfe\n")),
    Case("pin-read-only", "read-only Dockerfile with a stale pin", wb("pin", ".", "--base", "{base}"), 8,
         prepare=each(edit(DOCKERFILE, stale), lambda world: (world.service / DOCKERFILE).chmod(0o444))),
    Case("pin-hard-link", "Dockerfile with a second hard link, and a stale pin", wb("pin", "."), 8,
         prepare=each(edit(DOCKERFILE, stale), hard_link(DOCKERFILE, "linked.txt"))),
    Case("pin-disk-full", "service on a full disk, with a stale pin", wb("pin", "{root}/full/svc"), 8, prepare=full_disk),
    Case("pin-group-not-member", "Dockerfile owned by its user but by a group the user is not in, with a stale pin",
         wb("pin", "."), 8, as_user=NOBODY,
         prepare=each(edit(DOCKERFILE, stale),
                      lambda world: [os.chown(p, NOBODY, 0) for p in [world.service, world.service / DOCKERFILE]])),
    Case("pin-stage-arg", "pin declared inside a stage, where FROM cannot use it", wb("pin", DOCKERFILE), 4,
         prepare=edit(DOCKERFILE, move_pin_into_first_stage)),
    Case("pin-heredoc-unterminated", "Dockerfile whose heredoc never ends (BuildKit refuses it)", wb("pin", "--check", "."), 4,
         prepare=edit(DOCKERFILE, lambda text: text + "RUN <<EOT\necho never ends\n")),
    Case("pin-bake-interpolated", "bake file whose BASE_IMAGE default is an interpolation", wb("pin", "--check", "."), 4,
         prepare=edit("docker-bake.hcl", lambda text: text.replace('variable "BASE_IMAGE" {\n  default = ""',
                                                                   'variable "BASE_IMAGE" {\n  default = "${REGISTRY}/w:py3.13"'))),
    Case("pin-compose-from-environment", "compose file passing BASE_IMAGE from the environment", wb("pin", "--check", "."), 4,
         prepare=edit("compose.yaml", lambda text: text.replace("      target: dev\n",
                                                                "      target: dev\n      args:\n        - BASE_IMAGE\n"))),
    Case("pin-stale-behind-comment", "bake-file pin with a comment before its stale default", wb("pin", "--check", "."), 5,
         prepare=lambda world: (world.service / "docker-bake.hcl").write_text(
             (world.service / "docker-bake.hcl").read_text().replace(
                 'variable "BASE_IMAGE" {\n  default = ""',
                 f'variable "BASE_IMAGE" {{\n  # kept by wheelbase pin\n  default = "{world.base}@sha256:{"0" * 64}"'))),
    # Stale pins in every form BuildKit and bake accept: pin --check is never green over them (exit 5).
    Case("pin-check-stale-from-continued", "stale pins, FROM continued onto the next line", wb("pin", "--check", "."), 5,
         prepare=edit(DOCKERFILE, lambda text: rewritten(stale(text), r"FROM \$\{BASE_IMAGE\} AS wheelhouse",
                                                         r"FROM \\\n    ${BASE_IMAGE} AS wheelhouse"))),
    Case("pin-check-stale-empty-line-in-arg", "stale pins in one ARG continued across an empty line",
         wb("pin", "--check", "."), 5,
         prepare=edit(DOCKERFILE, lambda text: rewritten(stale(text), r"\nARG RUNTIME_IMAGE=", r" \\\n\n    RUNTIME_IMAGE="))),
    Case("pin-check-stale-tab-after-keyword", "stale pins with a tab after ARG and FROM", wb("pin", "--check", "."), 5,
         prepare=edit(DOCKERFILE, lambda text: rewritten(rewritten(stale(text), r"ARG BASE_IMAGE=", "ARG\tBASE_IMAGE="),
                                                         r"FROM \$\{BASE_IMAGE\}", "FROM\t${BASE_IMAGE}"))),
    Case("pin-check-stale-bare-hcl-label", "bake file whose BASE_IMAGE variable has a bare label and a stale default",
         wb("pin", "--check", "."), 5,
         prepare=lambda world: (world.service / "docker-bake.hcl").write_text(
             rewritten((world.service / "docker-bake.hcl").read_text(), 'variable "BASE_IMAGE" {\n  default = ""',
                       f'variable BASE_IMAGE {{\n  default = "{world.base}@sha256:{"0" * 64}"'))),
    Case("pin-check-stale-after-hcl-heredoc", "bake file with a heredoc holding a fake BASE_IMAGE before the stale one",
         wb("pin", "--check", "."), 5,
         prepare=lambda world: (world.service / "docker-bake.hcl").write_text(
             'variable "NOTES" {\n  default = <<EOT\nvariable "BASE_IMAGE" { default = "fake:1" }\nEOT\n}\n'
             + rewritten((world.service / "docker-bake.hcl").read_text(), 'variable "BASE_IMAGE" {\n  default = ""',
                         f'variable "BASE_IMAGE" {{\n  default = "{world.base}@sha256:{"0" * 64}"'))),
    Case("pin-fifo", "a FIFO named like a Dockerfile in the folder (never opened, so no hang)", wb("pin", "--check", "{root}"), 8,
         prepare=fifo("prod.Dockerfile")),
    Case("pin-dangling-symlink", "a Dockerfile that is a symlink to nothing", wb("pin", "--check", "{root}"), 8,
         prepare=symlink("old.Dockerfile", "gone/Dockerfile")),
    Case("pin-unlistable-folder", "a folder the user cannot list under the path", wb("pin", "--check", "{root}"), 8,
         as_user=NOBODY, prepare=unlistable("private")),
    Case("pin-huge-line", "a Dockerfile with a 30 MB line", wb("pin", "--check", "{root}"), 8,
         prepare=write("big/Dockerfile", "ARG BASE_IMAGE=" + "x" * (30 << 20) + "\nFROM ${BASE_IMAGE} AS wheelhouse\n")),
    Case("pin-name-too-long", "a path longer than the file system allows", wb("pin", "x" * 300), 2),
    Case("pin-escape-sequence-path", "a path holding a terminal escape sequence and bytes that are not UTF-8",
         lambda world: [WHEELBASE, "pin", os.fsdecode(b"no-such-\x1b[31m-\xff-folder")], 2),
    Case("pin-secret-in-output", "a path that holds the value of a secret environment variable",
         wb("pin", f"no-such-{SECRET}-folder"), 2, env=(("REGISTRY_TOKEN", SECRET),)),
    Case("pin-base-no-tag", "--base without a tag", wb("pin", ".", "--base", "{untagged}"), 2),
    Case("pin-newline-label", "wheelhouse whose Python-image label holds a newline and a RUN line",
         wb("pin", ".", "--base", "{newline}"), 7),
    Case("pin-platforms-disagree", "wheelhouse whose platforms carry different labels", wb("pin", ".", "--base", "{split}"), 7),
    Case("pin-runtime-mismatch", "runtime tag built on another Python image than its wheelhouse",
         wb("pin", ".", "--base", "{mismatch}"), 7),
    Case("pin-other-interface", "wheelhouse that speaks another interface than the Dockerfile",
         wb("pin", ".", "--base", "{other_interface}"), 7),
    Case("pin-500-named-unauthorized", "registry answering 500 for a repository called unauthorized",
         wb("pin", ".", "--base", "{failing}"), 3),
    Case("pin-token-service-404", "registry whose token service answers 404", wb("pin", ".", "--base", "{token_404}"), 3),
    Case("pin-401", "registry that answers 401", wb("pin", ".", "--base", "{auth}"), 3),
    Case("pin-no-docker", "WHEELBASE_DOCKER naming no program", wb("pin", ".", "--base", "{base}"), 6,
         env=(("WHEELBASE_DOCKER", "/nowhere/docker"),)),
    Case("pin-bad-timeout", "WHEELBASE_REGISTRY_TIMEOUT that is not a number", wb("pin", ".", "--base", "{base}"), 2,
         env=(("WHEELBASE_REGISTRY_TIMEOUT", "abc"),)),
    Case("resolve-wrong-digest", "digest the registry does not have", wb("resolve", "{base}@sha256:" + "0" * 64), 3),
    Case("pin-missing-tag", "tag that does not exist", wb("pin", ".", "--base", "{base}-nope"), 3),
    Case("pin-refused", "registry that refuses the connection",
         lambda world: [WHEELBASE, "pin", ".", "--base", f"127.0.0.1:{free_port()}/w/wheelhouse:py3.13-debian"], 3),
    Case("pin-timeout", "registry that accepts and never answers", wb("pin", ".", "--base", "{silent}"), 3,
         env=(("WHEELBASE_REGISTRY_TIMEOUT", "3"),)),
    Case("pin-not-wheelhouse", "image that is not a wheelhouse", wb("pin", ".", "--base", "{plain}"), 7),
    Case("pin-bad-reference", "--base that is not an image reference", wb("pin", ".", "--base", "Not An Image"), 2),
    Case("pin-missing-path", "path that does not exist", wb("pin", "no-such-folder"), 2),
    Case("pin-stdout-full", "standard output on a full device, once the pins are written", wb("pin", "."), 0,
         prepare=edit(DOCKERFILE, stale), may_change=(DOCKERFILE,), stdout="full"),
    Case("pin-stdout-closed", "standard output closed, once the pins are written", wb("pin", "."), 0,
         prepare=edit(DOCKERFILE, stale), may_change=(DOCKERFILE,), stdout="closed"),
    Case("lock-no-bake-file", "lock in a folder without docker-bake.hcl", wb("lock", "app"), 2),
    Case("lock-dangling-lock-file", "lock whose requirements.txt is a symlink to nothing", wb("lock", "."), 8,
         prepare=each(lambda world: (world.service / "requirements.txt").unlink(), symlink("requirements.txt", "gone.txt"))),
    Case("audit-fifo", "audit of a FIFO (never opened, so no hang)",
         wb("audit", "requirements.fifo"), 8, prepare=fifo("requirements.fifo")),
    Case("bench-out-dir-under-a-file", "bench --out-dir under a file", wb("bench", "--quick", "--out-dir", "README.md/bench"), 8),
    Case("bake-flavor", "unknown FLAVOR", lambda world: ["docker", "buildx", "bake", "--file", str(REPO / "docker-bake.hcl"),
                                                        "--print", "base"], None, env=(("FLAVOR", "ubuntu"),)),
    Case("bake-python-version", "unsupported PYTHON_VERSION", lambda world: ["docker", "buildx", "bake", "--file",
                                                                            str(REPO / "docker-bake.hcl"), "--print", "base"],
         None, env=(("PYTHON_VERSION", "2.7"),)),
]


@pytest.fixture(scope="module")
def world_parts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, dict[str, str]]]:
    """A registry holding a wheelhouse and runtime labelled as this checkout's bake file labels them,
    hostile images, odd registries, and a service pinned there: a folder each case gets a copy of."""
    good, odd = FakeRegistry(), FakeRegistry()
    failing, auth, token = FakeRegistry(status=500), FakeRegistry(status=401), FakeRegistry(token_service_status=404)
    silent = SilentRegistry()
    image = f"{good.host}/w/wheelhouse"
    targets = json.loads(run("docker", "buildx", "bake", "--print", "release", cwd=REPO, env=bake_env(image)).stdout)["target"]
    labels = targets["base"]["labels"]
    tag, runtime_tag = (t.rsplit(":", 1)[1] for t in (targets["base"]["tags"][0], targets["runtime"]["tags"][0]))
    for repository, wheelhouse, runtime in [
        ("w/wheelhouse", labels, labels),
        ("jinja", {**labels, "dev.wheelbase.python.image": "{{ 7*7 }}"}, None),
        ("newline", {**labels, "dev.wheelbase.python.image": "python:3.13\nRUN touch /tmp/pwned"}, None),
        ("mismatch", labels, {**labels, "dev.wheelbase.python.image": PYTHON_IMAGE.replace("trixie", "bookworm")}),
        ("other-interface", {**labels, "dev.wheelbase.interface": "2"}, {**labels, "dev.wheelbase.interface": "2"}),
    ]:
        odd_or_good = good if repository == "w/wheelhouse" else odd
        odd_or_good.push(repository, tag, {"linux/amd64": wheelhouse})
        odd_or_good.push(repository, runtime_tag, {"linux/amd64": runtime or wheelhouse})
    odd.push("split", tag, {"linux/amd64": labels, "linux/arm64": {**labels, "dev.wheelbase.python.image": "python:3.12"}})
    odd.push("split", runtime_tag, {"linux/amd64": labels})
    odd.push("plain", "3.13", {"linux/amd64": {"org.opencontainers.image.title": "a Python image"}})
    folder = tmp_path_factory.mktemp("pristine")
    run(COOKIECUTTER, "--no-input", "--output-dir", str(folder), str(REPO / "consumer-template"), "service_name=Orders API")
    run(WHEELBASE, "pin", str(folder / "orders-api"), "--base", f"{image}:{tag}")
    refs = {"untagged": image, "silent": f"{silent.host}/w/wheelhouse:{tag}",
            "failing": f"{failing.host}/unauthorized/wheelhouse:{tag}", "auth": f"{auth.host}/w/wheelhouse:{tag}",
            "token_404": f"{token.host}/w/wheelhouse:{tag}", "plain": f"{odd.host}/plain:3.13",
            **{name.replace("-", "_"): f"{odd.host}/{name}:{tag}" for name in ("jinja", "newline", "split", "mismatch",
                                                                                 "other-interface")}}
    try:
        yield folder, f"{image}:{tag}", refs
    finally:
        for registry in (good, odd, failing, auth, token):
            registry.close()
        silent.close()


RESULTS: dict[str, tuple[str, str, str]] = {}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_fails_clearly_and_changes_nothing(case: Case, world_parts: tuple[Path, str, dict[str, str]],
                                                     tmp_path: Path) -> None:
    if case.id in NEEDS_ROOT and not IS_ROOT:
        pytest.skip("sets up a mount or another user: needs root (CI runs it as root)")
    pristine, base, refs = world_parts
    root = Path(tempfile.mkdtemp(prefix="wheelbase-bad-"))  # where another user can reach it, unlike tmp_path
    shutil.copytree(pristine, root, symlinks=True, dirs_exist_ok=True)
    root.chmod(0o755)  # copytree gave it the pristine folder's mode
    world = World(root, root / "orders-api", base, refs)
    try:
        code, message = run_case(case, world)
    finally:
        for mount in ("full", "read-only"):
            if (root / mount).is_mount():
                subprocess.run(["umount", str(root / mount)], check=False)
        shutil.rmtree(root, ignore_errors=True)
    if case.id.startswith("pin-secret") or "credentials" in case.id:
        assert SECRET not in message
    check_row("unit", case, code, message, RESULTS)


def test_the_table_lists_exactly_these_cases() -> None:
    from bad_inputs import table_rows

    if os.environ.get("WHEELBASE_WRITE_BAD_INPUTS"):
        write_rows("unit", [c for c in CASES if c.id in RESULTS], RESULTS)
    assert list(table_rows("unit")) == [c.id for c in CASES if IS_ROOT or c.id not in NEEDS_ROOT or c.id in table_rows("unit")]


def test_snapshot_sees_mode_owner_and_symlinks(tmp_path: Path) -> None:
    """The check every case rests on can fail: it notices a mode, an owner and a symlink's target."""
    (tmp_path / "a").write_text("x")
    (tmp_path / "b").symlink_to("a")
    before = snapshot(tmp_path)
    (tmp_path / "a").chmod(0o600)
    assert snapshot(tmp_path) != before
    (tmp_path / "b").unlink()
    (tmp_path / "b").symlink_to("c")
    assert snapshot(tmp_path)["b"][0] == "-> c"
