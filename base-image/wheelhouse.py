"""The wheelhouse's build steps that are real logic, run inside the build (under /opt/tools/bin/python:
the image's Python with the hash-locked `packaging` and `wheel`). The Dockerfile says what each
stage does; this script holds what would be unreadable as shell. Settings come from the stage's
environment (its ARGs): TARGETPLATFORM, DISTRIBUTION, LIBC, FLAVOR, NO_BINARY, STRIP,
PYTHON_IMAGE, REVISION, SOURCE_DATE_EPOCH.

fetch OUT           on the builder's machine: pip download the target machine's binary wheels of
                    requirements.txt (its tags: this Python's, with the target's machine) and strip
                    them; what has no wheel for the target, or is in NO_BINARY, goes to
                    OUT/needs-build.txt, one package at a time so the others still come as wheels.
                    Also pip's own wheel (tools.txt's pin) into OUT/pip/, for services to install with.
build FETCHED OUT   on the target's machine: compile what fetch could not get, then write OUT with
                    requirements.txt (the sha256 of each file shipped), constraints.txt and
                    wheelhouse.json, every file's time set to SOURCE_DATE_EPOCH.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from packaging import tags
from packaging.utils import canonicalize_name, parse_wheel_filename

HERE = Path(__file__).resolve().parent
TOOLCHAIN = HERE / "toolchain"
NO_WHEEL = re.compile(r"No matching distribution found for|from versions: none")
MACHINES = {"linux/amd64": "x86_64", "linux/arm64": "aarch64", "linux/arm64/v8": "aarch64"}
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?P<hashes>(?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})+)",
                 re.MULTILINE)


def fail(message: str) -> None:
    print(f"wheelhouse: error: {message}", file=sys.stderr)
    raise SystemExit(1)


def setting(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def pip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """pip, with this step's environment (with-pip-secrets.sh has put pip's secrets in it)."""
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    print(done.stdout, end="", flush=True)
    if check and done.returncode:
        fail(f"pip {args[0]} failed (exit {done.returncode}); its output is above")
    return done


def toolchain(*args: str) -> str:
    """The distribution's toolchain step (toolchain/<DISTRIBUTION>.sh); returns what it prints."""
    script = TOOLCHAIN / f"{setting('DISTRIBUTION')}.sh"
    if not script.is_file():
        fail(f"no toolchain for DISTRIBUTION={setting('DISTRIBUTION')!r}: expected {script}")
    done = subprocess.run(["sh", str(script), *args], check=True, stdout=subprocess.PIPE, text=True)
    return done.stdout.strip()


def target_machine() -> str:
    target = setting("TARGETPLATFORM")
    if not target:
        return platform.machine()
    if target not in MACHINES:
        fail(f"no wheel tags known for {target}; supported: {', '.join(sorted(MACHINES))}")
    return MACHINES[target]


def target_platform_tags(machine: str) -> list[str]:
    """This interpreter's platform tags (same libc, same policies) with the target's machine."""
    here = platform.machine()
    found: list[str] = []
    for tag in tags.sys_tags():
        plat = tag.platform.removesuffix(f"_{here}") + f"_{machine}" if tag.platform.endswith(f"_{here}") else tag.platform
        if plat.endswith(machine) and plat not in found:
            found.append(plat)
    return found


def pins(requirements: Path) -> list[tuple[str, str]]:
    """(normalised name, the hash-locked requirement) for every pin in a pip-compile lock."""
    found = [(canonicalize_name(m["name"]), m.group(0)) for m in PIN.finditer(requirements.read_text())]
    if not found:
        fail(f"{requirements} pins nothing with hashes; regenerate it with `docker buildx bake lock`")
    return found


def download(chosen: list[tuple[str, str]], out: Path, machine: str) -> bool:
    """pip download of the target's binary wheels: hash-checked, no emulation needed."""
    listed = out / ".download.txt"
    listed.write_text("".join(text + "\n" for _, text in chosen))
    platforms = [arg for tag in target_platform_tags(machine) for arg in ("--platform", tag)]
    done = pip("download", "--no-deps", "--require-hashes", "--only-binary=:all:", *platforms,
               "--python-version", "{}{}".format(*sys.version_info[:2]), "--implementation", "cp",
               "--dest", str(out), "-r", str(listed), check=False)
    listed.unlink()
    if done.returncode and not NO_WHEEL.search(done.stdout):
        fail("pip download failed (see above)")
    return done.returncode == 0


