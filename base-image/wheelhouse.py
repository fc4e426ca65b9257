"""Builds and verifies the wheelhouse inside the build image (standard library and pip only).

fetch:  on the builder's own platform, pip download the target platform's binary wheels of the
        hash-locked requirements and strip them; list what ships no wheel in needs-build.txt.
build:  on the target platform, compile only what fetch could not get (pip wheel), then write requirements.txt (hashes of the files that are
        there), constraints.txt and wheelhouse.json, with every mtime set to SOURCE_DATE_EPOCH.
verify: install the folder offline with hash checking into a fresh venv and serve a request
        through uvicorn with uvloop and httptools.
runtime: install the folder into /opt/venv (no pip inside), then take pip, ensurepip's bundled
        wheels and the package manager out of the image, for the shared runtime image.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SECRETS = {"PIP_CERT": "/run/secrets/pip_cert", "PIP_CONFIG_FILE": "/run/secrets/pip_conf"}
NO_WHEEL = re.compile(r"No matching distribution found for|from versions: none")
WHEEL_NAME = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-(?P<tags>[^-]+-[^-]+-[^-]+)\.whl$")


def fail(message: str) -> None:
    print(f"wheelhouse: error: {message}", file=sys.stderr)
    raise SystemExit(1)


def pip_env() -> dict[str, str]:
    """pip's environment, with the optional BuildKit secrets (proxy CA, pip.conf) when mounted."""
    env = dict(os.environ)
    for variable, path in SECRETS.items():
        if os.path.isfile(path) and os.path.getsize(path) > 0:
            env[variable] = path
    return env


def pip(*args: str, python: str = sys.executable, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = [python, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, env=pip_env(), text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    print(done.stdout, end="", flush=True)
    if check and done.returncode:
        fail(f"pip {args[0]} failed (exit {done.returncode}); its output is above")
    return done


def install_toolchain(flavor: str, toolchains: Path, need: str) -> None:
    script = toolchains / f"{flavor}.sh"
    if not script.is_file():
        fail(f"no toolchain for FLAVOR={flavor}: expected {script}")
    print(f"wheelhouse: installing the {flavor} toolchain to {need}", flush=True)
    subprocess.run(["sh", str(script), need], check=True)


MACHINES = {"linux/amd64": "x86_64", "linux/arm64": "aarch64", "linux/arm64/v8": "aarch64"}
BLOCK = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?P<hashes>(?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})+)",
                   re.MULTILINE)


def target_machine(target_platform: str) -> str:
    if not target_platform:
        return platform.machine()
    if target_platform not in MACHINES:
        fail(f"no wheel platform tags known for {target_platform}; supported: {', '.join(sorted(MACHINES))}")
    return MACHINES[target_platform]


def target_platform_tags(machine: str) -> list[str]:
    """This interpreter's platform tags (same distribution and libc) for the target's machine."""
    from pip._vendor.packaging import tags

    here = platform.machine()
    found: list[str] = []
    for tag in tags.sys_tags():
        plat = tag.platform.removesuffix(f"_{here}") + f"_{machine}" if tag.platform.endswith(f"_{here}") else tag.platform
        if plat not in found and plat.endswith(machine):
            found.append(plat)
    return found


def requirement_blocks(requirements: Path) -> list[tuple[str, str]]:
    """(normalised name, the hash-locked requirement text) for every pin in a pip-compile lock."""
    blocks = [(re.sub(r"[-_.]+", "-", m["name"]).lower(), m.group(0)) for m in BLOCK.finditer(requirements.read_text())]
    if not blocks:
        fail(f"{requirements} pins nothing with hashes; regenerate it with `docker buildx bake lock`")
    return blocks


