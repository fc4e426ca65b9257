"""Runs every measurement, prints each figure as it lands, and writes the table and the chart."""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

from ..image_ref import ImageRef
from ..layout import REPO, default_base
from . import docker as engine
from . import measure, report
from .figures import Figure


def _machine(bench: measure.Bench, quick: bool) -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {
        "runs": f"{bench.runs} ({'--quick' if quick else 'full'})",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": f"{os.cpu_count()} x {cpu}",
        "kernel": platform.release(),
        **{f"docker {k}": v for k, v in engine.versions().items()},
        "python image": bench.python_image,
        "flavor": bench.env.get("FLAVOR", "alpine"),
    }


def run(*, quick: bool, out_dir: Path) -> int:
    env = {k: v for k, v in os.environ.items() if k in ("FLAVOR", "PYTHON_IMAGE", "PYTHON_VERSION", "IMAGE", "SOURCE_DATE_EPOCH")}
    base = default_base()
    flavor, version = env.get("FLAVOR", "alpine"), env.get("PYTHON_VERSION", "3.13")
    repository = env.get("IMAGE", base.repository)
    python_image = env.get("PYTHON_IMAGE") or engine.bake_definition(["base"], cwd=REPO)["target"]["base"]["args"]["PYTHON_IMAGE"]
    with tempfile.TemporaryDirectory(prefix="wheelbase-bench-") as scratch:
        bench = measure.Bench(workdir=Path(scratch), runs=1 if quick else 5, python_image=python_image,
                              wheelhouse_tag=str(ImageRef(repository, f"py{version}-{flavor}")), env=env)
        figures: list[Figure] = []

        def record(new: list[Figure]) -> None:
            for figure in new:
                print(figure.line(), flush=True)
            figures.extend(new)

        print(f"bench: {'quick: one run each' if quick else f'{bench.runs} runs each'}; python image {python_image}", flush=True)
        record(measure.wheelhouse_cold_build(bench))
        measure.make_service(bench)
        record(measure.service_build(bench))
        record(measure.rebuild_after_edit(bench))
        record(measure.sizes(bench))
        record(measure.startup(bench))
        record(measure.throughput(bench, seconds=3 if quick else 10))
        record(measure.multiplatform(bench))
        machine = _machine(bench, quick)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures.sort(key=lambda f: (int("".join(c for c in f.number if c.isdigit())), f.number))
    (out_dir / "benchmarks.md").write_text(report.markdown(figures, machine))
    report.chart(figures, out_dir / "benchmarks.png")
    if out_dir.resolve() == (REPO / "docs").resolve():
        report.update_readme(REPO / "README.md", figures, machine)
    print(f"bench: wrote {out_dir / 'benchmarks.md'} and {out_dir / 'benchmarks.png'}")
    return 0
