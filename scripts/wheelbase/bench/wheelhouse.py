"""Figures of the wheelhouse build itself: a cold build against a bare download, and each machine's
job of the publish workflow (build, test, push by digest: here arm64 runs under QEMU)."""

from __future__ import annotations

import os

from ..layout import BASE_IMAGE_DIR, REPO, standins
from . import docker as engine
from .figures import Figure
from .measure import Stack, timed

INF = float("inf")
MULTI_PYTHON_IMAGE = os.environ.get("WHEELBASE_MULTI_PYTHON_IMAGE", standins()["STANDIN_MULTI_PYTHON_IMAGE"])


def pip_download_floor(stack: Stack) -> float:
    """`pip download` of the same locked set in the same Python image, no cache: the floor."""
    mounts = ["-v", f"{BASE_IMAGE_DIR / 'requirements.txt'}:/tmp/requirements.txt:ro"]
    cert = os.environ.get("PIP_CERT")
    env = ["-e", "PIP_CERT=/run/secrets/pip_cert", "-v", f"{cert}:/run/secrets/pip_cert:ro"] if cert else []
    cmd = ["run", "--rm", *mounts, *env, stack.python_image, "python", "-m", "pip", "download", "--quiet",
           "--no-cache-dir", "--require-hashes", "--only-binary=:all:", "-d", "/tmp/wheels", "-r", "/tmp/requirements.txt"]
    return timed(lambda: engine.run(cmd))


def cold_build(stack: Stack) -> list[Figure]:
    ours, floor, stage = [], [], []
    for _ in range(stack.runs):
        floor.append(pip_download_floor(stack))
        engine.prune_cache_mounts()
        stage.append(timed(lambda: engine.bake(["base"], cwd=REPO, env=stack.env, extra=["--no-cache"],
                                               overrides=["base.target=build", "base.tags=", "base.output=type=cacheonly"])))
        engine.prune_cache_mounts()
        ours.append(timed(lambda: engine.bake(["base"], cwd=REPO, env=stack.env, extra=["--push", "--no-cache"])))
    return [
        Figure("5", "wheelhouse cold build (bake base: wheels, strip, test, image)", "s", ours, floor,
               "pip download of the same set", "<= 1.5x pip download", "ratio<=", 1.5,
               f"{stack.label}; no layer cache and empty pip/apt cache mounts"),
        Figure("5b", "wheelhouse wheels alone (fetch, strip, assemble; no test stage, no image)", "s", stage, floor,
               "pip download of the same set", "(context)", "ratio<=", INF),
    ]


def platform_job(stack: Stack, platform: str, stage: str) -> float:
    """A cold `bake release` (or one stage of the wheelhouse) for one platform: one publish job."""
    env = {**stack.env, "PYTHON_IMAGE": MULTI_PYTHON_IMAGE}
    targets = ["release"] if stage == "release" else ["base"]
    overrides = [f"*.platform={platform}", "*.tags=", "*.output=type=cacheonly"]
    if stage != "release":
        overrides.append(f"base.target={stage}")
    engine.prune_cache_mounts()
    return timed(lambda: engine.bake(targets, cwd=REPO, env=env, extra=["--no-cache"], overrides=overrides))


def emulated_pip_wheel() -> float:
    """What fetching natively avoids: pip wheel of the same lock inside an emulated arm64 container."""
    mounts = ["-v", f"{BASE_IMAGE_DIR / 'requirements.txt'}:/tmp/requirements.txt:ro"]
    cert = os.environ.get("PIP_CERT")
    env = ["-e", "PIP_CERT=/run/secrets/pip_cert", "-v", f"{cert}:/run/secrets/pip_cert:ro"] if cert else []
    cmd = ["run", "--rm", "--platform", "linux/arm64", *mounts, *env, MULTI_PYTHON_IMAGE, "python", "-m", "pip", "wheel",
           "--quiet", "--no-cache-dir", "--require-hashes", "-w", "/tmp/wheels", "-r", "/tmp/requirements.txt"]
    return timed(lambda: engine.run(cmd))


def publish_jobs(stack: Stack) -> list[Figure]:
    """Each machine's job of the publish workflow; on GitHub they run side by side on native runners,
    so the publish's critical path is the slower job (plus the merge, a few seconds)."""
    amd, arm, amd_wheels, arm_wheels, emulated = [], [], [], [], []
    for _ in range(min(stack.runs, 3)):  # each emulated arm64 job spends minutes under QEMU
        amd.append(platform_job(stack, "linux/amd64", "release"))
        arm.append(platform_job(stack, "linux/arm64", "release"))
        amd_wheels.append(platform_job(stack, "linux/amd64", "build"))
        arm_wheels.append(platform_job(stack, "linux/arm64", "build"))
    for _ in range(min(stack.runs, 2)):
        emulated.append(emulated_pip_wheel())
    return [
        Figure("4", "arm64 publish job (wheelhouse and runtime: build, test stage, image), run here under QEMU", "s", arm, amd,
               "amd64 job", "<= 1.5x amd64", "ratio<=", 1.5,
               "emulated here: the test stage and the runtime's install run under QEMU; the publish workflow runs "
               "this job on a native arm64 runner (ubuntu-24.04-arm), beside the amd64 one", emulated=True),
        Figure("4b", "arm64 wheels alone (fetched and stripped natively, assembled under QEMU)", "s", arm_wheels, amd_wheels,
               "amd64 wheels alone", "(context)", "ratio<=", INF),
        Figure("4c", "pip wheel of the same lock under arm64 emulation", "s", emulated, amd_wheels,
               "amd64 wheels alone", "(context)", "ratio<=", INF),
    ]
