""".ci/provision replayed on the facts of the machines it must work on: GitHub's ubuntu-latest
(Ubuntu 24.04, where ci.yml's e2e job runs it) and a fresh Debian 12 (this project's CI machine).

The script runs for real, under bash, from a copy of the repository's .ci/; every system command it
calls answers as that machine would (tests/fake_machine.py: packages apt has and those that
conflict with what is installed, the engine and its init system, Debian's archive keyring). What
these tests cannot show is that the packages themselves behave; the runner's facts are written
down below with where each comes from.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
FAKE = Path(__file__).resolve().parent / "fake_machine.py"
# The real tools provision may use as they are: they change nothing outside its folders.
TOOLS = ["bash", "cat", "cut", "cp", "cmp", "dirname", "mkdir", "mv", "rm", "seq", "sleep", "sha256sum", "tail", "tar",
         "touch", "grep", "env", "sort", "head", "tr", "sed", "chmod", "ls", "basename"]
ALWAYS = ["apt-get", "dpkg", "dpkg-deb", "setsid", "pkill", "pgrep", "mountpoint", "mount"]

BOOKWORM_UIDS = ["Debian Archive Automatic Signing Key (11/bullseye) <ftpmaster@debian.org>",
                 "Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>",
                 "Debian Stable Release Key (12/bookworm) <debian-release@lists.debian.org>"]

# GitHub's ubuntu-24.04 runner image (actions/runner-images, images/ubuntu/Ubuntu2404-Readme.md and
# its install scripts): Docker CE 28 from Docker's repository, run by systemd on the classic image
# store with no /etc/docker/daemon.json; buildx and Compose as CLI plugins; containerd.io, not
# Ubuntu's containerd; Node and npm under /usr/local; shellcheck, curl and gpg installed; universe
# enabled, Docker's apt source removed after the install. Packages apt can install on noble
# (packages.ubuntu.com): docker-registry 2.8.2 (universe), mmdebstrap 1.4.3, qemu-user-static,
# binfmt-support, arch-test, wrk, apache2-utils, debian-archive-keyring 2023.4ubuntu1 (no trixie key).
UBUNTU_2404: dict[str, Any] = {
    "os_release": 'PRETTY_NAME="Ubuntu 24.04.3 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
                  'VERSION="24.04.3 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n',
    "systemd": True,
    "commands": ["docker", "dockerd", "systemctl", "curl", "gpg", "shellcheck", "npm"],
    "installed": ["docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin", "docker-compose-plugin",
                  "curl", "gpg", "ca-certificates", "python3", "python3-venv", "shellcheck"],
    "available": ["docker-registry", "mmdebstrap", "qemu-user-static", "binfmt-support", "arch-test", "wrk",
                  "apache2-utils", "debian-archive-keyring", "curl", "gpg", "ca-certificates", "shellcheck", "npm",
                  "python3-venv", "iptables", "tini"],
    "conflicts": {"containerd": "conflicts with containerd.io, which is installed",
                  "runc": "conflicts with containerd.io, which is installed",
                  "docker.io": "conflicts with docker-ce, which is installed"},
    "engine": {"running": True, "store": "overlay2", "version": "28.0.4", "buildx": "0.36.1", "compose": "2.38.2"},
    "keyring_uids": BOOKWORM_UIDS,
    "binfmt_mounted": True,
}

# A fresh Debian 12 like this project's CI machine: root, no init system, no engine.
DEBIAN_12: dict[str, Any] = {
    "os_release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                  'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
    "systemd": False,
    "commands": ["curl", "gpg"],
    "installed": ["ca-certificates", "python3", "python3-venv", "curl", "gpg", "debian-archive-keyring"],
    "available": ["containerd", "runc", "tini", "iptables", "docker-registry", "mmdebstrap", "ca-certificates",
                  "debian-archive-keyring", "gpg", "curl", "qemu-user-static", "binfmt-support", "arch-test", "wrk",
                  "apache2-utils", "shellcheck", "npm", "python3-venv"],
    "conflicts": {},
    "engine": {"running": False, "store": "", "version": "", "buildx": "", "compose": ""},
    "keyring_uids": [*BOOKWORM_UIDS, "Debian Archive Automatic Signing Key (13/trixie) <ftpmaster@debian.org>"],
    "binfmt_mounted": False,
}


class Machine:
    def __init__(self, root: Path, machine_facts: dict[str, Any]) -> None:
        self.root = root
        self.repo = root / "repo"
        shutil.copytree(REPO / ".ci", self.repo / ".ci")
        shutil.copy(REPO / "pyproject.toml", self.repo / "pyproject.toml")
        # The package and the node tools as a previous `make unit` left them: provision keeps them.
        (self.repo / ".venv" / "bin").mkdir(parents=True)
        (self.repo / ".venv" / "bin" / "wheelbase").write_text("#!/bin/sh\n")
        (self.repo / ".venv" / "bin" / "wheelbase").chmod(0o755)
        for marker in ("main", "tests"):
            (self.repo / ".venv" / f".installed-{marker}").touch()
        (self.repo / ".tools" / "node_modules" / "@actions" / "expressions").mkdir(parents=True)
        shutil.copy(REPO / ".ci" / "node" / "package-lock.json", self.repo / ".tools" / "package-lock.json")
        self.sysroot = root / "sysroot"
        (self.sysroot / "etc").mkdir(parents=True)
        (self.sysroot / "etc" / "os-release").write_text(machine_facts["os_release"])
        (self.sysroot / "usr" / "share" / "keyrings").mkdir(parents=True)
        (self.sysroot / "usr" / "share" / "keyrings" / "debian-archive-keyring.gpg").write_bytes(b"this machine's keyring")
        (self.sysroot / "proc" / "sys" / "fs" / "binfmt_misc").mkdir(parents=True)
        self.dir = root / "machine"
        self.bin = self.dir / "bin"
        self.bin.mkdir(parents=True)
        (self.bin / "fake").write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$0" "$@"\n')
        (self.bin / "fake").chmod(0o755)
        for command in [*ALWAYS, *machine_facts["commands"]]:
            (self.bin / command).symlink_to(self.bin / "fake")
        (self.dir / "facts.json").write_text(json.dumps({**machine_facts, "sysroot": str(self.sysroot)}))
        state = {"installed": list(machine_facts["installed"]), "engine": dict(machine_facts["engine"]), "services": {},
                 "registry": False, "images": {}, "binfmt_mounted": machine_facts["binfmt_mounted"]}
        (self.dir / "state.json").write_text(json.dumps(state))
        self.tools = root / "tools"
        self.tools.mkdir()
        for tool in TOOLS:
            (self.tools / tool).symlink_to(shutil.which(tool) or f"/nonexistent/{tool}")
        (self.tools / "python3").symlink_to(sys.executable)

    def provision(self, mode: str = "tests") -> subprocess.CompletedProcess[str]:
        (self.dir / "log.jsonl").write_text("")
        env = {"PATH": f"{self.bin}:{self.tools}", "FAKE_MACHINE": str(self.dir), "WHEELBASE_SYSROOT": str(self.sysroot),
               "WHEELBASE_STATE": str(self.root / "state"), "HOME": str(self.root), "LANG": "C.UTF-8"}
        return subprocess.run([str(self.tools / "bash"), str(self.repo / ".ci" / "provision"), mode], env=env,
                              capture_output=True, text=True, timeout=120)

    def calls(self) -> list[list[str]]:
        return [json.loads(line) for line in (self.dir / "log.jsonl").read_text().splitlines()]

    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.dir / "state.json").read_text()))

    def daemon_json(self) -> dict[str, Any]:
        return dict(json.loads((self.sysroot / "etc" / "docker" / "daemon.json").read_text()))


def installed_by_apt(calls: list[list[str]]) -> list[str]:
    return [p for c in calls if c[0] == "apt-get" and "install" in c for p in c[c.index("install") + 1:] if not p.startswith("-")]


@pytest.fixture
def ubuntu(tmp_path: Path) -> Machine:
    return Machine(tmp_path, UBUNTU_2404)


def test_on_githubs_ubuntu_runner_provision_uses_its_engine_and_ubuntus_own_packages(ubuntu: Machine) -> None:
    done = ubuntu.provision()
    assert done.returncode == 0, done.stderr
    calls = ubuntu.calls()
    assert not [c for c in calls if c[0] == "dpkg" and c[1] == "-i"], "no engine package installed over Docker CE"
    assert not [c for c in calls if "download" in c and "docker.io" in c]
    assert set(installed_by_apt(calls)) <= set(UBUNTU_2404["available"])
    assert "docker-registry" in installed_by_apt(calls)
    assert ["setsid", "dockerd"] not in [c[:2] for c in calls], "the engine is systemd's"


def test_on_githubs_ubuntu_runner_the_engine_is_restarted_by_systemd_onto_the_containerd_store(ubuntu: Machine) -> None:
    assert ubuntu.provision().returncode == 0
    assert ["systemctl", "restart", "docker"] in ubuntu.calls()
    assert ["pkill", "-x", "dockerd"] not in ubuntu.calls()
    assert ubuntu.daemon_json()["features"] == {"containerd-snapshotter": True}
    assert ubuntu.state()["engine"]["store"] == "containerd"


def test_on_githubs_ubuntu_runner_the_registry_packages_own_service_gives_way_to_the_loopback_one(ubuntu: Machine) -> None:
    assert ubuntu.provision().returncode == 0
    calls = ubuntu.calls()
    assert ["systemctl", "disable", "--now", "docker-registry"] in calls
    assert ubuntu.state()["services"]["docker-registry"] is False
    assert ubuntu.state()["registry"] is True, "our registry: 127.0.0.1:5000 with deletes on"


def test_on_githubs_ubuntu_runner_debian_images_are_verified_with_trixies_keyring(ubuntu: Machine) -> None:
    """Ubuntu 24.04's debian-archive-keyring predates trixie: provision fetches trixie's own, with
    apt checking it against trixie's index (co-signed by the bookworm key Ubuntu's keyring has)."""
    assert ubuntu.provision().returncode == 0
    calls = ubuntu.calls()
    assert [c for c in calls if c[0] == "apt-get" and "download" in c and "debian-archive-keyring" in c]
    runs = [c for c in calls if c[0] == "mmdebstrap"]
    assert runs and all(f"--keyring={ubuntu.root}/state/keyrings/debian-archive-keyring.gpg" in c for c in runs)
    assert all("signed-by" not in c[-1] for c in runs), "the image's apt trusts its own keyring, not a path of this machine"


def test_on_githubs_ubuntu_runner_arm64_emulation_is_installed_before_the_arm64_image(ubuntu: Machine) -> None:
    assert ubuntu.provision().returncode == 0
    calls = ubuntu.calls()
    qemu = next(i for i, c in enumerate(calls) if c[0] == "apt-get" and "qemu-user-static" in c)
    arm64 = next(i for i, c in enumerate(calls) if c[0] == "mmdebstrap" and "--architectures=arm64" in c)
    assert qemu < arm64


def test_a_second_provision_changes_nothing(ubuntu: Machine) -> None:
    assert ubuntu.provision().returncode == 0
    done = ubuntu.provision()
    assert done.returncode == 0, done.stderr
    changing = [c for c in ubuntu.calls() if c[0] in ("apt-get", "dpkg-deb", "mmdebstrap", "systemctl", "setsid")
                and c[1:2] != ["is-active"]] + [c for c in ubuntu.calls() if c[:3] == ["docker", "buildx", "build"]]
    assert changing == []


def test_on_a_fresh_debian_12_provision_installs_trixies_engine_and_starts_it(tmp_path: Path) -> None:
    debian = Machine(tmp_path, DEBIAN_12)
    done = debian.provision()
    assert done.returncode == 0, done.stderr
    calls = debian.calls()
    installs = [c for c in calls if c[0] == "dpkg" and c[1] == "-i"]
    assert [Path(p).name.split("_")[0] for p in installs[0][2:]] == ["docker.io", "docker-cli", "docker-buildx", "docker-compose"]
    assert ["setsid", "dockerd"] in [c[:2] for c in calls]
    assert debian.state()["engine"]["store"] == "containerd"
    assert not [c for c in calls if "download" in c and "debian-archive-keyring" in c], "bookworm's keyring has trixie's key"


def test_an_unknown_machine_is_refused_before_anything_is_done(tmp_path: Path) -> None:
    fedora = Machine(tmp_path, {**UBUNTU_2404, "os_release": 'PRETTY_NAME="Fedora Linux 41 (Server Edition)"\nID=fedora\nVERSION_ID=41\n'})
    done = fedora.provision()
    assert done.returncode == 1
    assert done.stderr.strip() == ("[provision] error: this machine is Fedora Linux 41 (Server Edition); provision knows "
                                   "Debian 12 and 13 and Ubuntu 24.04 (GitHub's ubuntu-latest)")
    assert fedora.calls() == []


def test_an_engine_older_than_26_is_refused_naming_its_version(tmp_path: Path) -> None:
    old = Machine(tmp_path, {**UBUNTU_2404, "engine": {**UBUNTU_2404["engine"], "version": "24.0.7"}})
    done = old.provision()
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == "[provision] error: Docker Engine 24.0.7 is older than 26, which the builds need"


def test_an_ubuntu_machine_without_docker_is_told_where_to_get_it(tmp_path: Path) -> None:
    bare = Machine(tmp_path, {**UBUNTU_2404, "commands": ["systemctl", "curl", "gpg"],
                              "engine": {"running": False, "store": "", "version": "", "buildx": "", "compose": ""}})
    done = bare.provision()
    assert done.returncode == 1
    assert "install Docker's packages (https://docs.docker.com/engine/install/ubuntu/)" in done.stderr
    assert not [c for c in bare.calls() if c[0] == "apt-get"], "nothing installed before the refusal"


def test_provision_is_shellcheck_clean() -> None:
    done = subprocess.run(["shellcheck", "-x", str(REPO / ".ci" / "provision")], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ})
    assert done.returncode == 0, done.stdout


def test_the_engine_tier_is_provisioned_without_the_slow_tiers_stand_ins_which_come_next(tmp_path: Path) -> None:
    """`make test` provisions the engine tier first (bookworm stand-in, wrk); the test session then
    runs `.ci/provision tests` in the background for the arm64 and musl stand-ins only."""
    debian = Machine(tmp_path, DEBIAN_12)
    assert debian.provision("engine").returncode == 0
    engine_calls = debian.calls()
    debstraps = [next(a for a in c if a.startswith("--architectures=")) for c in engine_calls if c[0] == "mmdebstrap"]
    assert debstraps == ["--architectures=amd64", "--architectures=amd64"], "the trixie base and bookworm, no arm64"
    assert "wrk" in installed_by_apt(engine_calls) and "qemu-user-static" not in installed_by_apt(engine_calls)
    assert not [c for c in engine_calls if c[:3] == ["docker", "buildx", "build"] and "musl" in c]

    done = debian.provision("tests")
    assert done.returncode == 0, done.stderr
    calls = debian.calls()
    assert [c for c in calls if c[0] == "mmdebstrap"] and all("--architectures=arm64" in c for c in calls if c[0] == "mmdebstrap")
    assert [c for c in calls if c[:3] == ["docker", "buildx", "build"] and "--target" in c and c[c.index("--target") + 1] == "musl"]
    assert installed_by_apt(calls) == ["qemu-user-static", "binfmt-support", "arch-test"]


def test_an_unknown_mode_is_refused_naming_the_modes(tmp_path: Path) -> None:
    done = Machine(tmp_path, DEBIAN_12).provision("slow")
    assert (done.returncode, done.stderr.strip()) == (2, f"usage: {tmp_path}/repo/.ci/provision [unit|engine|tests]")
