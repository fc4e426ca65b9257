"""Figures of a service on a stack: its build against the plain way, the floor and uv's pattern,
the own-image choice, a rebuild, the bytes it adds and its start (its throughput: load.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from . import docker as engine
from .figures import Figure
from .measure import RESOURCES, UV_VERSION, Stack, container_name, first_ok, free_port, timed

INF = float("inf")


def build_service(stack: Stack, tag: str, **build_args: str) -> float:
    return timed(lambda: engine.build(stack.service, tag=tag, target="deploy", no_cache=True, secrets=stack.secrets,
                                      build_args=build_args))


def build_resource(stack: Stack, context: str, tag: str, **build_args: str) -> float:
    """A comparison image (resources/<context>.Dockerfile) built from the service's app and lock."""
    dockerfile = RESOURCES / f"{context}.Dockerfile"
    return timed(lambda: engine.build(stack.plain, tag=tag, dockerfile=dockerfile, no_cache=True, secrets=stack.secrets,
                                      build_args=build_args))


def service_builds(stack: Stack, *, with_uv: bool, own_image: str | None) -> list[Figure]:
    """Each way of building the same service, alternated run by run so drift touches all alike.

    A build right after a heavy one (plain, uv, own image: tens of megabytes replaced) is slower:
    measured here, about 12% for the service and 5% for the floor. So the service, the floor and
    the same service as the template made it before the platform shipped its code, the closest
    builds, go back to back, each first in turn."""
    before = make_service_made_before(stack)
    ours: list[float] = []
    floor: list[float] = []
    previous: list[float] = []
    plain: list[float] = []
    uv: list[float] = []
    own: list[float] = []
    builds: dict[str, tuple[list[float], Callable[[], float]]] = {
        "service": (ours, lambda: build_service(stack, stack.tag("service"))),
        "floor": (floor, lambda: build_resource(stack, "floor", stack.tag("floor"), RUNTIME_IMAGE=stack.runtime)),
        "before": (previous, lambda: timed(lambda: engine.build(before, tag=stack.tag("before"), target="deploy",
                                                                  no_cache=True, secrets=stack.secrets))),
    }
    order = list(builds)
    for run in range(stack.runs):
        for which in order[run % 3:] + order[: run % 3]:
            samples, build = builds[which]
            samples.append(build())
        plain.append(build_resource(stack, "plain", stack.tag("plain"), PYTHON_IMAGE=stack.python_image))
        if with_uv:
            uv.append(build_resource(stack, "uv", stack.tag("uv"), PYTHON_IMAGE=stack.python_image, UV_VERSION=UV_VERSION))
        if own_image is not None:
            own.append(timed(lambda: engine.build(stack.service.parent / "own-image", tag=stack.tag("own-image"),
                                                  target="deploy", no_cache=True, secrets=stack.secrets)))
    s = stack.suffix
    figures = [
        Figure(f"1{s}", "service image build, no build cache", "s", ours, plain, "plain pip install -r", "<= 0.25x plain",
               "ratio<=", 0.25, stack.label),
        Figure(f"1{s}-floor", "service image build vs the floor (same runtime, COPY app/, USER)", "s", ours, floor,
               "the floor", "<= 1.5x the floor", "ratio<=", 1.5, stack.label),
        Figure(f"1{s}-before", "service image build vs the same service made before the platform shipped its code",
               "s", ours, previous, "its own copies of the build scripts, same runtime", "(context)", "ratio<=", INF,
               stack.label),
    ]
    if uv:
        figures.append(Figure(f"1{s}-uv", "service image build vs uv's multistage pattern", "s", ours, uv,
                              f"uv {UV_VERSION} multistage, same lock", "<= 0.2x uv", "ratio<=", 0.2, stack.label))
    if own:
        figures.append(Figure(f"1{s}-own", "service on its own Python image (stack installed from /wheels)", "s", own, plain,
                              "plain pip install -r", "(context)", "ratio<=", INF, stack.label))
    return figures


def make_service_made_before(stack: Stack) -> Path:
    """The stack's service as the last template with copies of the platform's code renders it
    (docker/, app/http_limits.py, app/healthcheck.py; no interface), on the same pinned wheelhouse,
    runtime and Python image: what a service made before the change builds as today."""
    import cruft  # slow to import; only this and `new` need it

    from ..interface import LAST_TEMPLATE_WITH_COPIES
    from ..layout import REPO, TEMPLATE_DIRECTORY
    from ..service_files import read_dockerfile

    pins = {pin.name: pin.value for pin in read_dockerfile(stack.service / "Dockerfile").pins}
    context = {"service_name": "Bench Service", "base_image": pins["BASE_IMAGE"], "runtime_image": pins["RUNTIME_IMAGE"],
               "python_image": pins["PYTHON_IMAGE"]}
    out = stack.workdir / f"before{stack.suffix}"
    return Path(cruft.create(f"file://{REPO}", checkout=LAST_TEMPLATE_WITH_COPIES, directory=TEMPLATE_DIRECTORY,
                             no_input=True, output_dir=out, extra_context=context))


def make_own_image_service(stack: Stack, registry_image: str) -> str:
    """An organisation's own Python image (the stand-in plus a layer of its own), pushed, and a
    service made on it with `wheelbase new --own-image`; returns the image's pinned reference."""
    from ..layout import REPO
    from ..new import new

    context = stack.workdir / "org-image"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {stack.python_image}\nLABEL org.example.hardened=true\n")
    engine.run(["buildx", "build", "--quiet", "--provenance=false", "--tag", registry_image, "--push", str(context)])
    created = new("Own Image", stack.service.parent, stack.base, template=f"file://{REPO}", own_image=registry_image)
    engine.run(["pull", "--quiet", registry_image])
    pinned = next(line.split("=", 1)[1] for line in (created / "Dockerfile").read_text().splitlines()
                  if line.startswith("ARG PYTHON_IMAGE="))
    return pinned.split("@")[0]


