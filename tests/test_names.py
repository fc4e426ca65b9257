import subprocess
import sys
from pathlib import Path

import pytest

from wheelbase.errors import UsageError
from wheelbase.names import check_service_name, slugify

HOOK = Path(__file__).resolve().parents[1] / "consumer-template" / "hooks" / "pre_gen_project.py"

GOOD = {"Orders API": "orders-api", "billing": "billing", "Payment_Service.v2": "payment-service-v2", "a1": "a1"}
BAD = ["", "1orders", "app", "Tests", "x", "orders; rm -rf /", "orders`id`", "{{ 7*7 }}", "$(whoami)", "o" * 64,
       "orders/api", "orders\napi", "two  spaces", "Ørders", "--orders"]


@pytest.mark.parametrize(("name", "slug"), GOOD.items())
def test_accepts_plain_names(name: str, slug: str) -> None:
    assert check_service_name(name) == slug


@pytest.mark.parametrize("name", BAD)
def test_refuses_bad_names_with_the_rule(name: str) -> None:
    with pytest.raises(UsageError, match="service name"):
        check_service_name(name)


def _hook_verdict(name: str, tmp_path: Path) -> bool:
    """Runs the template's hook as cookiecutter would, with the rendered name and slug."""
    slug = slugify(name)
    source = HOOK.read_text()
    for key, value in {"service_name": name, "service_slug": slug, "port": "8000"}.items():
        source = source.replace(f"{{{{ cookiecutter.{key} | tojson }}}}", repr(value))
    script = tmp_path / "hook.py"
    script.write_text(source)
    return subprocess.run([sys.executable, str(script)], capture_output=True).returncode == 0


@pytest.mark.parametrize("name", [*GOOD, *BAD])
def test_template_hook_agrees_with_the_cli(name: str, tmp_path: Path) -> None:
    try:
        check_service_name(name)
        cli_accepts = True
    except UsageError:
        cli_accepts = False
    assert _hook_verdict(name, tmp_path) == cli_accepts
