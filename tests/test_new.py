"""What `wheelbase new` records as the template's source: a URL CI can reach, never credentials or a local path."""

import pytest

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