def rebuild_after_edit(stack: Stack) -> list[Figure]:
    main = stack.service / "app" / "main.py"
    engine.build(stack.service, tag=stack.tag("service"), target="deploy")
    times = []
    for run in range(max(stack.runs, 3)):
        main.write_text(main.read_text() + f"# edit {run}\n")
        times.append(timed(lambda: engine.build(stack.service, tag=stack.tag("service"), target="deploy")))
    return [Figure(f"2{stack.suffix}", "rebuild after a one-line change in app/", "s", times, None, "", "<= 1.0 s median",
                   "value<=", 1.0, stack.label)]


def sizes(stack: Stack, own_image: str | None) -> list[Figure]:
    python = engine.image_size(stack.python_image)
    runtime = engine.image_size(stack.runtime)
    added = (engine.image_size(stack.tag("service")) - runtime) / 1e6
    naive = (engine.image_size(stack.tag("plain")) - python) / 1e6
    s = stack.suffix
    figures = [
        Figure(f"3{s}", "bytes the service image adds to its runtime image (standard stack, no extras)", "MB", [added],
               [naive], "plain venv with pip, on the Python image", "<= 15 MB", "value<=", 15.0, stack.label),
        Figure(f"3{s}-runtime", "the shared runtime vs its Python image (paid once per node, not per service)", "MB",
               [(engine.filesystem_size(stack.runtime) - engine.filesystem_size(stack.python_image)) / 1e6], [naive],
               "plain venv with pip, on the Python image", "(context)", "value<=", INF,
               f"{stack.label}; file systems compared, not layers (the runtime is one layer); stack in /opt/venv, "
               "stripped; pip, bundled wheels and package manager removed"),
    ]
    if own_image is not None:
        own = (engine.image_size(stack.tag("own-image")) - engine.image_size(own_image)) / 1e6
        figures.append(Figure(f"3{s}-own", "bytes the own-image service adds to its own Python image (stack and app)", "MB",
                              [own], [naive], "plain venv with pip, on the Python image", "(context)", "value<=", INF,
                              f"{stack.label}; not shared between services: each carries its own stack layer"))
    return figures


def start_to_first_ok(image: str, env: dict[str, str] | None = None) -> float:
    port, name = free_port(), container_name()
    started = time.perf_counter()
    try:
        engine.start(image, name=name, env={"PORT": str(port), **(env or {})})
        if not first_ok(port, "/healthz", started + 30):
            raise RuntimeError(f"{image} did not answer /healthz within 30 s")
        return time.perf_counter() - started
    finally:
        engine.remove(name)


def startup(stack: Stack) -> list[Figure]:
    """With the shipped bytecode, and with Python sent to an empty bytecode folder (what not shipping it costs)."""
    ours, source_only = [], []
    image = stack.tag("service")
    for _ in range(max(stack.runs, 3)):
        ours.append(start_to_first_ok(image))
        source_only.append(start_to_first_ok(image, {"PYTHONPYCACHEPREFIX": "/tmp/no-bytecode"}))
    pyc = engine.run(["run", "--rm", "--entrypoint", "sh", image, "-c", "find /opt/venv -name '*.pyc' -exec cat {} + | wc -c"])
    return [Figure(f"7{stack.suffix}", "docker run to the first 200 from /healthz", "s", ours, source_only,
                   "same image ignoring its bytecode", "<= 1.0 s median", "value<=", 1.0,
                   f"{stack.label}; shipped bytecode: {int(pyc.stdout.strip()) / 1e6:.1f} MB in the shared runtime")]


COMPILED_EXTRAS = "docopt\npsycopg2\n"  # an sdist-only pure-Python package, and a C extension linking libpq


def compiled_extras(stack: Stack) -> list[Figure]:
    """The cost of extras without wheels, per service: the build with them compiled (no cache), and
    the bytes their wheels add (psycopg2's carries libpq and what libpq links)."""
    import shutil

    from ..lock import lock

    service = stack.workdir / "compiled-extras"
    shutil.copytree(stack.service, service)
    (service / "requirements.in").write_text(COMPILED_EXTRAS)
    (service / "build-packages.txt").write_text("debian: libpq-dev\nalpine: libpq-dev\n")
    lock(service)
    tag = stack.tag("compiled")
    ours, plain = [], []
    for _ in range(min(stack.runs, 3)):
        plain.append(build_service(stack, stack.tag("service")))
        ours.append(timed(lambda: engine.build(service, tag=tag, target="deploy", no_cache=True, secrets=stack.secrets)))
    added = (engine.image_size(tag) - engine.image_size(stack.tag("service"))) / 1e6
    return [
        Figure("10", "service build with docopt and psycopg2 compiled from their sdists (no cache)", "s", ours, plain,
               "the same service without extras", "(context)", "ratio<=", INF,
               f"{stack.label}; toolchain, libpq-dev, build, auditwheel repair, offline install"),
        Figure("10b", "bytes the compiled extras add to the service image", "MB", [added], None, "", "(context)", "value<=", INF,
               f"{stack.label}; psycopg2's repaired wheel carries libpq and the libraries it links"),
    ]
