"""Builds and verifies the wheelhouse inside the build image (standard library and pip only).

build:  pip wheel the hash-locked requirements into a folder, compiling only what ships no
        wheel for this platform, strip debug symbols from extension modules, then write requirements.txt (hashes of the files that are
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


def fetch_wheels(requirements: Path, out: Path, flavor: str, toolchains: Path, no_binary: str) -> None:
    base = ["wheel", "--require-hashes", "--wheel-dir", str(out), "-r", str(requirements)]
    if no_binary:
        install_toolchain(flavor, toolchains, "compile")
        pip(*base, "--no-binary", no_binary)
        return
    binary_only = pip(*base, "--only-binary=:all:", check=False)
    if binary_only.returncode == 0:
        return
    if not NO_WHEEL.search(binary_only.stdout):
        fail("pip wheel failed (see above); nothing was compiled")
    install_toolchain(flavor, toolchains, "compile")
    pip(*base)


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


def strip_wheels(folder: Path, flavor: str, toolchains: Path, tools_lock: Path) -> None:
    """Drops debug symbols from extension modules (strip --strip-unneeded) and repacks each wheel."""
    with_modules = [w for w in sorted(folder.glob("*.whl")) if any(n.endswith(".so") for n in zipfile.ZipFile(w).namelist())]
    if not with_modules:
        return
    install_toolchain(flavor, toolchains, "strip")
    python = wheel_tool(tools_lock)
    for wheel in with_modules:
        before = wheel.stat().st_size
        with tempfile.TemporaryDirectory() as scratch:
            subprocess.run([python, "-m", "wheel", "unpack", "--dest", scratch, str(wheel)], check=True, stdout=subprocess.DEVNULL)
            (unpacked,) = Path(scratch).iterdir()
            modules = sorted(str(p) for p in unpacked.rglob("*.so"))
            subprocess.run(["strip", "--strip-unneeded", *modules], check=True)
            wheel.unlink()
            subprocess.run([python, "-m", "wheel", "pack", "--dest-dir", str(folder), str(unpacked)], check=True,
                           stdout=subprocess.DEVNULL)
        print(f"wheelhouse: stripped {wheel.name}: {before:,} -> {wheel.stat().st_size:,} bytes", flush=True)


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
    out = Path(args.out)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or 0)
    with tempfile.TemporaryDirectory() as scratch:
        fetch_wheels(Path(args.requirements), Path(scratch), args.flavor, Path(args.toolchains), args.no_binary)
        if args.strip:
            strip_wheels(Path(scratch), args.flavor, Path(args.toolchains), Path(args.tools_lock))
        out.mkdir(parents=True, exist_ok=True)
        for wheel in Path(scratch).glob("*.whl"):
            shutil.copyfile(wheel, out / wheel.name)
    write_metadata(out, args, epoch)
    # Same bytes, same mtimes: two builds of one commit give one digest.
    for path in [out, *out.iterdir()]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.utime(path, (epoch, epoch))
    print(f"wheelhouse: {len(list(out.glob('*.whl')))} wheels in {out}")


def verify(args: argparse.Namespace) -> None:
    python = install(Path(args.wheels), Path(tempfile.mkdtemp(prefix="wheelhouse-verify-")))
    pip("--python", python, "check")
    subprocess.run([python, args.probe], check=True)


def install(wheels: Path, venv: Path) -> str:
    """A venv without pip, with every wheel installed offline, hash-checked, bytecode compiled."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pip("--python", python, "install", "--no-index", "--find-links", str(wheels), "--no-cache-dir",
        "--require-hashes", "--only-binary=:all:", "--compile", "-r", str(wheels / "requirements.txt"))
    return python


def runtime(args: argparse.Namespace) -> None:
    install(Path(args.wheels), Path(args.venv))
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
    make = commands.add_parser("build")
    make.add_argument("--requirements", required=True)
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
    {"build": build, "verify": verify, "runtime": runtime}[args.command](args)


if __name__ == "__main__":
    main()