def download(blocks: list[tuple[str, str]], out: Path, machine: str) -> bool:
    """pip download of binary wheels for the target: hash-checked, no emulation needed."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(text for _, text in blocks) + "\n")
    python_version = "{}{}".format(*sys.version_info[:2])
    platforms = [arg for tag in target_platform_tags(machine) for arg in ("--platform", tag)]
    done = pip("download", "--no-deps", "--require-hashes", "--only-binary=:all:", *platforms,
               "--python-version", python_version, "--implementation", "cp",
               "--dest", str(out), "-r", handle.name, check=False)
    if done.returncode and not NO_WHEEL.search(done.stdout):
        fail("pip download failed (see above)")
    return done.returncode == 0


def fetch(args: argparse.Namespace) -> None:
    """Binary wheels for the target platform, fetched natively; what has none goes to needs-build.txt."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    machine = target_machine(args.target_platform)
    print(f"wheelhouse: fetching {machine} wheels on {platform.machine()}", flush=True)
    forced = {re.sub(r"[-_.]+", "-", n).lower() for n in args.no_binary.split(",") if n.strip()}
    blocks = requirement_blocks(Path(args.requirements))
    wanted = [b for b in blocks if b[0] not in forced and ":all:" not in args.no_binary]
    needs_build = [b for b in blocks if b not in wanted]
    with ThreadPoolExecutor(max_workers=1) as background:
        # The strip tools install (package manager, wheel) while pip downloads: neither waits for the other.
        tools = background.submit(strip_tools, args.flavor, Path(args.toolchains), Path(args.tools_lock), machine) \
            if args.strip else None
        if wanted and not download(wanted, out, machine):
            for block in wanted:  # find which packages ship no wheel for the target
                if not download([block], out, machine):
                    needs_build.append(block)
        (out / "needs-build.txt").write_text("".join(text + "\n" for _, text in needs_build))
        if needs_build:
            print(f"wheelhouse: no {machine} wheel for {', '.join(n for n, _ in needs_build)}; built on the target", flush=True)
        if tools:
            strip_wheels(out, tools.result())


def compile_missing(fetched: Path, out: Path, flavor: str, toolchains: Path, no_binary: str) -> None:
    """pip wheel, on the target platform, of the packages that ship no wheel for it (hash-checked sdists)."""
    needs = fetched / "needs-build.txt"
    if not needs.is_file() or not needs.read_text().strip():
        return
    install_toolchain(flavor, toolchains, "compile")
    extra = ["--no-binary", no_binary] if no_binary else []
    pip("wheel", "--no-deps", "--require-hashes", *extra, "--wheel-dir", str(out), "-r", str(needs))


def wheel_tool(tools_lock: Path) -> str:
    """A venv with the hash-locked `wheel` package, whose `pack` rewrites RECORD after stripping."""
    venv = Path(tempfile.mkdtemp(prefix="wheel-tool-"))
    blocks = re.findall(r"^(?:wheel|packaging)==.*?(?=^\S|\Z)", tools_lock.read_text(), re.MULTILINE | re.DOTALL)
    if len(blocks) != 2:
        fail(f"{tools_lock} must pin `wheel` and its dependency `packaging`")
    only_wheel = venv / "wheel.txt"
    only_wheel.write_text("".join(blocks))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip("--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-deps", "--require-hashes", "-r", str(only_wheel))
    return str(venv / "bin" / "python")


def strip_tools(flavor: str, toolchains: Path, tools_lock: Path, machine: str) -> tuple[str, str]:
    """`strip` for the machine's binaries (a cross one when it is not this machine's), and a Python with
    `wheel`; installed side by side, as neither needs the other."""
    native = machine == platform.machine()
    with ThreadPoolExecutor(max_workers=1) as background:
        python = background.submit(wheel_tool, tools_lock)
        install_toolchain(flavor, toolchains, "strip" if native else f"strip-{machine}")
        return ("strip" if native else f"{machine}-linux-gnu-strip"), python.result()


def with_modules(folder: Path) -> list[Path]:
    return [w for w in sorted(folder.glob("*.whl")) if any(n.endswith(".so") for n in zipfile.ZipFile(w).namelist())]


def strip_wheels(folder: Path, tools: tuple[str, str]) -> None:
    """Drops debug symbols from extension modules (strip --strip-unneeded) and repacks each wheel."""
    with ThreadPoolExecutor() as pool:
        for done in pool.map(lambda wheel: strip_wheel(wheel, *tools), with_modules(folder)):
            print(done, flush=True)


