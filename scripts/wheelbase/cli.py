"""The `wheelbase` command: a thin layer over the modules that do the work."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from . import files
from .errors import FileError, WheelbaseError
from .files import reason
from .output import Console

console = Console()


class Interrupted(BaseException):
    """SIGTERM, SIGHUP or SIGQUIT, raised like KeyboardInterrupt so that every `finally` runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _new(args: argparse.Namespace) -> int:
    from .new import new, unpublished_note

    created = new(args.name, Path(args.output_dir), args.base, args.template, own_image=args.own_image)
    console.line(f"created {created}")
    note = unpublished_note(created)
    if note:
        console.error(note)
    console.line(f"next: cd {created} && docker buildx bake test image")
    return 0


def _pin(args: argparse.Namespace) -> int:
    from .pin import pin

    return pin([Path(p) for p in args.paths], args.base, dry_run=args.dry_run, check=args.check, out=console.line,
               warn=console.error)


def _resolve(args: argparse.Namespace) -> int:
    from .image_ref import ImageRef
    from .release import release_tags, resolve_wheelhouse

    for image in args.images or release_tags():
        wheelhouse = resolve_wheelhouse(ImageRef.parse(image, source="IMAGE:TAG"))
        console.line(str(wheelhouse.ref))
        console.line(f"  python {wheelhouse.python_version}, flavor {wheelhouse.flavor}, built on {wheelhouse.python_image}"
                     + (f", interface {wheelhouse.interface}" if wheelhouse.interface else ""))
        console.line(f"  platforms: {', '.join(wheelhouse.platforms)}")
    return 0


def _lock(args: argparse.Namespace) -> int:
    from .lock import lock

    started = time.monotonic()
    written = lock(Path(args.path), upgrade=args.upgrade, progress=console.line)
    for path in written:
        console.line(f"wrote {path}")
    console.line(f"lock: done in {time.monotonic() - started:.1f} s")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from .audit import audit
    from .layout import SHIPPED_LOCKS

    return audit([Path(path) for path in args.requirements or SHIPPED_LOCKS], out=console.line)


def _bench(args: argparse.Namespace) -> int:
    from .bench.run import run

    return run(quick=args.quick, out_dir=Path(args.out_dir), out=console.line)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="wheelbase", description="Shared wheelhouse images and FastAPI services built on them.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    new = commands.add_parser("new", help="create a service from the template, pinned to the current wheelhouse")
    new.add_argument("name", help='the service name, for example "Orders API" (folder orders-api)')
    new.add_argument("--output-dir", default=".", help="where the service folder is created (default: .)")
    new.add_argument("--base", metavar="IMAGE:TAG", help="wheelhouse tag to pin (default: the template's)")
    new.add_argument("--template", metavar="GIT-URL",
                     help="URL of the wheelbase repository (https://, ssh:// or file://; default: $WHEELBASE_TEMPLATE, "
                          "else this checkout, recorded as its origin)")
    new.add_argument("--own-image", metavar="IMAGE:TAG",
                     help="deploy on this Python image (your organisation's) instead of the shared runtime")
    new.set_defaults(run=_new)

    pin = commands.add_parser("pin", help="pin services to the registry's current digest of a wheelhouse tag")
    pin.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="Dockerfiles or folders (default: .)")
    pin.add_argument("--base", metavar="IMAGE:TAG", help="wheelhouse tag to pin (default: the tag already pinned)")
    mode = pin.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    mode.add_argument("--check", action="store_true", help="change nothing; exit 5 if a pin is stale or missing")
    pin.set_defaults(run=_pin)

    resolve = commands.add_parser("resolve", help="print the pin (IMAGE:TAG@sha256:...) a wheelhouse tag has now")
    resolve.add_argument("images", nargs="*", metavar="IMAGE:TAG",
                         help="default: the wheelhouse and runtime tags `docker buildx bake release` pushes from this checkout")
    resolve.set_defaults(run=_resolve)

    lock = commands.add_parser("lock", help="recompile requirements with pip-tools on the image they serve")
    lock.add_argument("path", nargs="?", default=".", help="the repository root (base) or a service folder")
    lock.add_argument("--upgrade", action="store_true", help="re-resolve every pin (default: keep pins, change what the .in asks)")
    lock.set_defaults(run=_lock)

    audit = commands.add_parser("audit", help="pip-audit locks; a package that could not be audited fails")
    audit.add_argument("requirements", nargs="*", metavar="LOCK",
                       help="requirements locks (default, in a wheelbase checkout: every lock the images ship)")
    audit.set_defaults(run=_audit)

    bench = commands.add_parser("bench", help="measure build speed, image size and serving speed against the plain way")
    bench.add_argument("--quick", action="store_true", help="each measurement once (for CI); still prints every figure")
    bench.add_argument("--out-dir", default="docs", help="where benchmarks.md and benchmarks.png go (default: docs)")
    bench.set_defaults(run=_bench)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, _interrupt)
    files.finish_once_committed()
    try:
        code = int(args.run(args))
    except WheelbaseError as exc:
        console.error(f"wheelbase: error: {exc}")
        return exc.exit_code
    except OSError as exc:  # what the operating system refused where no module said it better
        what = f"{exc.filename}: " if exc.filename else ""
        console.error(f"wheelbase: error: {what}{reason(exc)}")
        return FileError.exit_code
    except KeyboardInterrupt:
        console.error("wheelbase: interrupted")
        return 128 + signal.SIGINT
    except Interrupted as exc:
        console.error("wheelbase: interrupted")
        return 128 + exc.signum
    if console.stdout_failed:
        console.error(f"wheelbase: note: standard output failed ({console.stdout_failed}), so not all was shown; "
                      f"the command itself {'succeeded' if code == 0 else f'exited {code}'}, and its changes stand")
    return code


if __name__ == "__main__":
    sys.exit(main())
