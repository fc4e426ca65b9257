"""Registry failures are told apart by the status buildx reports (messages as buildx 0.13 prints them),
with every name and URL taken out first: a repository called `unauthorized` is not a 401."""

import re

import pytest

from wheelbase.engine import registry_failure, registry_timeout
from wheelbase.errors import UsageError
from wheelbase.image_ref import ImageRef

REF = ImageRef.parse("127.0.0.1:5911/unauthorized/not-found:denied")
URL = "http://127.0.0.1:5911/v2/unauthorized/not-found/manifests/denied"


@pytest.mark.parametrize(("detail", "says"), [
    (f"ERROR: unexpected status from HEAD request to {URL}: 500 Internal Server Error", "answered 500 Internal Server Error"),
    (f"ERROR: unexpected status from HEAD request to {URL}: 403 Forbidden", "denied access to .* \\(403\\)"),
    (f"ERROR: unexpected status from HEAD request to {URL}: 429 Too Many Requests", "rate-limiting"),
    ("ERROR: pull access denied, repository does not exist or may require authorization: authorization failed: "
     "no basic auth credentials", "requires a login \\(401\\)"),
    ("ERROR: 127.0.0.1:5911/unauthorized/not-found:denied: not found", "does not exist in the registry"),
    (f'ERROR: failed to do request: Head "{URL}": dial tcp 127.0.0.1:5911: connect: connection refused', "refused the connection"),
    (f'ERROR: failed to do request: Head "{URL}": http: server gave HTTP response to HTTPS client', "speaks plain HTTP"),
])
def test_classified_by_status_not_by_names(detail: str, says: str) -> None:
    assert re.search(says, str(registry_failure(REF, detail)))


def test_a_500_from_a_repository_named_unauthorized_is_not_a_401() -> None:
    message = str(registry_failure(REF, f"ERROR: unexpected status from HEAD request to {URL}: 500 Internal Server Error"))
    assert "401" not in message and "login" not in message


def test_a_wrong_digest_is_not_a_missing_tag() -> None:
    ref = REF.with_digest("sha256:" + "9" * 64)
    message = str(registry_failure(ref, f"ERROR: {ref}: not found"))
    assert "no image sha256:9999" in message and "check the digest" in message


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1e9"])
def test_a_bad_timeout_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("WHEELBASE_REGISTRY_TIMEOUT", value)
    with pytest.raises(UsageError, match="WHEELBASE_REGISTRY_TIMEOUT"):
        registry_timeout()