def strip_wheel(wheel: Path, strip: str, python: str) -> str:
    before = wheel.stat().st_size
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run([python, "-m", "wheel", "unpack", "--dest", scratch, str(wheel)], check=True, stdout=subprocess.DEVNULL)
        (unpacked,) = Path(scratch).iterdir()
        modules = sorted(str(p) for p in unpacked.rglob("*.so"))
        subprocess.run([strip, "--strip-unneeded", *modules], check=True)
        wheel.unlink()
        subprocess.run([python, "-m", "wheel", "pack", "--dest-dir", str(wheel.parent), str(unpacked)], check=True,
                       stdout=subprocess.DEVNULL)
    return f"wheelhouse: stripped {wheel.name}: {before:,} -> {wheel.stat().st_size:,} bytes"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def wheel_files(folder: Path) -> list[tuple[str, str, Path]]:
    """(normalised name, version, path) of every wheel in the folder, sorted by name."""
    found = []
    for path in sorted(folder.glob("*.whl")):
        match = WHEEL_NAME.match(path.name)
        if not match:
            fail(f"not a wheel file name: {path.name}")
        name = re.sub(r"[-_.]+", "-", match["name"]).lower()
        found.append((name, match["version"], path))
    return sorted(found)


def platform_facts() -> dict[str, object]:
    from pip._vendor.packaging import tags  # pip's own view of what this interpreter installs

    first = next(iter(tags.sys_tags()))
    return {
        "python_version": platform.python_version(),
        "python_series": "{}.{}".format(*sys.version_info[:2]),
        "implementation": sys.implementation.name,
        "abi": first.abi,
        "platform_tag": first.platform,
        "libc": "musl" if first.platform.startswith("musllinux") else "glibc",
        "machine": platform.machine(),
        "sysconfig_platform": sysconfig.get_platform(),
    }


def write_metadata(out: Path, args: argparse.Namespace, epoch: int) -> None:
    wheels = wheel_files(out)
    pins = [f"{name}=={version}" for name, version, _ in wheels]
    header = "# The wheelhouse's own lock: every wheel in this folder, with the sha256 of the file here.\n"
    lines = [f"{name}=={version} \\\n    --hash=sha256:{sha256(path)}" for name, version, path in wheels]
    (out / "requirements.txt").write_text(header + "\n".join(lines) + "\n")
    (out / "constraints.txt").write_text(
        "# The wheelhouse's pins, for a service's pip-compile and pip install -c.\n" + "\n".join(pins) + "\n"
    )
    facts = {
        "schema": 1,
        "flavor": args.flavor,
        **platform_facts(),
        "docker_platform": args.platform,
        "python_image": args.python_image,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)),
        "revision": args.revision,
        "version": args.version,
        "wheels": [path.name for _, _, path in wheels],
    }
    (out / "wheelhouse.json").write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n")


def check_flavor(flavor: str) -> None:
    release = Path("/etc/os-release").read_text() if Path("/etc/os-release").exists() else ""
    found = re.search(r"^ID=\"?([a-z]+)", release, re.MULTILINE)
    distro = found.group(1) if found else "unknown"
    if distro != flavor:
        fail(f"FLAVOR={flavor} but the Python image is {distro}; set PYTHON_IMAGE to a {flavor} image or FLAVOR={distro}")


