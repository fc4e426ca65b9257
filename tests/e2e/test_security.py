"""Supply chain and secrets, on the real engine and registry: build secrets leave no trace in any
image, a tampered wheelhouse cannot be installed, and the wheelhouse builds reproducibly."""

from __future__ import annotations

import gzip
import json
import re
import tarfile
import uuid
from pathlib import Path

import pytest

from support import PYTHON_IMAGE, REPO, RUN_ID, STANDINS, WHEELBASE, Published, bake_env, copy_from_image, release_tags, run, wheelbase

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A proxy CA bundle and a pip.conf with an index token, each carrying bytes no image may hold."""
    folder = tmp_path_factory.mktemp("secrets")
    marker = uuid.uuid4().hex
    ca = folder / "proxy-ca.pem"
    ca.write_text(Path("/etc/ssl/certs/ca-certificates.crt").read_text() + f"\n# proxy-ca-{marker}\n")
    token = f"tok{marker[:16]}"
    # An extra index that refuses at once (port 9 on loopback): pip reads the credentials, uses PyPI.
    conf = folder / "pip.conf"
    conf.write_text(f"[global]\nextra-index-url = https://wheelbase-ci:{token}@127.0.0.1:9/simple\nretries = 0\ntimeout = 5\n")
    return {"PIP_CERT": str(ca), "PIP_CONFIG_FILE": str(conf), "ca_marker": f"proxy-ca-{marker}", "token": token}


def leaks(blob: bytes, secrets: dict[str, str]) -> list[str]:
    return [name for name in ("ca_marker", "token") if secrets[name].encode() in blob]


def uncompressed(blob: bytes) -> bytes:
    """A saved blob as its bytes: the containerd image store saves layers gzip-compressed."""
    if blob.startswith(b"\x1f\x8b"):
        return gzip.decompress(blob)
    assert not blob.startswith(b"\x28\xb5\x2f\xfd"), "a zstd layer: this scan cannot read it"
    return blob


def scan_image(image: str, secrets: dict[str, str], workdir: Path) -> list[str]:
    """Every byte of `docker save` (layers and config), `docker history --no-trunc` and the inspect JSON."""
    archive = workdir / f"{uuid.uuid4().hex}.tar"
    run("docker", "save", image, "--output", str(archive))
    found = []
    with tarfile.open(archive) as saved:
        for member in saved.getmembers():
            if member.isfile():
                blob = uncompressed(saved.extractfile(member).read())  # type: ignore[union-attr]
                found += [f"{image} {member.name}: {what}" for what in leaks(blob, secrets)]
    archive.unlink()
    history = run("docker", "history", "--no-trunc", "--format", "{{json .}}", image).stdout
    inspect = run("docker", "image", "inspect", image).stdout
    found += [f"{image} history: {what}" for what in leaks(history.encode(), secrets)]
    found += [f"{image} config: {what}" for what in leaks(inspect.encode(), secrets)]
    return found


def test_the_scan_finds_a_secret_written_into_a_layer(secrets: dict[str, str], tmp_path: Path) -> None:
    """The scan below can fail: a secret that did reach a layer (compressed by the image store) is found."""
    context = tmp_path / "leaky"
    context.mkdir()
    (context / "pip.conf").write_text(f"token = {secrets['token']}\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY pip.conf /etc/pip.conf\n")
    image = f"wheelbase-e2e-leaky-{RUN_ID}"
    run("docker", "build", "--quiet", "--tag", image, str(context))
    found = scan_image(image, secrets, tmp_path)
    assert any(line.startswith(f"{image} blobs/") and line.endswith(": token") for line in found), found


def test_build_secrets_appear_in_no_image_history_or_config(registry: str, secrets: dict[str, str], tmp_path: Path) -> None:
    image = f"{registry}/wheelbase-e2e-{RUN_ID}/secrets"
    env = {**bake_env(image), "PIP_CERT": secrets["PIP_CERT"], "PIP_CONFIG_FILE": secrets["PIP_CONFIG_FILE"]}
    # With the provenance the publish workflow attaches (mode=max records every step and build arg).
    built = run("docker", "buildx", "bake", "release", "--push", "--no-cache", "--progress", "plain",
                "--set", "*.attest=type=provenance,mode=max", cwd=REPO, env=env)
    assert "127.0.0.1:9" in built.stderr, "pip did not read the pip.conf secret"
    assert secrets["token"] not in built.stderr, "pip printed the index token"
    definition = run("docker", "buildx", "bake", "--print", "release", cwd=REPO, env=env).stdout
    assert secrets["token"] not in definition and secrets["PIP_CONFIG_FILE"] not in json.dumps(
        json.loads(definition)["target"]["base"]["args"]), "a secret reached the build args (and so provenance)"
    for published in (f"{image}:py3.13-debian", f"{image}:py3.13-debian-runtime"):
        provenance = run("docker", "buildx", "imagetools", "inspect", published, "--format", "{{json .Provenance}}").stdout
        assert '"id": "pip_conf"' in provenance, f"{published}: no provenance recording the secret mounts"
        assert leaks(provenance.encode(), secrets) == [], f"{published}: a secret is in its provenance"

    wheelbase("new", "Secret Keeper", "--output-dir", str(tmp_path), "--base", f"{image}:py3.13-debian")
    service = tmp_path / "secret-keeper"
    (service / "requirements.in").write_text("python-multipart\n")
    run(WHEELBASE, "lock", str(service), env=env)  # the lock, and the Dockerfile's EXTRAS switch
    run("docker", "buildx", "bake", "test", "image", "--no-cache", cwd=service,
        env={**env, "IMAGE": f"secret-keeper-{RUN_ID}", "PYTHON_IMAGE": ""})

    found = []
    for built_image in (f"{image}:py3.13-debian", f"{image}:py3.13-debian-runtime", f"secret-keeper-{RUN_ID}:dev"):
        found += scan_image(built_image, secrets, tmp_path)
    assert found == []


def test_a_tampered_wheel_in_a_wheelhouse_fails_the_consumer_build(wheelhouse: Published, registry: str, tmp_path: Path) -> None:
    """A wheelhouse image whose fastapi wheel changed after its lock was written: every service step
    that installs from the wheelhouse refuses it (here the test image's; extras and the lock alike)."""
    wheels = copy_from_image(wheelhouse.pinned, "/wheels", tmp_path)
    victim = next(wheels.glob("fastapi-*.whl"))
    victim.write_bytes(victim.read_bytes() + b"\0")
    labels = json.loads(run("docker", "image", "inspect", wheelhouse.pinned, "--format", "{{json .Config.Labels}}").stdout)
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY wheels /wheels\n")
    tampered = f"{registry}/wheelbase-e2e-{RUN_ID}/tampered:py3.13-debian"
    label_args = [arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")]
    run("docker", "buildx", "build", "--tag", tampered, *label_args, "--push", str(tmp_path))

    wheelbase("new", "Victim", "--output-dir", str(tmp_path), "--base", wheelhouse.ref)
    service = tmp_path / "victim"
    digest = json.loads(run("docker", "buildx", "imagetools", "inspect", tampered, "--format", "{{json .Manifest}}").stdout)["digest"]
    done = run("docker", "buildx", "bake", "test", "--no-cache", "--progress", "plain", cwd=service,
               env={"BASE_IMAGE": f"{tampered}@{digest}"}, check=False)
    assert done.returncode != 0
    assert f"error: {victim.name} in the wheelhouse does not match the hashes in its lock" in done.stderr


def runtime_install_command() -> str:
    """The runtime stage's venv and install, as base-image/Dockerfile writes them (up to its trim)."""
    dockerfile = (REPO / "base-image" / "Dockerfile").read_text()
    stage = dockerfile.split("AS runtime-root", 1)[1].split("\nFROM ", 1)[0]
    run_line = re.sub(r"\\\n\s*", " ", stage.split("RUN ", 1)[1])
    command = re.sub(r"--(network|mount)=\S+\s+", "", run_line)
    return command.split(" && pip=", 1)[0]


def test_a_tampered_wheel_fails_the_runtime_build_that_installs_it(wheelhouse: Published, tmp_path: Path) -> None:
    """The runtime stage installs /wheels with --require-hashes: a changed wheel stops it with pip's hash error."""
    wheels = copy_from_image(wheelhouse.pinned, "/wheels", tmp_path)
    victim = next(wheels.glob("uvicorn-*.whl"))
    victim.write_bytes(victim.read_bytes() + b"\0")
    command = runtime_install_command()
    assert "--require-hashes" in command and "/opt/venv" in command
    done = run("docker", "run", "--rm", "--network", "none", "-v", f"{wheels}:/wheels:ro", PYTHON_IMAGE,
               "sh", "-c", command, check=False)
    assert done.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in done.stdout + done.stderr


# BusyBox's find compares whole seconds (findutils/find.c, func_newer), as on Alpine: a Python image
# whose find, touch and sh are BusyBox's (Debian's busybox package) re-dates as Alpine's would.
BUSYBOX_DOCKERFILE = f"""
FROM {PYTHON_IMAGE}
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox >/dev/null \\
    && rm -rf /var/lib/apt/lists/* \\
    && for tool in find touch; do ln -s /bin/busybox /usr/local/bin/$tool; done && ln -sf busybox /bin/sh \\
    && find --help 2>&1 | grep -q BusyBox
"""


MUSL_PYTHON_IMAGE = STANDINS["STANDIN_MUSL_PYTHON_IMAGE"]


@pytest.fixture(scope="module")
def busybox_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    image = f"localhost/wheelbase-e2e-{RUN_ID}/python-busybox-find"
    folder = tmp_path_factory.mktemp("busybox")
    (folder / "Dockerfile").write_text(BUSYBOX_DOCKERFILE)
    run("docker", "buildx", "build", "--load", "--tag", image, str(folder))
    return image


@pytest.mark.parametrize("variant", ["debian", pytest.param("debian-musl", marks=pytest.mark.slow), "busybox-find"])
def test_two_no_cache_builds_of_one_commit_push_the_same_digests(registry: str, variant: str,
                                                                  request: pytest.FixtureRequest) -> None:
    """Two weekly publishes of one commit (other release names, no cache) push the digests services
    pin, the wheelhouse's and the runtime's alike: on glibc, on musl, and where find is BusyBox's,
    whose whole-second -newer must not leave a file with its build time."""
    flavor = {"debian": {}, "debian-musl": {"FLAVOR": "debian-musl", "PYTHON_IMAGE": MUSL_PYTHON_IMAGE},
              "busybox-find": {"PYTHON_IMAGE": request.getfixturevalue("busybox_python")}}[variant]
    digests = []
    for attempt, release in ((1, "2026.11.23.41"), (2, "2026.11.30.42")):
        image = f"{registry}/wheelbase-e2e-{RUN_ID}/reproducible-{variant}-{attempt}"
        env = bake_env(image, SOURCE_DATE_EPOCH="1764115200", REVISION="0" * 40, TAG=release, **flavor)
        run("docker", "buildx", "bake", "release", "--push", "--no-cache", cwd=REPO, env=env)
        digests.append([json.loads(run("docker", "buildx", "imagetools", "inspect", tag, "--format",
                                       "{{json .Manifest}}").stdout)["digest"] for tag in release_tags(env)])
    assert digests[0] == digests[1]