def fetch(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    machine = target_machine()
    print(f"wheelhouse: fetching {machine} wheels on {platform.machine()}", flush=True)
    no_binary = setting("NO_BINARY")
    forced = {canonicalize_name(n) for n in no_binary.split(",") if n.strip()}
    locked = pins(HERE / "requirements.txt")
    wanted = [] if ":all:" in no_binary else [p for p in locked if p[0] not in forced]
    needs_build = [p for p in locked if p not in wanted]
    with ThreadPoolExecutor(max_workers=1) as background:
        # The strip tool installs (package manager) while pip downloads: neither waits for the other.
        strip: Future[str] | None = background.submit(toolchain, "strip", machine) if setting("STRIP", "true") == "true" else None
        if wanted and not download(wanted, out, machine):
            for pin in wanted:  # find which packages ship no wheel for the target
                if not download([pin], out, machine):
                    needs_build.append(pin)
        (out / "needs-build.txt").write_text("".join(text + "\n" for _, text in needs_build))
        if needs_build:
            print(f"wheelhouse: no {machine} wheel for {', '.join(n for n, _ in needs_build)}; compiled on the target", flush=True)
        download_pip(out / "pip")
        if strip is not None:
            strip_wheels(out, strip.result())


def download_pip(out: Path) -> None:
    """pip's wheel as tools.txt pins it (hash-checked): a service runs it as `python pip-*.whl/pip`."""
    (pin,) = [text for name, text in pins(HERE / "tools.txt") if name == "pip"]
    listed = out.parent / ".pip.txt"
    listed.write_text(pin + "\n")
    pip("download", "--no-deps", "--require-hashes", "--only-binary=:all:", "--dest", str(out), "-r", str(listed))
    listed.unlink()


def with_modules(folder: Path) -> list[Path]:
    return [w for w in sorted(folder.glob("*.whl")) if any(n.endswith(".so") for n in zipfile.ZipFile(w).namelist())]


def strip_wheels(folder: Path, strip: str) -> None:
    """Drops debug symbols from extension modules (strip --strip-unneeded) and repacks each wheel."""
    with ThreadPoolExecutor() as pool:
        for done in pool.map(lambda wheel: strip_wheel(wheel, strip), with_modules(folder)):
            print(done, flush=True)


def strip_wheel(wheel: Path, strip: str) -> str:
    before = wheel.stat().st_size
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run([sys.executable, "-m", "wheel", "unpack", "--dest", scratch, str(wheel)], check=True, stdout=subprocess.DEVNULL)
        (unpacked,) = Path(scratch).iterdir()
        subprocess.run([strip, "--strip-unneeded", *sorted(str(p) for p in unpacked.rglob("*.so"))], check=True)
        wheel.unlink()
        subprocess.run([sys.executable, "-m", "wheel", "pack", "--dest-dir", str(wheel.parent), str(unpacked)], check=True,
                       stdout=subprocess.DEVNULL)
    return f"wheelhouse: stripped {wheel.name}: {before:,} -> {wheel.stat().st_size:,} bytes"


def compile_missing(fetched: Path, out: Path) -> None:
    """pip wheel, on the target's machine, of what ships no wheel for it (hash-checked sdists)."""
    needs = fetched / "needs-build.txt"
    if not needs.is_file() or not needs.read_text().strip():
        return
    toolchain("compile")
    no_binary = setting("NO_BINARY")
    pip("wheel", "--no-deps", "--require-hashes", *(["--no-binary", no_binary] if no_binary else []),
        "--wheel-dir", str(out), "-r", str(needs))
    if setting("STRIP", "true") == "true" and with_modules(out):
        strip_wheels(out, toolchain("strip"))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def platform_facts() -> dict[str, object]:
    """What this interpreter installs. The order of sys_tags() is not a promise (packaging 26 puts
    the bare linux_<machine> tag first), so the libc is read from the tags' policies."""
    supported = list(tags.sys_tags())
    policy = next((t for t in supported if t.platform.startswith(("musllinux", "manylinux"))), supported[0])
    return {
        "python_version": platform.python_version(),
        "python_series": "{}.{}".format(*sys.version_info[:2]),
        "implementation": sys.implementation.name,
        "abi": policy.abi,
        "platform_tag": policy.platform,
        "libc": "musl" if any(t.platform.startswith("musllinux") for t in supported) else "glibc",
        "machine": platform.machine(),
    }


def write_metadata(out: Path) -> None:
    wheels = sorted((canonicalize_name(parse_wheel_filename(p.name)[0]), str(parse_wheel_filename(p.name)[1]), p)
                    for p in out.glob("*.whl"))
    header = "# The wheelhouse's own lock: every wheel in this folder, with the sha256 of the file here.\n"
    (out / "requirements.txt").write_text(
        header + "\n".join(f"{name}=={version} \\\n    --hash=sha256:{sha256(path)}" for name, version, path in wheels) + "\n")
    (out / "constraints.txt").write_text("# The wheelhouse's pins, for a service's pip-compile and pip install -c.\n"
                                         + "\n".join(f"{name}=={version}" for name, version, _ in wheels) + "\n")
    epoch = int(setting("SOURCE_DATE_EPOCH") or 0)
    (pip_wheel,) = (out / "pip").glob("pip-*.whl")
    facts = {
        "schema": 2,
        "flavor": setting("FLAVOR"),
        "distribution": setting("DISTRIBUTION"),
        **platform_facts(),
        "docker_platform": setting("TARGETPLATFORM"),
        "python_image": setting("PYTHON_IMAGE"),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)),
        "revision": setting("REVISION"),
        "wheels": [path.name for _, _, path in wheels],
        "pip": {"wheel": f"pip/{pip_wheel.name}", "sha256": sha256(pip_wheel)},
    }
    (out / "wheelhouse.json").write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n")
    for path in [out, *out.rglob("*")]:  # same bytes, same times: two builds of one commit, one digest
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.utime(path, (epoch, epoch))


def build(fetched: Path, out: Path) -> None:
    print(f"wheelhouse: assembling the wheelhouse on {platform.machine()}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        compile_missing(fetched, Path(scratch))
        for wheel in [*fetched.glob("*.whl"), *Path(scratch).glob("*.whl")]:
            shutil.copyfile(wheel, out / wheel.name)
        shutil.copytree(fetched / "pip", out / "pip")
    write_metadata(out)
    print(f"wheelhouse: {len(list(out.glob('*.whl')))} wheels in {out}")


def main() -> None:
    match sys.argv[1:]:
        case ["fetch", out]:
            fetch(Path(out))
        case ["build", fetched, out]:
            build(Path(fetched), Path(out))
        case _:
            fail("usage: wheelhouse.py fetch OUT | build FETCHED OUT")


if __name__ == "__main__":
    main()