def build(args: argparse.Namespace) -> None:
    check_flavor(args.flavor)
    print(f"wheelhouse: assembling the wheelhouse on {platform.machine()}", flush=True)
    out = Path(args.out)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or 0)
    fetched = Path(args.fetched)
    with tempfile.TemporaryDirectory() as scratch:
        compile_missing(fetched, Path(scratch), args.flavor, Path(args.toolchains), args.no_binary)
        if args.strip and with_modules(Path(scratch)):
            strip_wheels(Path(scratch), strip_tools(args.flavor, Path(args.toolchains), Path(args.tools_lock), platform.machine()))
        out.mkdir(parents=True, exist_ok=True)
        for wheel in [*fetched.glob("*.whl"), *Path(scratch).glob("*.whl")]:
            shutil.copyfile(wheel, out / wheel.name)
    write_metadata(out, args, epoch)
    # Same bytes, same mtimes: two builds of one commit give one digest.
    for path in [out, *out.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.utime(path, (epoch, epoch))
    print(f"wheelhouse: {len(list(out.glob('*.whl')))} wheels in {out}")


def verify(args: argparse.Namespace) -> None:
    print(f"wheelhouse: verifying on {platform.machine()} with the network cut", flush=True)
    # No bytecode: the proof needs none, and compiling it is most of the time under emulation.
    # The install resolves every dependency from /wheels alone, so a missing or conflicting one fails
    # it; a separate `pip check` would prove nothing more (and takes 16 s under arm64 emulation).
    python = install(Path(args.wheels), Path(tempfile.mkdtemp(prefix="wheelhouse-verify-")), compile_bytecode=False)
    subprocess.run([python, args.probe], check=True)


def install(wheels: Path, venv: Path, compile_bytecode: bool) -> str:
    """A venv without pip, with every wheel installed offline and hash-checked."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pip("--python", python, "install", "--no-index", "--find-links", str(wheels), "--no-cache-dir",
        "--require-hashes", "--only-binary=:all:", "--compile" if compile_bytecode else "--no-compile",
        "-r", str(wheels / "requirements.txt"))
    return python


def runtime(args: argparse.Namespace) -> None:
    install(Path(args.wheels), Path(args.venv), compile_bytecode=True)
    import ensurepip
    import importlib.util

    pip_spec = importlib.util.find_spec("pip")
    removed = [Path(ensurepip.__file__).parent / "_bundled", Path("/usr/share/python-wheels")]
    if pip_spec and pip_spec.origin:
        package = Path(pip_spec.origin).parent
        removed += [package, *package.parent.glob("pip-*.dist-info")]
    for folder in ("/usr/local/bin", "/usr/bin"):
        removed += [p for p in Path(folder).glob("pip*") if re.fullmatch(r"pip[0-9.]*", p.name)]
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    subprocess.run(["sh", str(Path(args.toolchains) / f"{args.flavor}.sh"), "trim"], check=True)
    leftovers = [str(p) for p in Path("/").rglob("*.whl") if not str(p).startswith(("/proc", "/sys", "/wheels"))]
    if leftovers:
        fail(f"wheel files left in the runtime image: {', '.join(leftovers)}")
    print(f"wheelhouse: runtime venv in {args.venv}; pip, bundled wheels and the package manager removed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    get = commands.add_parser("fetch")
    get.add_argument("--requirements", required=True)
    get.add_argument("--out", required=True)
    get.add_argument("--target-platform", default="")
    get.add_argument("--flavor", required=True)
    get.add_argument("--toolchains", required=True)
    get.add_argument("--no-binary", default="")
    get.add_argument("--strip", action=argparse.BooleanOptionalAction, default=True)
    get.add_argument("--tools-lock", default="")
    make = commands.add_parser("build")
    make.add_argument("--fetched", required=True)
    make.add_argument("--out", required=True)
    make.add_argument("--flavor", required=True)
    make.add_argument("--toolchains", required=True)
    make.add_argument("--no-binary", default="")
    make.add_argument("--strip", action=argparse.BooleanOptionalAction, default=True)
    make.add_argument("--tools-lock", default="")
    make.add_argument("--python-image", default="")
    make.add_argument("--platform", default="")
    make.add_argument("--revision", default="")
    make.add_argument("--version", default="")
    check = commands.add_parser("verify")
    check.add_argument("--wheels", required=True)
    check.add_argument("--probe", required=True)
    trim = commands.add_parser("runtime")
    trim.add_argument("--wheels", required=True)
    trim.add_argument("--venv", required=True)
    trim.add_argument("--flavor", required=True)
    trim.add_argument("--toolchains", required=True)
    args = parser.parse_args()
    {"fetch": fetch, "build": build, "verify": verify, "runtime": runtime}[args.command](args)


if __name__ == "__main__":
    main()
