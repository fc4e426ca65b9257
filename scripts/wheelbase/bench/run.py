"""Runs every measurement, prints each figure as it lands, and writes the table and the chart.

Two stacks are measured: the standard one (the debian flavor on the trixie stand-in, Python 3.13)
and the musl stand-in (flavor debian-musl), whose rows carry an `m` (figures 1, 3, 6 and 7)."""

from __future__ import annotations

import importlib.util
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from ..errors import FileError, UsageError
from ..layout import REPO, standins
from . import docker as engine
from . import load, loops, report, service, wheelhouse
from .figures import Figure
from .measure import Stack, publish

STANDINS = standins()
STANDARD = {"FLAVOR": "debian", "PYTHON_VERSION": STANDINS["STANDIN_PYTHON_VERSION"], "PYTHON_IMAGE": STANDINS["STANDIN_PYTHON_IMAGE"]}
MUSL = {"FLAVOR": "debian-musl", "PYTHON_VERSION": STANDINS["STANDIN_PYTHON_VERSION"],
        "PYTHON_IMAGE": STANDINS["STANDIN_MUSL_PYTHON_IMAGE"]}
REGISTRY = os.environ.get("WHEELBASE_BENCH_REGISTRY", "localhost:5000")


def _machine(runs: int, quick: bool) -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {
        "runs": f"{runs} ({'--quick' if quick else 'full'})",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": f"{os.cpu_count()} x {cpu}",
        "kernel": platform.release(),
        **{f"docker {k}": v for k, v in engine.versions().items()},
        "standard rows": f"flavor debian on {STANDARD['PYTHON_IMAGE']} (a stand-in: CPython {STANDINS['STANDIN_PYTHON_RELEASE']} "
                         "compiled as the official image is, without PGO and LTO; docs/development.md)",
        "musl rows (m)": f"flavor debian-musl on {MUSL['PYTHON_IMAGE']} (a stand-in: CPython {STANDINS['STANDIN_PYTHON_RELEASE']} "
                         "compiled against musl as the official Alpine image is, on a Debian userland)",
    }


def _order(figure: Figure) -> tuple[int, str]:
    return int(re.match(r"\d+", figure.number)[0]), figure.number  # type: ignore[index]


def check_prerequisites(out_dir: Path) -> None:
    """Everything a run needs, checked before it starts, so a long run never stops halfway with
    the docs half-written: the chart library, wrk, the engine, the registry, the stand-ins, and an
    output folder that can be written (it is not created yet)."""
    existing = out_dir
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise FileError(f"--out-dir {out_dir}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise FileError(f"--out-dir {out_dir}: cannot write in {existing}; choose another --out-dir")
    for name in ("benchmarks.md", "benchmarks.png"):
        target = out_dir / name
        if target.exists() and (not target.is_file() or not os.access(target, os.W_OK)):
            raise FileError(f"--out-dir {out_dir}: {target} cannot be written; make it a writable file or choose another folder")
    if importlib.util.find_spec("matplotlib") is None:
        raise UsageError("the benchmark draws its chart with matplotlib, which is not installed: "
                         "pip install 'wheelbase[bench]' (or run `make bench`)")
    if shutil.which("wrk") is None:
        raise UsageError("the benchmark measures throughput with wrk, which is not on PATH: apt-get install wrk")
    for image in (STANDARD["PYTHON_IMAGE"], MUSL["PYTHON_IMAGE"]):
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode:
            raise UsageError(f"the stand-in image {image} is missing (or the engine does not answer): run .ci/provision tests")
    try:
        urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=5).close()
    except OSError as exc:
        raise UsageError(f"the registry at {REGISTRY} does not answer ({exc}): run .ci/provision") from exc


def run(*, quick: bool, out_dir: Path, out: Callable[[str], None] = print) -> int:
    check_prerequisites(out_dir)
    runs = 1 if quick else 5
    figures: list[Figure] = []

    def record(new: list[Figure]) -> None:
        for figure in new:
            out(figure.line())
        figures.extend(new)

    with tempfile.TemporaryDirectory(prefix="wheelbase-bench-") as scratch:
        workdir = Path(scratch)
        standard = Stack("", "stand-in", {**STANDARD, "IMAGE": f"{REGISTRY}/wheelbase-bench/wheelhouse"}, workdir, runs)
        musl = Stack("m", "musl stand-in", {**MUSL, "IMAGE": f"{REGISTRY}/wheelbase-bench/wheelhouse-musl"}, workdir, runs)
        out(f"bench: {'quick: one run each' if quick else f'{runs} runs each'}")
        steps: list[Callable[[], list[Figure]]] = []
        publish(standard)
        own = service.make_own_image_service(standard, f"{REGISTRY}/wheelbase-bench/org-python:3.13")
        steps += [
            lambda: service.service_builds(standard, with_uv=True, own_image=own),
            lambda: service.rebuild_after_edit(standard),
            lambda: service.sizes(standard, own),
            lambda: service.startup(standard),
            lambda: load.throughput(standard, seconds=3 if quick else 10),
            lambda: loops.edit_to_served(standard),
            lambda: loops.locks(standard),
            lambda: service.compiled_extras(standard),
            lambda: wheelhouse.cold_build(standard),
            lambda: wheelhouse.publish_jobs(standard),
        ]
        for step in steps:
            record(step())
        publish(musl)
        for step in [lambda: service.service_builds(musl, with_uv=False, own_image=None), lambda: service.sizes(musl, None),
                     lambda: service.startup(musl), lambda: load.throughput(musl, seconds=3 if quick else 10)]:
            record(step())
        machine = _machine(runs, quick)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures.sort(key=_order)
    notes = report.kept_notes(REPO / "docs" / "benchmarks.md")  # the repository's, wherever this run writes
    (out_dir / "benchmarks.md").write_text(report.markdown(figures, machine, notes))
    report.chart(figures, out_dir / "benchmarks.png")
    if out_dir.resolve() == (REPO / "docs").resolve():
        report.update_readme(REPO / "README.md", figures, machine)
    out(f"bench: wrote {out_dir / 'benchmarks.md'} and {out_dir / 'benchmarks.png'}")
    return 0
