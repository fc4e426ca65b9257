"""What `wheelbase new` records as the template's source: a URL CI can reach, never credentials or a
local path; and that a signal never leaves a staging folder behind."""

import subprocess
import sys
from pathlib import Path

import pytest

from support import REPO
from wheelbase.errors import UsageError
from wheelbase.new import _literal, published_url


@pytest.mark.parametrize(("given", "recorded"), [
    ("https://github.com/acme/wheelbase", "https://github.com/acme/wheelbase"),
    ("git@github.com:acme/wheelbase.git", "https://github.com/acme/wheelbase.git"),  # CI runners have no SSH key
    ("ssh://git@github.com/acme/wheelbase.git", "https://github.com/acme/wheelbase.git"),
    ("file:///srv/git/wheelbase", "file:///srv/git/wheelbase"),
])
def test_the_recorded_url_is_one_ci_can_reach(given: str, recorded: str) -> None:
    assert published_url(given) == recorded


@pytest.mark.parametrize("given", ["https://user:tok3n@github.com/acme/wheelbase", "https://tok3n@github.com/acme/wheelbase"])
def test_credentials_are_refused_and_never_repeated(given: str) -> None:
    with pytest.raises(UsageError, match="carries credentials") as failed:
        published_url(given)
    assert "tok3n" not in str(failed.value)


@pytest.mark.parametrize("given", ["/work/wheelbase", "../wheelbase", "http://example.com/wheelbase"])
def test_a_local_path_or_plain_http_is_refused(given: str) -> None:
    with pytest.raises(UsageError, match="not an https://, ssh:// or file:// URL"):
        published_url(given)


def test_values_reach_cookiecutter_as_literals() -> None:
    from jinja2 import Environment

    value = "localhost:5000/w:py3.13-debian"
    assert Environment().from_string(_literal(value)).render() == value
    assert Environment().from_string(_literal("{{ 7*7 }}")).render() == "{{ 7*7 }}"


SIGNAL_IN_MKDTEMP = """
import os, signal, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from test_pin import Registry
from wheelbase.cli import Interrupted, _interrupt
from wheelbase.new import new
for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(signum, _interrupt)
real = tempfile.mkdtemp
def mkdtemp(*args, **kwargs):
    made = real(*args, **kwargs)
    if kwargs.get("prefix", "").startswith("."):  # the service's staging folder: made, not yet returned
        os.kill(os.getpid(), signal.SIGTERM)
    return made
tempfile.mkdtemp = mkdtemp
try:
    new("Orders API", Path(sys.argv[1]), "localhost:5000/w/wheelhouse:py3.13-debian", template=sys.argv[3], inspect=Registry())
except Interrupted:
    print("interrupted")
"""


def test_a_signal_as_the_staging_folder_is_made_leaves_nothing(tmp_path: Path) -> None:
    """Defect (found under load by e2e/test_interrupts.py): a SIGTERM landing inside mkdtemp, after
    the folder was made and before its name was kept, left `.orders-api.partial-*` behind. Here the
    signal is sent at exactly that moment, every time."""
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run([sys.executable, "-c", SIGNAL_IN_MKDTEMP, str(out), str(Path(__file__).parent), f"file://{REPO}"],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "interrupted", done.stderr
    assert list(out.iterdir()) == []
