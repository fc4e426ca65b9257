"""The stand-ins .ci/provision makes from Debian's python3 packages (bookworm's, and trixie's for
arm64 under QEMU): installed with the byte-compile and the certificate update held back while the
packages install (.ci/standins/debian-python-hooks.sh), they must end as a whole Debian system
with the official images' one rule: no bytecode in the standard library."""

from __future__ import annotations

import pytest

from support import OTHER_PYTHON_IMAGE, STANDINS, run

pytestmark = pytest.mark.e2e

CHECK = """
set -e
echo "bytecode: $(find /usr/lib/python3* -name '*.pyc' | wc -l)"
echo "diversions: $(dpkg-divert --list | grep -c '\\.held' || true)"
echo "unconfigured: $(dpkg --audit | wc -l)"
echo "certificates: $(grep -c 'BEGIN CERTIFICATE' /etc/ssl/certs/ca-certificates.crt)"
python -c "import ssl, sys; ssl.create_default_context(); print('python:', sys.version.split()[0])"
"""


@pytest.mark.parametrize(("image", "version"), [
    (OTHER_PYTHON_IMAGE, "3.11"),
    pytest.param(STANDINS["STANDIN_ARM64_PYTHON_IMAGE"], "3.13", marks=pytest.mark.slow),
])
def test_a_debian_package_stand_in_is_whole_and_has_no_stdlib_bytecode(engine: None, image: str, version: str) -> None:
    # Python runs last: under QEMU, every module it imports is compiled first (a minute for pip's).
    done = run("docker", "run", "--rm", "--network", "none", image, "sh", "-c", CHECK)
    facts = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    assert facts["python"].startswith(f"{version}."), done.stdout
    assert facts["bytecode"] == "0", "the standard library carries bytecode (the official images carry none)"
    assert facts["diversions"] == "0", "a program held back while the packages installed was never put back"
    assert facts["unconfigured"] == "0", "dpkg left packages half configured"
    assert int(facts["certificates"]) > 100, "no CA bundle: the certificate update held back never ran"
