"""Extras that ship only sources: a pure-Python sdist (docopt) and a C extension that links a
system library (psycopg2, libpq), locked, tested and built into a service; compiled once, repaired
so libpq travels inside the wheel, against hash-locked build backends; the deploy image imports
both as UID 10001 with the network cut and holds no compiler, package manager or wheel. Then the
same C extension compiled into the wheelhouse itself and imported from its runtime."""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from support import PYTHON_IMAGE, REPO, RUN_ID, WHEELBASE, Published, copy_from_image, image_files, run, wheelbase

pytestmark = pytest.mark.e2e
IMPORT_BOTH = "import docopt, psycopg2, psycopg2.extensions; print('imported', psycopg2.__version__, psycopg2.extensions.libpq_version())"


@pytest.fixture(scope="module")
def compiled_service(wheelhouse: Published, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service whose extras are built from sdists: docopt (pure) and psycopg2, which links libpq. Its first
    lock, without libpq's headers, fails saying pip's reason and the line to add; with that line, it locks."""
    out = tmp_path_factory.mktemp("compiled")
    wheelbase("new", "Compiled Extras", "--output-dir", str(out), "--base", wheelhouse.ref)
    service = out / "compiled-extras"
    (service / "requirements.in").write_text("docopt\npsycopg2==2.9.13\n")
    env = {"WHEELBASE_TEMPLATE": f"file://{REPO}"}
    refused = run(WHEELBASE, "lock", str(service), env=env, check=False)
    assert refused.returncode == 7, refused.stderr
    (message,) = refused.stderr.strip().splitlines()
    assert "Error: pg_config executable not found." in message, "pip's own reason"
    line = re.search(r"add `(debian: [^`]+)` to build-packages.txt", message)
    assert line and line.group(1) == "debian: libpq-dev", message
    (service / "build-packages.txt").write_text((service / "build-packages.txt").read_text() + line.group(1) + "\n")
    locked = run(WHEELBASE, "lock", str(service), env=env)
    assert re.search(r"lock: requirements.txt: \d+ pins in \d+ s", locked.stdout)
    return service


def test_an_sdist_only_service_locks_tests_and_builds(compiled_service: Path, tmp_path: Path) -> None:
    lock = (compiled_service / "requirements.txt").read_text()
    assert re.search(r"^docopt==\S+ \\\n\s+--hash=sha256:", lock, re.MULTILINE)
    assert re.search(r"^psycopg2==\S+ \\\n\s+--hash=sha256:", lock, re.MULTILINE)
    assert "ARG EXTRAS=true\n" in (compiled_service / "Dockerfile").read_text()
    assert re.search(r"^setuptools==\S+ \\", (compiled_service / "requirements-build.txt").read_text(), re.MULTILINE)
    image = f"compiled-{RUN_ID}"
    built = run("docker", "buildx", "bake", "--progress", "plain", "test", "image", "--no-cache", cwd=compiled_service,
                env={"IMAGE": image})  # no cache: the compile itself is what is checked
    assert "no wheel for docopt, psycopg2; compiling" in built.stderr
    assert "--no-build-isolation" in built.stderr and "repairing psycopg2-" in built.stderr
    # libpq-dev from build-packages.txt; python3-dev only because the stand-in's Debian Python has no Python.h
    assert re.search(r"\+ apt-get install -y -qq --no-install-recommends gcc libc6-dev make (python3-dev )?libpq-dev", built.stderr)

    done = run("docker", "run", "--rm", "--network", "none", "--user", "10001:10001", f"{image}:dev", "python", "-c", IMPORT_BOTH)
    assert done.stdout.startswith("imported ")
    tools = run("docker", "run", "--rm", f"{image}:dev", "sh", "-c",
                "for tool in gcc cc make apt apt-get dpkg apk pip pip3; do command -v $tool; done; true").stdout.split()
    assert tools == []
    layers = image_files(f"{image}:dev", tmp_path)
    everything = [n for names in layers.values() for n in names]
    assert [n for n in everything if n.endswith(".whl")] == []
    assert any(re.search(r"psycopg2[^/]*\.libs/libpq", n) for n in everything), "libpq did not travel inside the wheel"


def test_a_tampered_build_backend_lock_fails_the_build(compiled_service: Path, tmp_path: Path) -> None:
    """The build backends are installed from their hash-checked lock: a changed hash stops the compile."""
    service = tmp_path / "tampered"
    subprocess.run(["cp", "-r", str(compiled_service), str(service)], check=True)
    backends = service / "requirements-build.txt"
    text = backends.read_text()
    block = re.search(r"^setuptools==\S+(?: \\\n\s+--hash=sha256:[0-9a-f]{64})+", text, re.MULTILINE)
    assert block is not None
    backends.write_text(text.replace(block.group(0), re.sub(r"[0-9a-f]{64}", "0" * 64, block.group(0))))
    done = run("docker", "buildx", "bake", "--progress", "plain", "image", "--no-cache", cwd=service,
               env={"IMAGE": f"tampered-{RUN_ID}"}, check=False)
    assert done.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in done.stderr


def test_a_missing_system_package_is_named_with_where_to_add_it(compiled_service: Path, tmp_path: Path) -> None:
    service = tmp_path / "no-libpq"
    subprocess.run(["cp", "-r", str(compiled_service), str(service)], check=True)
    (service / "build-packages.txt").write_text("# nothing\n")
    done = run("docker", "buildx", "bake", "--progress", "plain", "image", "--no-cache", cwd=service,
               env={"IMAGE": f"no-libpq-{RUN_ID}"}, check=False)
    assert done.returncode != 0
    (message,) = {line.split("error: ", 1)[1] for line in done.stderr.splitlines()
                  if re.match(r"^#\d+ [\d.]+ error: compiling", line)}
    assert message.startswith("compiling psycopg2")
    assert "add `debian: libpq-dev` to build-packages.txt" in message
    assert "Its build said: Error: pg_config executable not found." in message


def test_the_same_extension_compiled_into_the_wheelhouse_imports_from_the_runtime(registry: str, tmp_path: Path) -> None:
    """The organisation-wide way: psycopg2 added to the wheelhouse's requirements.in, compiled once."""
    checkout = tmp_path / "wheelbase"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(checkout)], check=True)
    base = checkout / "base-image"
    (base / "requirements.in").write_text((base / "requirements.in").read_text() + "psycopg2\n")
    (base / "build-packages.txt").write_text((base / "build-packages.txt").read_text() + "debian: libpq-dev\n")
    env = {"FLAVOR": "debian", "PYTHON_VERSION": "3.13", "PYTHON_IMAGE": PYTHON_IMAGE}
    run(str(REPO / ".venv" / "bin" / "wheelbase"), "lock", str(checkout), env=env)
    assert re.search(r"^psycopg2==", (base / "requirements.txt").read_text(), re.MULTILINE)
    image = f"{registry}/wheelbase-e2e-{RUN_ID}/with-psycopg2"
    run("docker", "buildx", "bake", "--progress", "plain", "release", "--push", cwd=checkout,
                env={**env, "IMAGE": image})
    copy_from_image(f"{image}:py3.13-debian", "/wheels", tmp_path)
    (wheel,) = (tmp_path / "wheels").glob("psycopg2-*.whl")
    assert re.search(r"-cp313-cp313-[\w.]*manylinux_2_\d+_x86_64[\w.]*\.whl$", wheel.name), wheel.name  # repaired by auditwheel
    assert any(name.startswith("psycopg2.libs/libpq") for name in zipfile.ZipFile(wheel).namelist())
    done = run("docker", "run", "--rm", "--network", "none", "--user", "10001:10001", f"{image}:py3.13-debian-runtime",
               "python", "-c", "import psycopg2.extensions; print('imported', psycopg2.extensions.libpq_version())")
    assert done.stdout.startswith("imported ")
