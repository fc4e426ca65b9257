"""A machine's system commands, answering as that machine would, for replaying .ci/provision.

Every command .ci/provision calls that changes or asks the system (apt-get, dpkg, docker,
systemctl, curl, gpg, mmdebstrap...) is a link to this script in the replay's first PATH folder.
It answers from the machine's facts (facts.json: its packages, what apt can install and what
conflicts, its engine and init system) and keeps what the calls change in state.json, so a
second provision sees the first one's work. Every call is logged (log.jsonl) for the test to
read. A package's commands appear in the PATH folder when it is installed, so `command -v`
answers as on the real machine.

Used as: <command> ARGS... (through a link named after the command), with FAKE_MACHINE set to the
machine's folder.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

MACHINE = Path(os.environ["FAKE_MACHINE"])
BIN = MACHINE / "bin"
NEW_KEYRING = b"debian-archive-keyring 2025.1 (trixie's)"
TRIXIE_UIDS = ["Debian Archive Automatic Signing Key (12/bookworm) <ftpmaster@debian.org>",
               "Debian Archive Automatic Signing Key (13/trixie) <ftpmaster@debian.org>",
               "Debian Stable Release Key (13/trixie) <debian-release@lists.debian.org>"]
# What each package puts on PATH, and what `docker` gains from the plugin packages.
COMMANDS = {"docker.io": ["dockerd"], "docker-cli": ["docker"], "docker-registry": ["docker-registry"],
            "mmdebstrap": ["mmdebstrap"], "binfmt-support": ["update-binfmts"], "curl": ["curl"], "gpg": ["gpg"],
            "shellcheck": ["shellcheck"], "npm": ["npm"]}
# What a trixie apt source offers for `apt-get download`.
TRIXIE = {"docker.io": "26.1.5+dfsg1-9+b9", "docker-cli": "26.1.5+dfsg1-9+b9", "docker-buildx": "0.13.1+ds1-3",
          "docker-compose": "2.26.1-4", "debian-archive-keyring": "2025.1"}


def facts() -> dict[str, Any]:
    return json.loads((MACHINE / "facts.json").read_text())


def load() -> dict[str, Any]:
    return json.loads((MACHINE / "state.json").read_text())


def save(state: dict[str, Any]) -> None:
    (MACHINE / "state.json").write_text(json.dumps(state, indent=1))


def link(command: str) -> None:
    target = BIN / command
    if not target.exists():
        target.symlink_to(BIN / "fake")


def install(state: dict[str, Any], packages: list[str]) -> None:
    for package in packages:
        if package not in state["installed"]:
            state["installed"].append(package)
        for command in COMMANDS.get(package, []):
            link(command)
        if package == "docker-buildx":
            state["engine"]["buildx"] = "0.13.1"
        if package == "docker-compose":
            state["engine"]["compose"] = "2.26.1"
        if package == "docker.io":
            state["engine"]["version"] = "26.1.5+dfsg1"
        if package == "docker-registry" and facts()["systemd"]:
            state["services"]["docker-registry"] = True  # its postinst enables and starts it


def daemon_store() -> str:
    config = Path(facts()["sysroot"]) / "etc" / "docker" / "daemon.json"
    wants = config.exists() and json.loads(config.read_text()).get("features", {}).get("containerd-snapshotter")
    return "containerd" if wants else "overlay2"


def fail(message: str, code: int = 1) -> int:
    print(message, file=sys.stderr)
    return code


def apt_get(state: dict[str, Any], args: list[str]) -> int:
    words = [a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-o")]
    if not words:
        return fail("E: no command")
    verb, packages = words[0], words[1:]
    if verb == "update":
        return 0
    if verb == "download":
        for package in packages:
            if package not in TRIXIE:
                return fail(f"E: Unable to locate package {package}", 100)
            Path(f"{package}_{TRIXIE[package]}_all.deb").write_bytes(package.encode())
        return 0
    if verb == "install":
        known = facts()
        for package in packages:
            if package in known["conflicts"]:
                return fail(f"E: {package}: {known['conflicts'][package]}", 100)
            if package not in known["available"]:
                return fail(f"E: Unable to locate package {package}", 100)
        install(state, packages)
        return 0
    return fail(f"E: Invalid operation {verb}", 100)


def dpkg(state: dict[str, Any], args: list[str]) -> int:
    if args[0] == "-s":
        return 0 if args[1] in state["installed"] else 1
    if args[0] == "-i":
        names = [Path(a).name.split("_", 1)[0] for a in args[1:]]
        clash = [n for n in names if n in facts()["conflicts"]]
        if clash:
            return fail(f"dpkg: error processing {clash[0]}: {facts()['conflicts'][clash[0]]}")
        install(state, names)
        return 0
    return fail(f"dpkg: unknown option {args[0]}")


def docker(state: dict[str, Any], args: list[str]) -> int:
    engine = state["engine"]
    if args[:2] == ["buildx", "version"]:
        return (print(f"github.com/docker/buildx v{engine['buildx']}"), 0)[1] if engine.get("buildx") else fail("unknown command: buildx")
    if args[:2] == ["compose", "version"]:
        return (print(f"Docker Compose version v{engine['compose']}"), 0)[1] if engine.get("compose") else fail("unknown command: compose")
    if not engine["running"]:
        return fail("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
    if args[0] == "info":
        if "--format" in args:
            containerd = engine["store"] == "containerd"
            print(json.dumps([["driver-type", "io.containerd.snapshotter.v1"]] if containerd else [["Backing Filesystem", "extfs"]]))
        return 0
    if args[0] == "version":
        print(args[args.index("--format") + 1].replace("{{.Server.Version}}", engine["version"]))
        return 0
    if args[:2] == ["image", "inspect"]:
        image = state["images"].get(args[2])
        if image is None:
            return fail(f"Error response from daemon: No such image: {args[2]}")
        if "--format" in args:
            print(image.get("dev.wheelbase.standin.recipe", "<no value>"))
        return 0
    if args[0] == "import":
        changes = [a for a, before in zip(args, ["", *args][:-1], strict=True) if before == "-c"]
        state["images"][args[-1]] = dict(c.removeprefix("LABEL ").split("=", 1) for c in changes if c.startswith("LABEL "))
        return 0
    if args[:3] == ["image", "rm", "--force"]:
        state["images"].pop(args[3], None)
        return 0
    if args[:2] == ["buildx", "build"]:
        if engine["store"] != "containerd":
            return fail("ERROR: this build needs the containerd image store")
        labels = dict(a.split("=", 1) for a, before in zip(args, ["", *args][:-1], strict=True) if before == "--label")
        state["images"][args[args.index("--tag") + 1]] = labels
        return 0
    if args[0] == "tag":
        if args[1] not in state["images"]:
            return fail(f"Error response from daemon: No such image: {args[1]}")
        state["images"][args[2]] = state["images"][args[1]]
        return 0
    if args[0] == "push" or args[:3] == ["buildx", "imagetools", "create"]:
        return 0 if state["registry"] or state["services"].get("docker-registry") else fail("connection refused")
    return fail(f"fake docker: unexpected {args}")


def systemctl(state: dict[str, Any], args: list[str]) -> int:
    if args[0] == "is-active":
        unit = args[-1]
        active = state["engine"]["running"] if unit == "docker" else state["services"].get(unit, False)
        return 0 if active else 3
    if args[:2] == ["restart", "docker"]:
        state["engine"].update(running=True, store=daemon_store())
        return 0
    if args[:2] == ["disable", "--now"]:
        state["services"][args[2]] = False
        return 0
    return fail(f"fake systemctl: unexpected {args}")


def setsid(state: dict[str, Any], args: list[str]) -> int:
    if args[0] == "dockerd":
        if facts()["systemd"]:
            return fail("dockerd: another instance is managed by systemd")
        state["engine"].update(running=True, store=daemon_store())
        return 0
    if args[:2] == ["docker-registry", "serve"]:
        config = Path(args[2]).read_text()
        if state["services"].get("docker-registry"):
            return fail("listen tcp :5000: bind: address already in use")
        state["registry"] = "addr: 127.0.0.1:5000" in config and "enabled: true" in config
        return 0
    return fail(f"fake setsid: unexpected {args}")


def gpg(args: list[str]) -> int:
    keyring = Path(args[-1])
    uids = TRIXIE_UIDS if keyring.read_bytes() == NEW_KEYRING else facts()["keyring_uids"]
    for uid in uids:
        print(f"uid                      {uid}")
    return 0


def dpkg_deb(args: list[str]) -> int:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        member = tarfile.TarInfo("./usr/share/keyrings/debian-archive-keyring.gpg")
        member.size = len(NEW_KEYRING)
        tar.addfile(member, io.BytesIO(NEW_KEYRING))
    sys.stdout.buffer.write(buffer.getvalue())
    return 0


def mmdebstrap(state: dict[str, Any], args: list[str]) -> int:
    arch = next(a.split("=", 1)[1] for a in args if a.startswith("--architectures="))
    binfmt = Path(facts()["sysroot"]) / "proc" / "sys" / "fs" / "binfmt_misc"
    if arch != "amd64" and not (binfmt / "qemu-aarch64").exists():
        return fail(f"E: {arch} can neither be executed natively nor via qemu user emulation with binfmt_misc")
    keyring = next(a.split("=", 1)[1] for a in args if a.startswith("--keyring="))
    if not any("(13/trixie)" in uid for uid in (TRIXIE_UIDS if Path(keyring).read_bytes() == NEW_KEYRING else facts()["keyring_uids"])):
        return fail("E: apt-get update failed: The following signatures couldn't be verified: NO_PUBKEY 6ED0E7B82643E131")
    Path(args[-2]).write_bytes(b"rootfs")
    return 0


def main(command: str, args: list[str]) -> int:
    # One call at a time reads and writes the state (provision starts some in the background).
    lock = (MACHINE / "state.lock").open("w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    with (MACHINE / "log.jsonl").open("a") as log:
        log.write(json.dumps([command, *args]) + "\n")
    state = load()
    try:
        if command == "apt-get":
            return apt_get(state, args)
        if command == "dpkg":
            return dpkg(state, args)
        if command == "docker":
            return docker(state, args)
        if command == "systemctl":
            return systemctl(state, args)
        if command == "setsid":
            return setsid(state, args)
        if command == "curl":
            up = state["registry"] or state["services"].get("docker-registry", False)
            return 0 if up else fail("curl: (7) Failed to connect to 127.0.0.1 port 5000", 7)
        if command == "gpg":
            return gpg(args)
        if command == "dpkg-deb":
            return dpkg_deb(args)
        if command == "mmdebstrap":
            return mmdebstrap(state, args)
        if command == "mountpoint":
            return 0 if state["binfmt_mounted"] else 32
        if command == "mount":
            state["binfmt_mounted"] = True
            return 0
        if command == "update-binfmts":
            if "qemu-user-static" in state["installed"] and state["binfmt_mounted"]:
                (Path(facts()["sysroot"]) / "proc" / "sys" / "fs" / "binfmt_misc" / "qemu-aarch64").write_text("enabled\n")
            return 0
        if command == "pkill":
            state["engine"]["running"] = False
            return 0
        if command == "pgrep":
            return 0 if state["engine"]["running"] else 1
        return fail(f"fake machine: {command} is not expected here")
    finally:
        save(state)
        lock.close()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).name, sys.argv[2:]))
