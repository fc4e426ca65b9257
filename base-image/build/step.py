"""The steps a service's build runs, shipped in the wheelhouse image as /wheels/build/step.py.

    python /wheels/build/step.py STEP [ARGUMENT...]

A service's Dockerfile names the steps and mounts /wheels; what each step does is the pinned
wheelhouse's, so a pin bump moves a service's build logic with its wheels. Every step first
checks the interface: the `ARG WHEELBASE_INTERFACE` the Dockerfile declares (in the step's stage,
so in its environment) against the one this wheelhouse speaks (/wheels/build/INTERFACE, written by
its build). Within one interface the steps, their arguments, the paths they read and write, and
the serving commands of the runtime keep their meaning; a release that changes any raises it.

Interface 1:
  check [--image] [--wheels] [--extras=V] [FILE...]
                          the guards (guard.py): --image and --extras load nothing but os and sys
  install-stack           the stack (and wheelbase-serve) into /opt/venv, offline, hash-checked,
                          with bytecode, by the wheelhouse's pip: a service on its own Python image
  extras OUT              the extras of ./requirements.txt as wheels in OUT, with their lock: binary
                          wheels downloaded, the rest compiled (./build-packages.txt,
                          ./requirements-build.txt) and repaired (wheels.py); the one networked step
  install-extras DIR      DIR's wheels into this Python's environment, offline, held to the
                          wheelhouse's pins; pip's report in /opt/wheelbase/extras-report.json
  install-dev FILE UID    FILE's test tools (hash-checked, held to the pins), and the user `app`
                          with that UID, by name: Compose's file sync looks the user up
  lock-tools FILE         pip-tools into /opt/lock-tools, and the toolchain and FILE's system
                          packages when FILE (build-packages.txt) names any
  lock OUT                ./requirements-build.txt, then ./requirements.txt and
                          ./requirements-test.txt from their .in files (lock.sh) into OUT;
                          UPGRADE=true re-resolves every pin
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WHEELS = os.path.dirname(HERE)
DECLARED = "WHEELBASE_INTERFACE"


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)


def check_interface():
    """The Dockerfile's interface against this wheelhouse's; one sentence naming both when they differ."""
    with open(os.path.join(HERE, "INTERFACE"), encoding="utf-8") as file:
        ours = file.read().strip()
    declared = os.environ.get(DECLARED, "")
    if declared == ours:
        return
    if not declared:
        fail(f"this stage of the Dockerfile does not declare `ARG {DECLARED}`, so the wheelhouse (interface {ours}) "
             "cannot tell which steps it expects; add the line to the stage, as the template's Dockerfile does")
    import json  # pylint: disable=import-outside-toplevel

    with open(os.path.join(WHEELS, "wheelhouse.json"), encoding="utf-8") as file:
        facts = json.load(file)
    fail(f"this Dockerfile speaks wheelbase interface {declared} (ARG {DECLARED}), but the pinned wheelhouse speaks "
         f"interface {ours} (built {facts.get('created', '?')} from revision {facts.get('revision') or '?'}); run "
         f"`cruft update` to take the template's Dockerfile for interface {ours}, or pin a wheelhouse release of "
         f"interface {declared}")


def run(*command, cwd=None):
    """Runs one command of a step, echoed as the build log shows it; its failure ends the step."""
    import subprocess  # pylint: disable=import-outside-toplevel

    print("+", " ".join(command), flush=True)
    done = subprocess.run(command, cwd=cwd, check=False)
    if done.returncode:
        sys.exit(done.returncode)


def pip(python, *args, secrets=False):
    """The wheelhouse's own pip, run from its wheel under `python`: no pip enters any image."""
    from guard import facts  # pylint: disable=import-outside-toplevel

    wrapper = ("sh", os.path.join(HERE, "with-pip-secrets.sh")) if secrets else ()
    run(*wrapper, python, os.path.join(WHEELS, facts()["tools"]["pip"], "pip"), "--disable-pip-version-check", *args)


def venv(path, *options):
    run(sys.executable, "-m", "venv", "--without-pip", *options, path)


def install_stack():
    guard("--image", "--wheels")
    venv("/opt/venv")
    pip("/opt/venv/bin/python", "install", "--quiet", "--no-index", "--no-cache-dir", "--require-hashes",
        "--only-binary=:all:", "--compile", "--find-links", WHEELS, "-r", os.path.join(WHEELS, "requirements.txt"))


def extras(out):
    guard("--image", "--wheels")
    venv("/opt/tools", "--system-site-packages")
    tools = os.path.join(WHEELS, "tools")
    pip("/opt/tools/bin/python", "install", "--quiet", "--no-index", "--find-links", tools, "--require-hashes",
        "-r", os.path.join(tools, "requirements.txt"))
    run("sh", os.path.join(HERE, "with-pip-secrets.sh"), "/opt/tools/bin/python", os.path.join(HERE, "wheels.py"),
        "extras", "requirements.txt", os.path.join(WHEELS, "constraints.txt"), out)


def install_extras(folder):
    os.makedirs("/opt/wheelbase", exist_ok=True)
    pip(sys.executable, "install", "--no-index", "--find-links", folder, "--require-hashes", "--compile",
        "-c", os.path.join(WHEELS, "constraints.txt"), "-r", os.path.join(folder, "requirements.txt"),
        "--report", "/opt/wheelbase/extras-report.json")


def install_dev(requirements, uid):
    if not uid.isdigit():
        fail(f"install-dev takes the user's numeric UID, not {uid!r}")
    guard("--wheels", requirements)
    pip(sys.executable, "install", "--require-hashes", "-c", os.path.join(WHEELS, "constraints.txt"),
        "-r", requirements, secrets=True)
    with open("/etc/passwd", "a", encoding="utf-8") as users, open("/etc/group", "a", encoding="utf-8") as groups:
        users.write(f"app:x:{uid}:{uid}:app:/srv:/sbin/nologin\n")
        groups.write(f"app:x:{uid}:\n")


def lock_tools(build_packages):
    guard("--image", "--wheels")
    venv("/opt/lock-tools")
    pip("/opt/lock-tools/bin/python", "install", "--quiet", "--no-deps", "--require-hashes",
        "-r", os.path.join(HERE, "lock-tools.txt"), secrets=True)
    run("/opt/lock-tools/bin/python", os.path.join(HERE, "wheels.py"), "toolchain", build_packages,
        os.path.join(WHEELS, "wheelhouse.json"))


def lock(out):
    guard("requirements.in", "requirements-test.in")
    os.makedirs(out)
    os.environ["CONSTRAINTS"] = os.path.join(WHEELS, "constraints.txt")
    run("sh", os.path.join(HERE, "with-pip-secrets.sh"), "sh", os.path.join(HERE, "lock.sh"), out,
        "requirements-build", "requirements", "requirements-test")


def guard(*args):
    import guard as guards  # pylint: disable=import-outside-toplevel

    guards.main(list(args))


STEPS = {
    "check": (guard, None),
    "install-stack": (install_stack, 0),
    "extras": (extras, 1),
    "install-extras": (install_extras, 1),
    "install-dev": (install_dev, 2),
    "lock-tools": (lock_tools, 1),
    "lock": (lock, 1),
}


def main(argv):
    check_interface()
    step, arity = STEPS.get(argv[0] if argv else "", (None, None))
    if step is None or (arity is not None and len(argv) - 1 != arity):
        fail(f"usage: step.py STEP [ARGUMENT...], with STEP one of {', '.join(STEPS)} (interface "
             f"{os.environ.get(DECLARED)}); see /wheels/build/step.py")
    step(*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
